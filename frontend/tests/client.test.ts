import { describe, expect, it, vi } from 'vitest'
import { createApi } from '@/api/client'
import { ApiError } from '@/api/errors'
import { memoryTokenStore } from '@/api/tokens'

const json = (status: number, body: unknown, type = 'application/json') =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } })

const ME = {
  user: { id: 1, kind: 'user', username: 'a', display_name: 'A' },
  role: 'cadre',
  branch: { id: 1, name: 'x', kind: 'county', path: '/1/' },
  permissions: [],
}

function server(handler: (req: Request) => Response | Promise<Response>) {
  const calls: Request[] = []
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(input, init)
    calls.push(req.clone())
    return handler(req)
  })
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls }
}

describe('api client middleware', () => {
  it('sends the bearer token', async () => {
    const s = server(() => json(200, ME))
    const { client } = createApi({
      baseUrl: 'http://t',
      fetch: s.fetch,
      tokens: memoryTokenStore({ access_token: 'A1', refresh_token: 'R1' }),
    })
    const { data } = await client.GET('/api/v1/auth/me')
    expect(data?.role).toBe('cadre')
    expect(s.calls[0].headers.get('Authorization')).toBe('Bearer A1')
  })

  it('refreshes once on 401 for calls in flight together and replays each call with the new token', async () => {
    let refreshes = 0
    const s = server(async (req) => {
      const url = new URL(req.url)
      if (url.pathname.endsWith('/auth/refresh')) {
        refreshes++
        const body = await req.json()
        expect(body.refresh_token).toBe('R1')
        await new Promise((r) => setTimeout(r, 10))
        return json(200, { access_token: 'A2', refresh_token: 'R2', token_type: 'bearer', expires_in: 1800 })
      }
      if (req.headers.get('Authorization') !== 'Bearer A2')
        return json(401, { title: '未登录或登录已失效', status: 401 }, 'application/problem+json')
      if (req.method === 'POST') return json(201, { echoed: await req.text() })
      return json(200, ME)
    })
    const tokens = memoryTokenStore({ access_token: 'A1', refresh_token: 'R1' })
    const { client } = createApi({ baseUrl: 'http://t', fetch: s.fetch, tokens })
    const post = client.POST('/api/v1/auth/logout', { body: { refresh_token: 'R1-body' } })
    const [a, b, c] = await Promise.all([client.GET('/api/v1/auth/me'), client.GET('/api/v1/auth/me'), post])
    expect(a.data?.role).toBe('cadre')
    expect(b.data?.role).toBe('cadre')
    // The replayed POST carries its original body.
    expect(JSON.stringify(c.data)).toContain('R1-body')
    expect(refreshes).toBe(1)
    expect(tokens.get()).toEqual({ access_token: 'A2', refresh_token: 'R2' })
  })

  it('drops the session when the refresh is refused', async () => {
    const lost = vi.fn()
    const s = server((req) =>
      new URL(req.url).pathname.endsWith('/auth/refresh')
        ? json(401, { title: '登录已失效' }, 'application/problem+json')
        : json(401, { title: '未登录或登录已失效' }, 'application/problem+json'),
    )
    const tokens = memoryTokenStore({ access_token: 'A1', refresh_token: 'R1' })
    const { client } = createApi({ baseUrl: 'http://t', fetch: s.fetch, tokens, onAuthLost: lost })
    await expect(client.GET('/api/v1/auth/me')).rejects.toBeInstanceOf(ApiError)
    expect(lost).toHaveBeenCalledOnce()
    expect(tokens.get()).toBeNull()
  })

  it('turns problem+json into an ApiError with the field messages', async () => {
    const problem = {
      type: 'urn:halfsky:problem:validation-error',
      title: '提交的内容有误',
      status: 422,
      detail: '请检查:username',
      errors: [
        { field: 'username', loc: ['body', 'username'], message: '至少需要 3 个字符' },
        { field: 'womens_home.venue', loc: ['body', 'womens_home', 'venue'], message: '不能超过 200 个字符' },
      ],
    }
    const s = server(() => json(422, problem, 'application/problem+json'))
    const { client } = createApi({
      baseUrl: 'http://t',
      fetch: s.fetch,
      tokens: memoryTokenStore({ access_token: 'A' }),
    })
    const err = await client.POST('/api/v1/users', { body: {} as never }).catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(422)
    expect(err.type).toBe('validation-error')
    expect(err.fields).toEqual({ username: '至少需要 3 个字符', 'womens_home.venue': '不能超过 200 个字符' })
    expect(err.isTransient).toBe(false)
  })

  it('keeps the allowed actions of an invalid transition', async () => {
    const s = server(() =>
      json(
        409,
        {
          type: 'urn:halfsky:problem:invalid-transition',
          title: '当前状态下不能执行此操作',
          status: 409,
          allowed: ['accept', 'escalate'],
        },
        'application/problem+json',
      ),
    )
    const { client } = createApi({
      baseUrl: 'http://t',
      fetch: s.fetch,
      tokens: memoryTokenStore({ access_token: 'A' }),
    })
    const err = (await client.GET('/api/v1/auth/me').catch((e) => e)) as ApiError
    expect(err.type).toBe('invalid-transition')
    expect(err.allowed).toEqual(['accept', 'escalate'])
    expect(err.detail).toBe('当前状态下不能执行此操作')
  })

  it('reports no signal as a transient network error', async () => {
    const fetch = vi.fn(async () => {
      throw new TypeError('Failed to fetch')
    }) as unknown as typeof globalThis.fetch
    const { client } = createApi({ baseUrl: 'http://t', fetch, tokens: memoryTokenStore({ access_token: 'A' }) })
    const err = (await client.GET('/api/v1/auth/me').catch((e) => e)) as ApiError
    expect(err).toBeInstanceOf(ApiError)
    expect(err.isNetwork).toBe(true)
    expect(err.isTransient).toBe(true)
    expect(err.detail).toContain('网络')
  })

  it('replays a keyed POST refused for an expired login under the same key, so a later resend is not a second record', async () => {
    // Like the server: a refused login stores nothing; any other answer is stored under its key and replayed.
    const stored = new Map<string, Response>()
    let created = 0
    const s = server(async (req) => {
      const url = new URL(req.url)
      if (url.pathname.endsWith('/auth/refresh')) return json(200, { access_token: 'A2', refresh_token: 'R2' })
      if (req.headers.get('Authorization') !== 'Bearer A2')
        return json(401, { title: '登录已失效' }, 'application/problem+json')
      const key = req.headers.get('Idempotency-Key') as string
      if (!stored.has(key)) {
        created++
        stored.set(key, json(201, { id: 7 }))
      }
      return stored.get(key)!.clone()
    })
    const tokens = memoryTokenStore({ access_token: 'A1', refresh_token: 'R1' })
    const { client } = createApi({ baseUrl: 'http://t', fetch: s.fetch, tokens })
    const send = () =>
      client.POST('/api/v1/auth/logout', { body: { refresh_token: 'x' }, headers: { 'Idempotency-Key': 'form-1' } })
    expect((await send()).data).toEqual({ id: 7 })
    // The answer was lost on the way; the phone resends the same form, again with a lapsed token.
    tokens.set({ access_token: 'A1', refresh_token: 'R2' })
    expect((await send()).data).toEqual({ id: 7 })
    expect(created).toBe(1)
    expect([...stored.keys()]).toEqual(['form-1'])
  })
})
