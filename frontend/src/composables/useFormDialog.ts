import { reactive, ref, type InjectionKey } from 'vue'
import type { FormInstance } from 'element-plus'
import { submitForm, useServerErrors } from '@/composables/useForm'

export type ServerErrors = ReturnType<typeof useServerErrors>
/** FormDialog provides its errors so each FormField shows the server's message at its own field. */
export const FORM_ERRORS: InjectionKey<ServerErrors> = Symbol('form-errors')

export interface FormDialogOptions<M extends object, R> {
  /** A fresh model for a new record. */
  blank: () => M
  /** The model for editing an existing record (merged over blank()). */
  fill?: (row: R) => Partial<M>
  /** Send the form; `editing` is the row being edited, null when creating. */
  submit: (model: M, editing: R | null) => Promise<unknown>
  /** Message shown on success ('' for none). */
  success?: string | ((editing: R | null) => string)
  /** After a successful save (the dialog is closed already): reload the list, open the new record... */
  done?: (result: unknown, editing: R | null) => unknown
}

/** A create/edit dialog: open it blank or on a row, validate, send, show server errors at their fields, close. */
export function useFormDialog<M extends object, R = unknown>(options: FormDialogOptions<M, R>) {
  const state = reactive({ visible: false, busy: false, editing: null as R | null })
  const model = reactive(options.blank()) as M
  const form = ref<FormInstance>()
  const errors = useServerErrors()

  function open(row?: R | null) {
    state.editing = (row ?? null) as never
    const fresh = options.blank() as Record<string, unknown>
    for (const k of Object.keys(model)) if (!(k in fresh)) delete (model as Record<string, unknown>)[k]
    Object.assign(model, fresh, row && options.fill ? options.fill(row) : {})
    errors.clear()
    form.value?.clearValidate()
    state.visible = true
  }

  function close() {
    state.visible = false
  }

  async function save(): Promise<boolean> {
    if (state.busy) return false
    state.busy = true
    const editing = state.editing as R | null
    let result: unknown
    const message = typeof options.success === 'function' ? options.success(editing) : (options.success ?? '已保存')
    try {
      const done = await submitForm(
        form.value,
        errors,
        async () => {
          result = await options.submit(model, editing)
        },
        message,
      )
      if (done) {
        state.visible = false
        await options.done?.(result, editing)
      }
      return done
    } finally {
      state.busy = false
    }
  }

  return { state, model, form, errors, open, close, save }
}

export type FormDialog<M extends object = Record<string, unknown>, R = unknown> = ReturnType<typeof useFormDialog<M, R>>
