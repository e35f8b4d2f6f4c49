import { computed, type MaybeRefOrGetter, toValue } from 'vue'
import { useSession } from '@/stores/session'

let inFlight: Promise<void> | null = null

/** Load `/meta/dictionaries` once; every caller shares the one request, and later calls answer from the store. */
export function ensureDictionaries(): Promise<void> {
  const session = useSession()
  if (Object.keys(session.dictionaries).length) return Promise.resolve()
  if (!inFlight) {
    inFlight = session.loadDictionaries().finally(() => {
      inFlight = null
    })
  }
  return inFlight
}

export interface Option {
  value: string | number | boolean
  label: string
}

/** The options of one dictionary, optionally narrowed, as a computed list. */
export function useDictionary(dict: MaybeRefOrGetter<string | undefined>, filter?: (value: string) => boolean) {
  const session = useSession()
  ensureDictionaries().catch(() => undefined)
  return computed<Option[]>(() => {
    const name = toValue(dict)
    if (!name) return []
    const all = session.options(name)
    return filter ? all.filter((o) => filter(o.value)) : all
  })
}

export const YES_NO: Option[] = [
  { value: true, label: '是' },
  { value: false, label: '否' },
]
