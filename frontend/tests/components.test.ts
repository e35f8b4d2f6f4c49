import { afterEach, describe, expect, it, vi } from 'vitest'
import { mount, flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import ElementPlus from 'element-plus'
import { defineComponent, h } from 'vue'
import ActionDialog from '@/components/ActionDialog.vue'
import ActionButtons from '@/components/ActionButtons.vue'
import ListFrame from '@/components/ListFrame.vue'
import { useServerErrors } from '@/composables/useForm'
import { useList } from '@/composables/useList'
import { useAction } from '@/composables/useAction'
import { ApiError } from '@/api/errors'
import { useSession } from '@/stores/session'
import { timeLeft, validIdNumber } from '@/utils'

function withPinia() {
  const pinia = createPinia()
  setActivePinia(pinia)
  const session = useSession()
  session.dictionaries = { reply_method: { phone: '电话', sms: '短信' } }
  return pinia
}

describe('server errors on forms', () => {
  it('places each named field and keeps unknown ones as a general message', () => {
    const errors = useServerErrors()
    const err = new ApiError(422, {
      detail: '请检查',
      errors: [
        { field: 'username', message: '用户名已被使用' },
        { field: 'positions.0.title', message: '取值应为:主席' },
      ],
    })
    expect(errors.take(err)).toBe(true)
    expect(errors.fieldErrors.username).toBe('用户名已被使用')
    expect(errors.fieldErrors['positions.0.title']).toBe('取值应为:主席')
    const only = useServerErrors()
    only.take(err, ['username'])
    expect(only.fieldErrors).toEqual({ username: '用户名已被使用' })
    expect(only.general.value).toContain('positions.0.title')
    const plain = useServerErrors()
    expect(plain.take(new ApiError(409, { detail: '当前状态下不能执行此操作' }))).toBe(false)
    expect(plain.general.value).toBe('当前状态下不能执行此操作')
  })
})

describe('ActionDialog and useAction', () => {
  /** A fake server answering each POST with `answer` (or a problem+json when status is not 200). */
  function server(status = 200, answer: unknown = { id: 7, version: 4, allowed_actions: ['resolve'] }) {
    const calls: { url: URL; method: string; headers: Headers; body: unknown }[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
        const req = input instanceof Request ? input : new Request(input, init)
        const text = await req.text()
        calls.push({
          url: new URL(req.url, 'http://localhost'),
          method: req.method,
          headers: req.headers,
          body: text ? JSON.parse(text) : undefined,
        })
        return new Response(JSON.stringify(answer), {
          status,
          headers: { 'Content-Type': status === 200 ? 'application/json' : 'application/problem+json' },
        })
      }),
    )
    return calls
  }
  afterEach(() => {
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
  })

  const LABELS: Record<string, string> = { accept: '受理', reply: '答复来电人', close: '关闭', resolve: '办结' }
  function ticketAction(refreshed: unknown[]) {
    return useAction<{ id: number; version: number; allowed_actions: string[] }>('tickets', {
      steps: {
        accept: [],
        reply: [
          { key: 'method', label: '答复方式', type: 'select', dict: 'reply_method', required: true },
          { key: 'content', label: '答复内容', type: 'textarea', required: true },
          { key: 'note', label: '备注', type: 'text' },
        ],
      },
      label: (a) => LABELS[a] ?? a,
      refresh: (answer) => {
        refreshed.push(answer)
      },
    })
  }
  const TICKET = { id: 7, version: 3, allowed_actions: ['accept', 'reply', 'close'] }

  it('asks for required fields in Chinese before sending, then posts only filled values and refreshes', async () => {
    const pinia = withPinia()
    const calls = server()
    const refreshed: unknown[] = []
    const action = ticketAction(refreshed)
    const wrapper = mount(ActionDialog, {
      props: { action },
      global: { plugins: [pinia, ElementPlus], stubs: { transition: false, 'transition-group': false } },
      attachTo: document.body,
    })
    action.start(TICKET, 'reply')
    await flushPromises()
    expect(document.querySelector('.el-dialog__title')?.textContent).toBe('答复来电人')
    const submit = document.querySelector('[data-test=step-submit]') as HTMLButtonElement
    submit.click()
    await flushPromises()
    expect(action.errors.fieldErrors).toEqual({ method: '请填写答复方式', content: '请填写答复内容' })
    expect(document.querySelectorAll('.el-form-item.is-error')).toHaveLength(2)
    expect(calls).toHaveLength(0)

    const textarea = document.querySelector('textarea') as HTMLTextAreaElement
    textarea.value = '已电话答复'
    textarea.dispatchEvent(new Event('input'))
    ;(wrapper.vm as unknown as { $: { setupState: { body: Record<string, unknown> } } }).$.setupState.body.method =
      'phone'
    await flushPromises()
    submit.click()
    await flushPromises()
    expect(calls).toHaveLength(1)
    expect(calls[0].method).toBe('POST')
    expect(calls[0].url.pathname).toBe('/api/v1/tickets/7/actions/reply')
    expect(calls[0].headers.get('if-match')).toBe('"3"')
    expect(calls[0].body).toEqual({ method: 'phone', content: '已电话答复' })
    expect(refreshed).toEqual([{ id: 7, version: 4, allowed_actions: ['resolve'] }])
    expect(action.state.step).toBeNull()
    expect(document.querySelector('[data-test=step-submit]')).toBeNull()
    wrapper.unmount()
  })

  it('sends a step that asks for nothing at once, without a dialog', async () => {
    withPinia()
    const calls = server()
    const refreshed: unknown[] = []
    const action = ticketAction(refreshed)
    expect(await action.start(TICKET, 'accept')).toBe(true)
    expect(action.state.step).toBeNull()
    expect(calls.map((c) => c.url.pathname)).toEqual(['/api/v1/tickets/7/actions/accept'])
    expect(calls[0].body).toEqual({})
    expect(refreshed).toHaveLength(1)
  })

  it("names the server's allowed steps on a 409 and refreshes the record", async () => {
    withPinia()
    server(409, {
      type: 'urn:halfsky:problem:invalid-transition',
      title: 'Invalid transition',
      status: 409,
      detail: '当前状态下不能执行此操作',
      allowed: ['reply', 'close'],
    })
    const refreshed: unknown[] = []
    const action = ticketAction(refreshed)
    expect(await action.start(TICKET, 'accept')).toBe(false)
    expect(action.errors.general.value).toBe('当前状态下不能执行此操作(现在可以:答复来电人、关闭)')
    expect(refreshed).toEqual([null])

    server(409, { detail: '当前状态下不能执行此操作', allowed: [] })
    await action.send({}, 'accept')
    expect(action.errors.general.value).toBe('当前状态下不能执行此操作(现在没有可执行的操作)')

    // A conflict that is not about the step keeps its own words.
    server(409, { type: 'urn:halfsky:problem:conflict', detail: '该儿童已有进行中的结对' })
    await action.send({}, 'accept')
    expect(action.errors.general.value).toBe('该儿童已有进行中的结对')
    expect(refreshed).toEqual([null, null, null])
  })

  it("keeps the server's field message at its field and the dialog open", async () => {
    const pinia = withPinia()
    server(422, { detail: '请检查', errors: [{ field: 'content', message: '答复内容过长' }] })
    const refreshed: unknown[] = []
    const action = ticketAction(refreshed)
    const wrapper = mount(ActionDialog, {
      props: { action },
      global: { plugins: [pinia, ElementPlus], stubs: { transition: false, 'transition-group': false } },
      attachTo: document.body,
    })
    action.start(TICKET, 'reply')
    expect(await action.send({ method: 'phone', content: 'x' })).toBe(false)
    await flushPromises()
    expect(action.errors.fieldErrors).toEqual({ content: '答复内容过长' })
    expect(action.state.step).toBe('reply')
    expect(
      [...document.querySelectorAll('.el-form-item.is-error .el-form-item__label')].map((l) => l.textContent),
    ).toEqual(['答复内容'])
    expect(refreshed).toHaveLength(0)
    wrapper.unmount()
  })

  it("shows exactly the record's allowed actions as buttons, each opening its step", async () => {
    const pinia = withPinia()
    server()
    const action = ticketAction([])
    const buttons = mount(ActionButtons, {
      props: { action, record: TICKET, none: '当前没有可执行的操作' },
      global: { plugins: [pinia, ElementPlus] },
    })
    expect(buttons.findAll('[data-action]').map((b) => [b.attributes('data-action'), b.text()])).toEqual([
      ['accept', '受理'],
      ['reply', '答复来电人'],
      ['close', '关闭'],
    ])
    await buttons.get('[data-action=reply]').trigger('click')
    expect(action.state.step).toBe('reply')
    expect(action.state.record).toEqual(TICKET)
    const none = mount(ActionButtons, {
      props: { action, record: { id: 8, allowed_actions: [] }, none: '当前没有可执行的操作' },
      global: { plugins: [pinia, ElementPlus] },
    })
    expect(none.findAll('[data-action]')).toHaveLength(0)
    expect(none.text()).toBe('当前没有可执行的操作')
  })
})

describe('ListFrame', () => {
  // The real list logic on a fake server: the "at least" wording comes from the answer's total_exact, not the test.
  async function frame(page: Record<string, unknown>) {
    const calls: URL[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
        const req = input instanceof Request ? input : new Request(input, init)
        const url = new URL(req.url, 'http://localhost')
        calls.push(url)
        if (url.searchParams.get('format') === 'xlsx')
          return new Response(new Blob(['x']), {
            headers: { 'Content-Type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
          })
        return new Response(JSON.stringify({ limit: 20, offset: 0, ...page }), {
          headers: { 'Content-Type': 'application/json' },
        })
      }),
    )
    const pinia = withPinia()
    const Page = defineComponent({
      setup() {
        const list = useList('/api/v1/branches')
        return () => h(ListFrame, { list, filename: '组织', title: '组织与换届' }, { default: () => [] })
      },
    })
    const wrapper = mount(Page, { global: { plugins: [pinia, ElementPlus] } })
    await new Promise((r) => setTimeout(r, 10))
    await flushPromises()
    return { wrapper, calls }
  }
  afterEach(() => vi.unstubAllGlobals())

  it('says "至少 N 条" when the server answers total_exact: false', async () => {
    const { wrapper } = await frame({ items: [], total: 10000, total_exact: false })
    expect(wrapper.text()).toContain('组织与换届')
    expect(wrapper.get('[data-test=total]').text()).toBe('至少 10000 条')
  })

  it('says "共 N 条" for an exact total, also when total_exact is left out', async () => {
    expect((await frame({ items: [], total: 12, total_exact: true })).wrapper.get('[data-test=total]').text()).toBe(
      '共 12 条',
    )
    expect((await frame({ items: [], total: 3 })).wrapper.get('[data-test=total]').text()).toBe('共 3 条')
  })

  it('words the total itself from total and totalExact', async () => {
    const pinia = withPinia()
    const list = (total: number, totalExact: boolean) => ({
      state: { q: '', page: 1, pageSize: 20 },
      rows: [],
      total,
      totalExact,
      loading: false,
      exporting: false,
      error: '',
      search: () => 0,
      exportXlsx: () => 0,
      onSort: () => 0,
    })
    const shown = (total: number, exact: boolean) =>
      mount(ListFrame, {
        props: { list: list(total, exact), filename: 'x' },
        global: { plugins: [pinia, ElementPlus] },
      })
        .get('[data-test=total]')
        .text()
    expect(shown(10000, false)).toBe('至少 10000 条')
    expect(shown(10000, true)).toBe('共 10000 条')
    expect(shown(0, true)).toBe('共 0 条')
  })

  it('shows the create button unless the page says the user may not create', async () => {
    const { wrapper } = await frame({ items: [], total: 0 })
    expect(wrapper.find('[data-test=create]').exists()).toBe(false)
    const pinia = withPinia()
    const list = {
      state: { q: '', page: 1, pageSize: 20 },
      rows: [],
      total: 0,
      totalExact: true,
      loading: false,
      exporting: false,
      error: '',
      search: () => 0,
      exportXlsx: () => 0,
      onSort: () => 0,
    }
    let created = 0
    const shown = mount(ListFrame, {
      props: { list, filename: 'x', createText: '新建用户', onCreate: () => created++ },
      global: { plugins: [pinia, ElementPlus] },
    })
    await shown.get('[data-test=create]').trigger('click')
    expect(shown.get('[data-test=create]').text()).toBe('新建用户')
    expect(created).toBe(1)
    const hidden = mount(ListFrame, {
      props: { list, filename: 'x', createText: '新建用户', canCreate: false },
      global: { plugins: [pinia, ElementPlus] },
    })
    expect(hidden.find('[data-test=create]').exists()).toBe(false)
  })

  it('exports the same filtered list as Excel', async () => {
    URL.createObjectURL ??= () => 'blob:x'
    const { wrapper, calls } = await frame({ items: [], total: 1 })
    await wrapper.get('[data-test=export]').trigger('click')
    await flushPromises()
    expect(calls.some((u) => u.pathname === '/api/v1/branches' && u.searchParams.get('format') === 'xlsx')).toBe(true)
  })
})

describe('helpers', () => {
  it('checks the resident ID check digit', () => {
    expect(validIdNumber('11010519491231002X')).toBe(true)
    expect(validIdNumber('110105194912310021')).toBe(false)
    expect(validIdNumber('1101051949')).toBe(false)
  })
  it('says how long is left before a deadline, or how late it is', () => {
    const now = Date.parse('2026-03-08T00:00:00Z')
    expect(timeLeft('2026-03-08T05:00:00Z', now)).toEqual({ text: '还剩 5 小时', overdue: false })
    expect(timeLeft('2026-03-05T00:00:00Z', now)).toEqual({ text: '已超时 3 天', overdue: true })
    expect(timeLeft(null, now).text).toBe('')
  })
})
