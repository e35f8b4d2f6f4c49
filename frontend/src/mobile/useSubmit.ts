import { reactive, ref } from 'vue'
import { outbox, type StoredFile } from '@/api/outbox'
import { ApiError, errorMessage } from '@/api/errors'

/**
 * The server's refusal shown on the phone form: at the fields it names when the form shows them (`shown`), otherwise
 * as one general message.
 */
export function usePhoneErrors(shown: string[]) {
  const fieldErrors = reactive<Record<string, string>>({})
  const general = ref('')
  function clear() {
    for (const k of Object.keys(fieldErrors)) delete fieldErrors[k]
    general.value = ''
  }
  function take(err: unknown) {
    clear()
    if (err instanceof ApiError && Object.keys(err.fields).length) {
      const elsewhere: string[] = []
      for (const [field, message] of Object.entries(err.fields)) {
        const name = field.split('.')[0]
        if (shown.includes(name)) fieldErrors[name] = message
        else elsewhere.push(`${field}:${message}`)
      }
      general.value = elsewhere.join(';')
    } else general.value = errorMessage(err)
  }
  return { fieldErrors, general, clear, take }
}

/** Submit a phone form through the outbox: sent now when there is signal, kept and sent later when not. */
export function usePhoneSubmit(shown: string[]) {
  const errors = usePhoneErrors(shown)
  const busy = ref(false)
  const result = ref<'' | 'sent' | 'queued'>('')
  const reason = ref('')

  async function submit(
    kind: string,
    label: string,
    payload: Record<string, unknown>,
    files: StoredFile[] = [],
  ): Promise<boolean> {
    busy.value = true
    errors.clear()
    result.value = ''
    try {
      const r = await outbox().submit(kind, label, payload, files)
      result.value = r.sent ? 'sent' : 'queued'
      reason.value = r.sent ? '' : r.reason
      return true
    } catch (e) {
      errors.take(e)
      return false
    } finally {
      busy.value = false
    }
  }
  return { errors, busy, result, reason, submit }
}
