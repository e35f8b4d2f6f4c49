import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createRouter, createMemoryHistory } from 'vue-router'
import ElementPlus from 'element-plus'
import { defineComponent, h } from 'vue'
import ListFrame from '@/components/ListFrame.vue'
import DictSelect from '@/components/DictSelect.vue'
import { useList } from '@/composables/useList'
import { useSession } from '@/stores/session'
import TicketsView from '@/views/tickets/TicketsView.vue'
import ActivitiesView from '@/views/activities/ActivitiesView.vue'
import AuditView from '@/views/audit/AuditView.vue'

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
const ME = {
  user: { id: 1, kind: 'user', username: 'a', display_name: 'A' },
  role: 'county_admin',
  branch: { id: 1, name: '县妇联', kind: 'county', path: '/1/' },
  permissions: ['tickets:read', 'tickets:write', 'activities:read', 'activities:write'],
}
const DICTS = {
  ticket_status: { new: '新建', closed: '已结案' },
  activity_type: { training: '培训' },
  role: { county_admin: '县级管理员', cadre: '乡镇干部', health_bureau: '卫健局' },
}

/** A fake backend that records every request; pages are answered from `pages` by path. */
function fakeServer(pages: Record<string, unknown> = {}) {
  const calls: URL[] = []
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(input, init)
    const url = new URL(req.url, 'http://localhost')
    calls.push(url)
    if (url.pathname.endsWith('/meta/dictionaries')) return json(DICTS)
    const page = pages[url.pathname] ?? { items: [], total: 0, limit: 20, offset: 0 }
    return json(page)
  })
  vi.stubGlobal('fetch', fetch)
  return { calls, to: (path: string) => calls.filter((u) => u.pathname === `/api/v1${path}`) }
}

async function wait(ms: number) {
  await new Promise((r) => setTimeout(r, ms))
  await flushPromises()
}

function setup(dictionaries: Record<string, Record<string, string>> = DICTS) {
  const pinia = createPinia()
  setActivePinia(pinia)
  const session = useSession()
  session.me = ME as never
  session.dictionaries = dictionaries
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [{ path: '/:p(.*)*', component: { render: () => null } }],
  })
  return { pinia, router, session }
}

beforeEach(() => {
  document.body.innerHTML = ''
})
afterEach(() => {
  vi.unstubAllGlobals()
})

// Whole pages are mounted here: allow for a slow, shared machine.
describe('list pages send one request per change', { timeout: 30000 }, () => {
  it('tickets: ticking 只看超时 sends exactly one request, from the first page', async () => {
    const server = fakeServer({ '/api/v1/tickets': { items: [], total: 120, limit: 20, offset: 0 } })
    const { pinia, router } = setup()
    const wrapper = mount(TicketsView, { global: { plugins: [pinia, router, ElementPlus] }, attachTo: document.body })
    await wait(20)
    expect(server.to('/tickets')).toHaveLength(1)

    await wrapper.get('[data-test=overdue-filter] input').setValue(true)
    await wait(400)
    expect(server.to('/tickets')).toHaveLength(2)
    expect(server.to('/tickets')[1].searchParams.get('overdue')).toBe('true')

    // On a later page, a filter change goes back to the first page with one request, not two.
    const pager = wrapper.findComponent({ name: 'ElPagination' })
    pager.vm.$emit('update:current-page', 3)
    await wait(20)
    expect(server.to('/tickets')).toHaveLength(3)
    expect(server.to('/tickets')[2].searchParams.get('offset')).toBe('40')
    await wrapper.get('[data-test=overdue-filter] input').setValue(false)
    await wait(400)
    expect(server.to('/tickets')).toHaveLength(4)
    expect(server.to('/tickets')[3].searchParams.get('offset')).toBe('0')
    expect(server.to('/tickets')[3].searchParams.has('overdue')).toBe(false)
    wrapper.unmount()
  })

  it('activities: ticking 缺照片 sends exactly one request', async () => {
    const server = fakeServer()
    const { pinia, router } = setup()
    const wrapper = mount(ActivitiesView, {
      global: { plugins: [pinia, router, ElementPlus] },
      attachTo: document.body,
    })
    await wait(20)
    const before = server.to('/activities').length
    expect(before).toBe(1)
    const box = wrapper.findAll('.el-checkbox').find((c) => c.text().includes('缺照片'))!
    await box.get('input').setValue(true)
    await wait(400)
    expect(server.to('/activities')).toHaveLength(2)
    expect(server.to('/activities')[1].searchParams.get('missing_photos')).toBe('true')
    wrapper.unmount()
  })

  it('audit: a period sends from/to, one request per change', async () => {
    const server = fakeServer()
    const { pinia, router } = setup()
    const wrapper = mount(AuditView, { global: { plugins: [pinia, router, ElementPlus] }, attachTo: document.body })
    await wait(20)
    expect(server.to('/audit')).toHaveLength(1)
    const [start, end] = wrapper.get('[data-test=period]').findAllComponents({ name: 'ElDatePicker' })
    start.vm.$emit('update:modelValue', '2026-01-01')
    end.vm.$emit('update:modelValue', '2026-03-31')
    await wait(400)
    expect(server.to('/audit')).toHaveLength(2)
    expect(server.to('/audit')[1].searchParams.get('from')).toBe('2026-01-01')
    expect(server.to('/audit')[1].searchParams.get('to')).toBe('2026-03-31')
    end.vm.$emit('update:modelValue', null)
    await wait(400)
    expect(server.to('/audit')).toHaveLength(3)
    expect(server.to('/audit')[2].searchParams.get('from')).toBe('2026-01-01')
    expect(server.to('/audit')[2].searchParams.has('to')).toBe(false)
    wrapper.unmount()
  })

  it('查询 and a page-size change each send one request', async () => {
    const server = fakeServer()
    const { pinia } = setup()
    let list!: ReturnType<typeof useList<'/api/v1/branches'>>
    mount(
      defineComponent({
        setup: () => {
          list = useList('/api/v1/branches', { filters: { kind: [] } })
          return () => null
        },
      }),
      { global: { plugins: [pinia] } },
    )
    await wait(10)
    expect(server.to('/branches')).toHaveLength(1)
    list.state.page = 2
    list.state.q = '城关'
    list.search()
    await wait(10)
    expect(server.to('/branches')).toHaveLength(2)
    expect(server.to('/branches')[1].searchParams.get('q')).toBe('城关')
    list.state.pageSize = 50
    await wait(10)
    expect(server.to('/branches')).toHaveLength(3)
    expect(server.to('/branches')[2].searchParams.get('limit')).toBe('50')
  })
})

describe('ListFrame with the real list logic', () => {
  it("shows the server's refusal in Chinese above the table", async () => {
    const calls: string[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: RequestInfo | URL) => {
        calls.push(String(input instanceof Request ? input.url : input))
        return new Response(JSON.stringify({ title: 'Forbidden', status: 403, detail: '没有权限执行此操作' }), {
          status: 403,
          headers: { 'Content-Type': 'application/problem+json' },
        })
      }),
    )
    const { pinia } = setup()
    const Page = defineComponent({
      setup: () => {
        const list = useList('/api/v1/users')
        return () => h(ListFrame, { list, filename: '用户' }, { default: () => [] })
      },
    })
    const wrapper = mount(Page, { global: { plugins: [pinia, ElementPlus] } })
    await wait(20)
    expect(wrapper.text()).toContain('没有权限执行此操作')
    expect(wrapper.get('[data-test=total]').text()).toBe('共 0 条')
  })
})

describe('DictSelect', () => {
  it('loads /meta/dictionaries once for every select on the page, and leaves out excluded values', async () => {
    const server = fakeServer()
    const { pinia } = setup({})
    const Page = defineComponent({
      setup: () => () => [
        h(DictSelect, { dict: 'role', exclude: ['health_bureau'], as: 'radio' }),
        h(DictSelect, { dict: 'ticket_status', as: 'radio' }),
      ],
    })
    const wrapper = mount(Page, { global: { plugins: [pinia, ElementPlus] } })
    await wait(20)
    expect(server.to('/meta/dictionaries')).toHaveLength(1)
    const labels = wrapper.findAll('.el-radio').map((r) => r.text())
    expect(labels).toEqual(['县级管理员', '乡镇干部', '新建', '已结案'])
    mount(Page, { global: { plugins: [pinia, ElementPlus] } })
    await wait(20)
    expect(server.to('/meta/dictionaries')).toHaveLength(1)
  })
})
