import createClient, { type Middleware } from 'openapi-fetch'
import type { paths } from './schema'
import { ApiError } from './errors'
import { localTokenStore, type TokenStore, type Tokens } from './tokens'

export const API_BASE = '/api/v1'

export interface ClientOptions {
  baseUrl?: string
  tokens?: TokenStore
  fetch?: typeof globalThis.fetch
  /** Called when the session cannot be renewed (refresh refused): the app sends the user to log in. */
  onAuthLost?: () => void
}

const NO_AUTH = ['/auth/token', '/auth/refresh']

/**
 * The one middleware: bearer token on every call, one shared refresh when a call answers 401 (then the call is
 * replayed once), and every failure thrown as an ApiError carrying the problem+json field messages.
 */
export function authMiddleware(opts: Required<Pick<ClientOptions, 'tokens' | 'fetch'>> & ClientOptions): Middleware {
  const { tokens, fetch: doFetch } = opts
  const base = opts.baseUrl ?? ''
  const originals = new Map<string, Request>()
  let refreshing: Promise<Tokens | null> | null = null

  const isAuthCall = (url: string) => NO_AUTH.some((p) => new URL(url, 'http://x').pathname.endsWith(p))

  async function refresh(): Promise<Tokens | null> {
    const current = tokens.get()
    if (!current?.refresh_token) return null
    const response = await doFetch(`${base}${API_BASE}/auth/refresh`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: current.refresh_token }),
    }).catch(() => {
      throw ApiError.network()
    })
    if (!response.ok) {
      if (response.status === 401 || response.status === 400 || response.status === 422) return null
      throw await ApiError.fromResponse(response)
    }
    const fresh = (await response.json()) as Tokens
    const next = { access_token: fresh.access_token, refresh_token: fresh.refresh_token ?? current.refresh_token }
    tokens.set(next)
    return next
  }

  /** Single flight: every call that sees 401 at the same time waits for the same refresh. */
  function refreshOnce(): Promise<Tokens | null> {
    if (!refreshing) {
      refreshing = refresh().finally(() => {
        refreshing = null
      })
    }
    return refreshing
  }

  return {
    async onRequest({ request, id }) {
      const token = tokens.get()?.access_token
      if (token && !isAuthCall(request.url)) request.headers.set('Authorization', `Bearer ${token}`)
      originals.set(id, request.clone())
      return request
    },
    async onResponse({ request, response, id }) {
      const original = originals.get(id)
      originals.delete(id)
      let final = response
      if (response.status === 401 && !isAuthCall(request.url) && original) {
        const sentWith = request.headers.get('Authorization')
        const current = tokens.get()
        // Another call may have refreshed already while this one was in flight.
        const renewed = current && `Bearer ${current.access_token}` !== sentWith ? current : await refreshOnce()
        if (!renewed) {
          tokens.set(null)
          opts.onAuthLost?.()
        } else {
          const retry = new Request(original)
          retry.headers.set('Authorization', `Bearer ${renewed.access_token}`)
          // Same Idempotency-Key: the server stores no answer for a refused login, and a later resend of this form
          // must meet this attempt's answer, never make a second record.
          final = await doFetch(retry).catch((e) => {
            throw ApiError.network(e)
          })
        }
      }
      if (!final.ok) throw await ApiError.fromResponse(final)
      return final
    },
    onError({ error, id }) {
      originals.delete(id)
      if (error instanceof ApiError) return error
      return ApiError.network(error)
    },
  }
}

export function createApi(options: ClientOptions = {}) {
  const tokens = options.tokens ?? localTokenStore()
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init))
  const client = createClient<paths>({ baseUrl: options.baseUrl ?? '', fetch: doFetch })
  client.use(authMiddleware({ ...options, tokens, fetch: doFetch }))
  return { client, tokens }
}

/**
 * Unwrap an openapi-fetch answer as JSON: the middleware has already thrown on failures. (List routes also
 * declare their Excel form, which the JSON call never gets.)
 */
export async function ok<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<Exclude<T, string>> {
  const { data, response } = await call
  if (!response.ok) throw await ApiError.fromResponse(response)
  return data as Exclude<T, string>
}

let onAuthLost: () => void = () => {}
export function setAuthLostHandler(fn: () => void) {
  onAuthLost = fn
}

export const { client: api, tokens } = createApi({ onAuthLost: () => onAuthLost() })
export type Api = typeof api
