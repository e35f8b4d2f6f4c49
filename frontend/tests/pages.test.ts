import { afterEach, describe, expect, it, vi } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import ElementPlus from 'element-plus'
import { useSession } from '@/stores/session'
import ImportsView from '@/views/imports/ImportsView.vue'
import SettingsView from '@/views/settings/SettingsView.vue'
import FollowUpBoard from '@/views/screening/FollowUpBoard.vue'

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
const job = (over: Record<string, unknown>) => ({
  id: 5,
  kind: 'screenings.import_women',
  status: 'running',
  filename: '名册.xlsx',
  created_by_name: '周桂兰',
  total_rows: 200,
  rows_done: 50,
  rows_failed: 0,
  result: null,
  error: null,
  started_at: null,
  finished_at: null,
  created_at: '2026-12-01T08:00:00Z',
  updated_at: '2026-12-01T08:00:00Z',
  has_failed_rows: false,
  failed_rows_url: null,
  ...over,
})

function setup(permissions: string[]) {
  const pinia = createPinia()
  setActivePinia(pinia)
  const session = useSession()
  session.me = {
    user: { id: 1, kind: 'user', username: 'a', display_name: 'A' },
    role: 'county_admin',
    branch: { id: 1, name: '县妇联', kind: 'county', path: '/1/' },
    permissions,
  } as never
  session.dictionaries = {
    job_status: { queued: '排队中', running: '进行中', done: '已完成', failed: '失败' },
    ticket_urgency: { normal: '一般' },
    sla_unit: { hours: '小时', working_days: '工作日' },
  }
  return pinia
}

afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('Excel imports page', () => {
  it('asks a running job for its progress until it is done, then offers its failed rows', async () => {
    vi.useFakeTimers()
    const polls: string[] = []
    let progress = 0
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
        const url = new URL((input instanceof Request ? input : new Request(input, init)).url, 'http://localhost')
        if (url.pathname === '/api/v1/jobs') return json({ items: [job({})], total: 1, limit: 20, offset: 0 })
        if (url.pathname === '/api/v1/jobs/5') {
          polls.push(url.pathname)
          progress++
          return json(
            progress < 2
              ? job({ rows_done: 150 })
              : job({
                  status: 'done',
                  rows_done: 200,
                  rows_failed: 3,
                  has_failed_rows: true,
                  result: { rows: 200, created: 197, error: 3 },
                }),
          )
        }
        return json({ items: [], total: 0, limit: 30, offset: 0 })
      }),
    )
    const wrapper = mount(ImportsView, { global: { plugins: [setup(['jobs:read']), ElementPlus] } })
    await vi.advanceTimersByTimeAsync(10)
    expect(wrapper.text()).toContain('已处理 50 / 200 行')
    expect(wrapper.find('[data-test=upload-women]').exists()).toBe(false) // no women:write: no upload form

    await vi.advanceTimersByTimeAsync(2000)
    expect(wrapper.text()).toContain('已处理 150 / 200 行')
    await vi.advanceTimersByTimeAsync(2000)
    expect(wrapper.get('[data-status]').attributes('data-status')).toBe('done')
    expect(wrapper.text()).toContain('3 行未导入')
    expect(wrapper.text()).toContain('新增 197')
    expect(wrapper.find('[data-test=failed-rows]').exists()).toBe(true)

    await vi.advanceTimersByTimeAsync(10000)
    expect(polls).toHaveLength(2) // nothing left running: no more polling
    wrapper.unmount()
  })

  it('refuses to upload without a file, at the file field', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json({ items: [], total: 0, limit: 20, offset: 0 })),
    )
    const wrapper = mount(ImportsView, { global: { plugins: [setup(['jobs:read', 'women:write']), ElementPlus] } })
    await flushPromises()
    await wrapper.get('[data-test=start-women]').trigger('click')
    await flushPromises()
    const item = wrapper.get('[data-test=upload-women]').findAllComponents({ name: 'ElFormItem' })[0]
    expect(item.props('error')).toBe('请先选择要导入的 Excel 文件(.xlsx)')
    wrapper.unmount()
  })
})

describe('SLA settings', () => {
  it('names an empty deadline at its field and sends nothing; a server refusal lands at the field it names', async () => {
    const puts: unknown[] = []
    const rules = {
      items: [
        {
          urgency: 'normal',
          first_response: { amount: 1, unit: 'hours' },
          resolution: { amount: 15, unit: 'working_days' },
        },
      ],
    }
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
        const req = input instanceof Request ? input : new Request(input, init)
        const url = new URL(req.url, 'http://localhost')
        if (url.pathname === '/api/v1/tickets/sla' && req.method === 'PUT') {
          puts.push(await req.json())
          return new Response(
            JSON.stringify({
              title: 'Unprocessable',
              status: 422,
              detail: '请检查',
              errors: [{ field: 'items.0.resolution.amount', message: '办结时限过长' }],
            }),
            { status: 422, headers: { 'Content-Type': 'application/problem+json' } },
          )
        }
        if (url.pathname === '/api/v1/tickets/sla') return json(rules)
        return json({ year: 2026, days: [], overrides: [] })
      }),
    )
    const wrapper = mount(SettingsView, {
      global: { plugins: [setup(['settings:admin', 'tickets:read']), ElementPlus] },
    })
    await flushPromises()
    const vm = wrapper.vm as unknown as { rules: typeof rules.items }
    vm.rules[0].first_response.amount = null as never
    await wrapper.get('[data-test=save-sla]').trigger('click')
    await flushPromises()
    const items = wrapper.get('[data-test=sla]').findAllComponents({ name: 'ElFormItem' })
    expect(items[0].props('error')).toBe('请填写时限(1–1000)')
    expect(puts).toHaveLength(0)

    vm.rules[0].first_response.amount = 2
    await wrapper.get('[data-test=save-sla]').trigger('click')
    await flushPromises()
    expect(puts).toEqual([
      {
        items: [
          {
            urgency: 'normal',
            first_response: { amount: 2, unit: 'hours' },
            resolution: { amount: 15, unit: 'working_days' },
          },
        ],
      },
    ])
    expect(items[0].props('error')).toBeUndefined()
    expect(items[1].props('error')).toBe('办结时限过长')
    wrapper.unmount()
  })
})

describe('follow-up board', { timeout: 30000 }, () => {
  it("shows each woman's name from the list answer (no request per woman) and the steps the server allows", async () => {
    const calls: URL[] = []
    const card = (id: number, status: string, name: string) => ({
      id,
      woman_id: 100 + id,
      woman_name: name,
      kind: 'cervical',
      status,
      overdue: false,
      due_on: '2026-12-20',
      visit_count: 0,
    })
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
        const req = input instanceof Request ? input : new Request(input, init)
        const url = new URL(req.url, 'http://localhost')
        calls.push(url)
        if (url.pathname === '/api/v1/follow-ups') {
          const status = url.searchParams.get('status')
          const items = status === 'pending_notice' ? [card(1, status, '王秀英'), card(2, status, '李桂芳')] : []
          return json({ items, total: items.length, limit: 50, offset: 0 })
        }
        if (url.pathname === '/api/v1/follow-ups/1')
          return json({ ...card(1, 'pending_notice', '王秀英'), events: [], allowed_actions: ['notify', 'lose'] })
        return json({ detail: 'not here' }, 404)
      }),
    )
    const pinia = setup(['followups:read', 'followups:write'])
    useSession().dictionaries = {
      screening_kind: { cervical: '宫颈癌', breast: '乳腺癌' },
      follow_up_status: { pending_notice: '待告知' },
    }
    const wrapper = mount(FollowUpBoard, { global: { plugins: [pinia, ElementPlus] }, attachTo: document.body })
    await new Promise((r) => setTimeout(r, 20))
    await flushPromises()
    const cards = wrapper.findAll('[data-column=pending_notice] .card')
    expect(cards.map((c) => c.find('b').text())).toEqual(['王秀英', '李桂芳'])
    expect(calls.filter((u) => u.pathname === '/api/v1/follow-ups')).toHaveLength(5)
    expect(calls.filter((u) => u.pathname.startsWith('/api/v1/women'))).toHaveLength(0)

    await cards[0].trigger('click')
    await flushPromises()
    expect(document.querySelector('.el-drawer__title')?.textContent).toContain('王秀英')
    const buttons = [...document.querySelectorAll('.el-drawer [data-action]')]
    expect(buttons.map((b) => [b.getAttribute('data-action'), b.textContent?.trim()])).toEqual([
      ['notify', '告知结果'],
      ['lose', '失访'],
    ])
    expect(calls.filter((u) => u.pathname.startsWith('/api/v1/women'))).toHaveLength(0)
    wrapper.unmount()
  })
})
