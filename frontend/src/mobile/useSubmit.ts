import { ref } from 'vue'
import { outbox, type StoredFile } from '@/api/outbox'
import { useServerErrors } from '@/composables/useForm'

/** Submit a phone form through the outbox: sent now when there is signal, kept and sent later when not. */
export function usePhoneSubmit() {
  const errors = useServerErrors()
  const busy = ref(false)
  const result = ref<'' | 'sent' | 'queued'>('')
  const reason = ref('')

  async function submit(kind: string, label: string, payload: Record<string, unknown>, files: StoredFile[] = []): Promise<boolean> {
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
