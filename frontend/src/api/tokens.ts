/** Access and refresh tokens, kept in localStorage so a reload keeps the session. */
export interface Tokens {
  access_token: string
  refresh_token?: string | null
}

export interface TokenStore {
  get(): Tokens | null
  set(tokens: Tokens | null): void
}

const KEY = 'halfsky.tokens'

export function memoryTokenStore(initial: Tokens | null = null): TokenStore {
  let value = initial
  return { get: () => value, set: (t) => (value = t) }
}

export function localTokenStore(): TokenStore {
  return {
    get() {
      try {
        const raw = localStorage.getItem(KEY)
        return raw ? (JSON.parse(raw) as Tokens) : null
      } catch {
        return null
      }
    },
    set(tokens) {
      if (tokens) localStorage.setItem(KEY, JSON.stringify(tokens))
      else localStorage.removeItem(KEY)
    },
  }
}
