import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api, ok, tokens } from '@/api/client'
import { ApiError } from '@/api/errors'
import { setOutboxOwner } from '@/api/outbox'
import type { components } from '@/api/schema'

export type Me = components['schemas']['MeResponse']
export interface ScopeBranch {
  id: number
  name: string
}

/** Where each role starts after logging in. */
export function homeFor(role: string | undefined, permissions: string[] = []): string {
  if (role === 'village_rep' || role === 'carer') return '/m'
  if (role === 'hotline_operator' && permissions.includes('tickets:read')) return '/tickets'
  return '/dashboard'
}

const ME_KEY = 'halfsky.me'
const DICT_KEY = 'halfsky.dictionaries'
function remember(key: string, value: unknown) {
  try {
    localStorage.setItem(key, JSON.stringify(value))
  } catch {
    /* storage full or blocked: the online path still works */
  }
}
function recall<T>(key: string): T | null {
  try {
    const raw = localStorage.getItem(key)
    return raw ? (JSON.parse(raw) as T) : null
  } catch {
    return null
  }
}
function forgetCached() {
  try {
    localStorage.removeItem(ME_KEY)
  } catch {
    /* nothing kept */
  }
}

export const useSession = defineStore('session', () => {
  const me = ref<Me | null>(null)
  const dictionaries = ref<Record<string, Record<string, string>>>({})
  const scope = ref<ScopeBranch | null>(null)

  const loggedIn = computed(() => !!me.value)
  const permissions = computed(() => new Set(me.value?.permissions ?? []))
  const can = (perm: string) => permissions.value.has(perm)
  /** The branch every page is narrowed to: the chosen tree node, else the user's own branch. */
  const scopeBranch = computed<ScopeBranch | null>(
    () => scope.value ?? (me.value ? { id: me.value.branch.id, name: me.value.branch.name } : null),
  )
  const underParam = computed(() =>
    scope.value && me.value && scope.value.id !== me.value.branch.id ? scope.value.id : undefined,
  )
  const home = computed(() => homeFor(me.value?.role, me.value?.permissions))

  function label(dict: string, value: string | null | undefined): string {
    if (value === null || value === undefined || value === '') return ''
    return dictionaries.value[dict]?.[value] ?? value
  }
  function options(dict: string): { value: string; label: string }[] {
    return Object.entries(dictionaries.value[dict] ?? {}).map(([value, text]) => ({ value, label: text }))
  }

  async function loadDictionaries() {
    if (Object.keys(dictionaries.value).length) return
    dictionaries.value = await ok(api.GET('/api/v1/meta/dictionaries'))
    remember(DICT_KEY, dictionaries.value)
  }

  async function loadMe() {
    me.value = await ok(api.GET('/api/v1/auth/me'))
    setOutboxOwner(me.value.user.username)
    remember(ME_KEY, me.value)
    return me.value
  }

  /** With no signal, a phone that was signed in opens on what it last knew, so waiting forms can be seen. */
  function restoreOffline(): boolean {
    const cachedMe = recall<Me>(ME_KEY)
    const cachedDict = recall<Record<string, Record<string, string>>>(DICT_KEY)
    if (!cachedMe || !tokens.get()) return false
    me.value = cachedMe
    if (cachedDict) dictionaries.value = cachedDict
    setOutboxOwner(cachedMe.user.username)
    return true
  }

  /** Restore the session from stored tokens, if any. */
  async function restore(): Promise<boolean> {
    if (me.value) return true
    if (!tokens.get()) return false
    const fresh = Promise.all([loadMe(), loadDictionaries()])
    // Signed in on this device before: open at once on what it last knew (a weak signal can take seconds to answer,
    // or never), while the server is asked behind it; a login no longer valid still ends at /login (auth-lost handler).
    if (restoreOffline()) {
      fresh.catch(() => undefined)
      return true
    }
    try {
      await fresh
      return true
    } catch (e) {
      return e instanceof ApiError && e.isNetwork ? restoreOffline() : false
    }
  }

  async function login(username: string, password: string) {
    const body = new URLSearchParams({ grant_type: 'password', username, password })
    const data = await ok(
      api.POST('/api/v1/auth/token', {
        body: body as never,
        bodySerializer: (b: unknown) => b as URLSearchParams,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      }),
    )
    tokens.set({ access_token: data.access_token, refresh_token: data.refresh_token })
    scope.value = null
    await Promise.all([loadMe(), loadDictionaries()])
  }

  async function logout() {
    const refresh = tokens.get()?.refresh_token
    try {
      if (refresh) await api.POST('/api/v1/auth/logout', { body: { refresh_token: refresh } })
    } catch {
      /* leaving anyway */
    }
    tokens.set(null)
    me.value = null
    scope.value = null
    setOutboxOwner(undefined)
    forgetCached()
  }

  function forget() {
    tokens.set(null)
    me.value = null
    forgetCached()
  }

  return {
    me,
    dictionaries,
    scope,
    loggedIn,
    can,
    scopeBranch,
    underParam,
    home,
    label,
    options,
    loadDictionaries,
    loadMe,
    restore,
    login,
    logout,
    forget,
  }
})
