/** A failed API call, built from the server's problem+json (RFC 9457) or from a network failure. */
export interface ProblemField {
  field: string
  loc?: string[]
  message: string
}

export interface ProblemBody {
  type?: string
  title?: string
  status?: number
  detail?: string
  errors?: ProblemField[]
  allowed?: string[]
  [extra: string]: unknown
}

export class ApiError extends Error {
  readonly status: number
  readonly type: string
  readonly title: string
  readonly detail: string
  /** Field name (dotted, as the form calls it) → Chinese message. */
  readonly fields: Record<string, string>
  readonly body: ProblemBody

  constructor(status: number, body: ProblemBody) {
    const detail = body.detail || body.title || '请求失败'
    super(detail)
    this.name = 'ApiError'
    this.status = status
    this.type = (body.type || '').replace('urn:halfsky:problem:', '') || 'http-error'
    this.title = body.title || '请求失败'
    this.detail = detail
    this.body = body
    this.fields = {}
    for (const e of body.errors || []) {
      if (e.field && !(e.field in this.fields)) this.fields[e.field] = e.message
    }
  }

  /** No answer from the server at all: no signal, server down. Worth retrying later. */
  get isNetwork(): boolean {
    return this.status === 0
  }

  /** Retrying the same request later may succeed. */
  get isTransient(): boolean {
    return (
      this.status === 0 ||
      this.status === 429 ||
      this.status >= 500 ||
      (this.status === 409 && this.type === 'idempotency-in-progress')
    )
  }

  get allowed(): string[] {
    return Array.isArray(this.body.allowed) ? (this.body.allowed as string[]) : []
  }

  static network(cause?: unknown): ApiError {
    const err = new ApiError(0, { type: 'network', title: '网络不通', detail: '网络不通,请检查信号后重试' })
    if (cause) (err as { cause?: unknown }).cause = cause
    return err
  }

  static async fromResponse(response: Response): Promise<ApiError> {
    let body: ProblemBody = {}
    const text = await response
      .clone()
      .text()
      .catch(() => '')
    try {
      body = text ? (JSON.parse(text) as ProblemBody) : {}
    } catch {
      body = { detail: text.slice(0, 200) }
    }
    if (!body.title && !body.detail) body.detail = `请求失败(${response.status})`
    return new ApiError(response.status, body)
  }
}

/** The message to show for any error thrown by the client or the app. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.detail
  if (err instanceof Error) return err.message
  return String(err)
}
