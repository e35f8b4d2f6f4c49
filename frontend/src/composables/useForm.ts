import { reactive, ref } from 'vue'
import { ElMessage } from 'element-plus'
import type { FormInstance } from 'element-plus'
import { ApiError, errorMessage } from '@/api/errors'

/** Server field errors shown at the field they name (el-form-item :error), plus a general message. */
export function useServerErrors() {
  const fieldErrors = reactive<Record<string, string>>({})
  const general = ref('')

  function clear() {
    for (const k of Object.keys(fieldErrors)) delete fieldErrors[k]
    general.value = ''
  }

  /** Take an error from the API; answers true when it named at least one field. */
  function take(err: unknown, known?: string[]): boolean {
    clear()
    if (err instanceof ApiError && Object.keys(err.fields).length) {
      let placed = false
      for (const [field, message] of Object.entries(err.fields)) {
        const key = known?.find((k) => field === k || field.startsWith(k + '.')) ?? field
        if (!known || known.includes(key)) {
          fieldErrors[key] = message
          placed = true
        } else general.value = `${field}:${message}`
      }
      if (!placed) general.value = err.detail
      return placed
    }
    general.value = errorMessage(err)
    return false
  }

  return { fieldErrors, general, clear, take }
}

/** Validate the form, run the submit, map server errors onto fields; resolves true on success. */
export async function submitForm(
  form: FormInstance | undefined,
  errors: ReturnType<typeof useServerErrors>,
  action: () => Promise<unknown>,
  success = '已保存',
): Promise<boolean> {
  errors.clear()
  if (form) {
    const valid = await form.validate().catch(() => false)
    if (!valid) return false
  }
  try {
    await action()
    if (success) ElMessage.success(success)
    return true
  } catch (e) {
    errors.take(e)
    if (errors.general.value) ElMessage.error(errors.general.value)
    return false
  }
}
