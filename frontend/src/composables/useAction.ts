import { reactive } from 'vue'
import { ElMessage } from 'element-plus'
import { api, ok } from '@/api/client'
import { ApiError } from '@/api/errors'
import { useServerErrors } from '@/composables/useForm'

/** Every record with a workflow: its actions are `POST /{resource}/{id}/actions/{action}`. */
export type ActionResource = 'tickets' | 'follow-ups' | 'aid-applications' | 'activities' | 'pairings'

/** One field a step asks for, described as data; ActionDialog draws it. */
export interface StepField {
  key: string
  label: string
  type: 'text' | 'textarea' | 'select' | 'switch' | 'number' | 'date' | 'branch'
  dict?: string
  required?: boolean
  initial?: unknown
}

export interface ActionRecord {
  id: number
  /** Sent as If-Match where the record carries a version (tickets). */
  version?: number
  allowed_actions?: string[]
}

export interface ActionOptions<R extends ActionRecord> {
  /** What each step asks for; a step with no fields is sent at once. */
  steps: Record<string, StepField[]>
  /** The Chinese name of a step: the dialog title, the button and "已…" on success. */
  label: (action: string) => string
  /** Shape the dialog's body before sending (e.g. a date into a timestamp). */
  body?: (action: string, body: Record<string, unknown>) => Record<string, unknown>
  /** Load the record again: after a step, and after a refusal that says the record has moved on (409, 412). */
  refresh: (answer: R | null, record: R, action: string) => unknown
}

/**
 * One workflow step on one record: open its dialog (or send at once when it asks for nothing), post the body,
 * show the server's field errors at their fields and its 409 `allowed` list in words, then refresh the record.
 */
export function useAction<R extends ActionRecord>(resource: ActionResource, options: ActionOptions<R>): Action<R> {
  const state = reactive({
    /** The step whose dialog is open. */
    step: null as string | null,
    /** The step being sent. */
    sending: null as string | null,
    record: null as R | null,
  }) as Action<R>['state']
  const errors = useServerErrors()

  const fields = (action: string) => options.steps[action] ?? []

  function start(record: R, action: string) {
    errors.clear()
    state.record = record as never
    if (!fields(action).length) return send({}, action)
    state.step = action
  }

  function close() {
    state.step = null
  }

  async function send(body: Record<string, unknown>, action = state.step): Promise<boolean> {
    const record = state.record as R | null
    if (!record || !action || state.sending) return false
    state.sending = action
    const header = record.version !== undefined ? { 'if-match': `"${record.version}"` } : undefined
    try {
      const answer = (await ok(
        (api.POST as (p: string, o: unknown) => Promise<{ data?: unknown; response: Response }>)(
          `/api/v1/${resource}/${record.id}/actions/${action}`,
          { params: { header }, body: options.body ? options.body(action, { ...body }) : body },
        ),
      )) as R | null
      state.step = null
      ElMessage.success(`已${options.label(action)}`)
      await options.refresh(answer ?? null, record, action)
      return true
    } catch (e) {
      errors.take(e)
      // An invalid transition names the steps the record allows now; other conflicts keep their own words.
      if (e instanceof ApiError && e.status === 409 && Array.isArray(e.body.allowed)) {
        const allowed = e.allowed.map(options.label).join('、')
        errors.general.value = `${e.detail}(${allowed ? `现在可以:${allowed}` : '现在没有可执行的操作'})`
      }
      if (e instanceof ApiError && (e.status === 409 || e.status === 412)) await options.refresh(null, record, action)
      if (errors.general.value) ElMessage.error(errors.general.value)
      return false
    } finally {
      state.sending = null
    }
  }

  return { state, errors, fields, label: options.label, start, close, send }
}

/** What ActionDialog and ActionButtons need of a `useAction` (methods, so a ticket's action fits any record's). */
export interface Action<R extends ActionRecord = ActionRecord> {
  state: { step: string | null; sending: string | null; record: R | null }
  errors: ReturnType<typeof useServerErrors>
  fields(action: string): StepField[]
  label(action: string): string
  start(record: R, action: string): unknown
  close(): void
  send(body: Record<string, unknown>, action?: string | null): Promise<boolean>
}
