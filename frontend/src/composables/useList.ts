import { reactive, ref, watch, type Ref } from 'vue'
import { ElMessage } from 'element-plus'
import { api } from '@/api/client'
import type { paths } from '@/api/schema'
import { errorMessage } from '@/api/errors'
import { useSession } from '@/stores/session'

type JsonOf<R> = R extends { content: { 'application/json': infer J } } ? J : never
type GetOk<P extends keyof paths> = paths[P] extends { get: { responses: { 200: infer R } } } ? JsonOf<R> : never
/** Every path whose GET answers a page {items, total, ...}. */
export type ListPath = {
  [P in keyof paths]: GetOk<P> extends { items: unknown[]; total: number } ? P : never
}[keyof paths]
export type ItemOf<P extends ListPath> = GetOk<P> extends { items: (infer I)[] } ? I : never
type QueryOf<P extends ListPath> = paths[P] extends { get: { parameters: { query?: infer Q } } }
  ? NonNullable<Q>
  : never

export interface ListOptions<P extends ListPath> {
  /** Filters bound to the form, named as the route's query parameters (checked by vue-tsc); empty values are not sent. */
  filters?: { [K in keyof QueryOf<P>]?: unknown }
  /** Path parameters, e.g. {branch_id: 1}. */
  path?: () => Record<string, unknown>
  /** Send `under=<chosen branch>` from the org tree (default true). */
  scoped?: boolean
  sort?: string
  pageSize?: number
  immediate?: boolean
  extra?: () => Partial<QueryOf<P>> & Record<string, unknown>
}

function clean(query: Record<string, unknown>) {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(query)) {
    if (v === '' || v === null || v === undefined || (Array.isArray(v) && !v.length)) continue
    out[k] = v
  }
  return out
}

export function saveBlob(blob: Blob, filename: string) {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

/** One list page: search, filters, paging, sort, Excel export, narrowed to the org tree's chosen branch. */
export function useList<P extends ListPath>(path: P, options: ListOptions<P> = {}) {
  const session = useSession()
  const rows = ref([]) as Ref<ItemOf<P>[]>
  const total = ref(0)
  const totalExact = ref(true)
  const loading = ref(false)
  const exporting = ref(false)
  const error = ref('')
  const state = reactive({ q: '', page: 1, pageSize: options.pageSize ?? 20, sort: options.sort ?? '' })
  const filters = reactive(options.filters ?? {}) as Record<string, unknown>

  function query(): Record<string, unknown> {
    const q: Record<string, unknown> = { ...filters, ...(options.extra?.() ?? {}), q: state.q.trim(), sort: state.sort }
    if (options.scoped !== false && session.underParam) q.under = session.underParam
    return clean(q)
  }

  let seq = 0
  async function load() {
    const mine = ++seq
    loading.value = true
    error.value = ''
    try {
      const { data } = await (api.GET as (p: string, o: unknown) => Promise<{ data?: unknown }>)(path, {
        params: {
          path: options.path?.(),
          query: { ...query(), limit: state.pageSize, offset: (state.page - 1) * state.pageSize },
        },
      })
      if (mine !== seq) return
      const page = data as { items: ItemOf<P>[]; total: number; total_exact?: boolean }
      rows.value = page.items
      total.value = page.total
      totalExact.value = page.total_exact !== false
    } catch (e) {
      if (mine === seq) {
        error.value = errorMessage(e)
        rows.value = []
        total.value = 0
      }
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  // Every trigger in the same tick (a filter, the page reset it causes, the page size, the tree) makes one request.
  let queued: Promise<void> | null = null
  function request(): Promise<void> {
    if (!queued) {
      queued = Promise.resolve().then(() => {
        queued = null
        return load()
      })
    }
    return queued
  }

  function search() {
    state.page = 1
    return request()
  }

  async function exportXlsx(filename = 'export') {
    exporting.value = true
    try {
      const { data } = await (api.GET as (p: string, o: unknown) => Promise<{ data?: unknown }>)(path, {
        params: { path: options.path?.(), query: { ...query(), format: 'xlsx' } },
        parseAs: 'blob',
      })
      saveBlob(data as Blob, `${filename}.xlsx`)
    } catch (e) {
      ElMessage.error(errorMessage(e))
    } finally {
      exporting.value = false
    }
  }

  function onSort({ prop, order }: { prop: string; order: 'ascending' | 'descending' | null }) {
    state.sort = order ? (order === 'descending' ? '-' : '') + prop : (options.sort ?? '')
    search()
  }

  watch(
    () => session.underParam,
    () => search(),
  )
  // A changed filter applies at once; the search box waits for Enter or 查询.
  let filterTimer: ReturnType<typeof setTimeout> | undefined
  watch(
    filters,
    () => {
      clearTimeout(filterTimer)
      filterTimer = setTimeout(() => search(), 250)
    },
    { deep: true },
  )
  watch(
    () => state.pageSize,
    () => search(),
  )
  watch(
    () => state.page,
    () => request(),
  )
  if (options.immediate !== false) request()

  return reactive({
    rows,
    total,
    /** False when the server stopped counting (a large list): `total` is then a lower bound. */
    totalExact,
    loading,
    exporting,
    error,
    state,
    filters,
    load: request,
    search,
    exportXlsx,
    onSort,
  })
}
