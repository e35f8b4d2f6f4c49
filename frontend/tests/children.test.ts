import 'fake-indexeddb/auto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { mount, flushPromises, RouterLinkStub } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { useSession } from '@/stores/session'
import { idb } from '@/api/outbox'
import '@/mobile/senders'
import {
  checkRules,
  checkVisit,
  childPayload,
  childRules,
  blankChild,
  blankVisit,
  dueState,
  fromIdNumber,
} from '@/mobile/childForm'
import ChildRegister from '@/mobile/ChildRegister.vue'
import CarerHome from '@/mobile/CarerHome.vue'
import ChildrenView from '@/views/children/ChildrenView.vue'
import ElementPlus from 'element-plus'
import { createMemoryHistory, createRouter } from 'vue-router'

/** A resident ID number with a correct GB 11643 check digit, and the same number with a wrong one. */
function idNumber(body17: string) {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
  const check = '10X98765432'[[...body17].reduce((s, d, i) => s + weights[i] * Number(d), 0) % 11]
  return { good: body17 + check, bad: body17 + (check === '0' ? '1' : '0') }
}
const TODAY = '2026-12-01'
const child = idNumber('43072520160405031') // born 2016-04-05, 17th digit odd: a boy
const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' },
  })

function setup(role: string, permissions: string[]) {
  const pinia = createPinia()
  setActivePinia(pinia)
  const session = useSession()
  session.me = {
    user: { id: 7, kind: 'user', username: 'village.rep', display_name: '张春梅' },
    role,
    branch: { id: 5, name: '桃花村', kind: 'village', path: '/1/2/5/' },
    permissions,
  } as never
  session.dictionaries = {
    child_sex: { male: '男', female: '女' },
    child_category: { left_behind_both_parents: '留守儿童(双亲外出)', orphan: '孤儿' },
    guardian_relation: { grandparent: '祖父母/外祖父母' },
    parent_work_place: { out_of_province: '省外' },
  }
  return pinia
}

afterEach(async () => {
  vi.unstubAllGlobals()
  for (const item of await idb.all()) await idb.delete(item.key)
  document.body.innerHTML = ''
})

describe('child registration rules', () => {
  const rules = childRules(TODAY)

  it('checks the ID number checksum before anything is sent, naming the field', () => {
    const base = { ...blankChild(), name: '李小明' }
    expect(checkRules(rules, { ...base, id_number: child.bad })).toEqual({
      id_number: '儿童身份证号不正确,请核对 18 位号码',
    })
    expect(checkRules(rules, { ...base, id_number: '4307252016' }).id_number).toBe(
      '儿童身份证号不正确,请核对 18 位号码',
    )
    expect(checkRules(rules, { ...base, id_number: child.good })).toEqual({})
    // A lower-case x is the same check digit.
    const withX = ['11010520100101001', '11010520100101002', '11010520100101003']
      .map((b) => idNumber(b).good)
      .find((n) => n.endsWith('X'))
    if (withX) expect(checkRules(rules, { ...base, id_number: withX.toLowerCase() })).toEqual({})
  })

  it('names the empty required fields and refuses a child aged 16 or more', () => {
    expect(checkRules(rules, { ...blankChild(), category: '' })).toEqual({
      name: '请填写儿童姓名',
      id_number: '请填写儿童身份证号',
      category: '请选择儿童类别',
    })
    const older = idNumber('43072520101130031').good // 16 on 2026-11-30
    expect(checkRules(rules, { ...blankChild(), name: '李大明', id_number: older }).id_number).toContain('已满 16 周岁')
    const younger = idNumber('43072520101202031').good // 16 only on 2026-12-02
    expect(checkRules(rules, { ...blankChild(), name: '李大明', id_number: younger })).toEqual({})
  })

  it('checks every phone with the shared pattern, the message naming whose phone it is', () => {
    const base = { ...blankChild(), name: '李小明', id_number: child.good }
    expect(checkRules(rules, { ...base, guardian_phone: '138-0736-1234', father_phone: '+86 13907361234' })).toEqual({})
    expect(checkRules(rules, { ...base, guardian_phone: '问村委会', mother_phone: '12' })).toEqual({
      guardian_phone: '监护人电话只能包含数字、+、- 和空格',
      mother_phone: '母亲电话只能包含数字、+、- 和空格',
    })
  })

  it('reads birth date and sex from the ID number, and sends the special needs as switches', () => {
    expect(fromIdNumber(child.good)).toEqual({ birth: '2016-04-05', sex: 'male' })
    expect(fromIdNumber(child.bad)).toBeNull()
    const body = childPayload({ ...blankChild(), name: ' 李小明 ', id_number: child.good, needs: ['out_of_school'] })
    expect(body).toMatchObject({ name: '李小明', disability: false, serious_illness: false, out_of_school: true })
    expect(body.school).toBeUndefined()
  })

  it('asks a visit for its date, mode and what was done, and a rights issue for what was found', () => {
    expect(checkVisit({ ...blankVisit(TODAY), mode: '' }, TODAY)).toEqual({
      mode: '请选择走访方式',
      done: '请填写走访做了什么',
    })
    expect(checkVisit({ ...blankVisit(TODAY), visited_on: '2026-12-02', done: '辅导作业' }, TODAY)).toEqual({
      visited_on: '走访日期不能晚于今天',
    })
    expect(checkVisit({ ...blankVisit(TODAY), done: '辅导作业', rights_issue: true }, TODAY)).toEqual({
      problems: '发现权益问题时请写明发现的问题',
    })
    expect(
      checkVisit({ ...blankVisit(TODAY), done: '辅导作业', rights_issue: true, problems: '监护人打骂' }, TODAY),
    ).toEqual({})
  })

  it('says who is overdue, due within a week, or not yet due', () => {
    expect(dueState('2026-11-30', TODAY)).toBe('overdue')
    expect(dueState('2026-12-01', TODAY)).toBe('due')
    expect(dueState('2026-12-08', TODAY)).toBe('due')
    expect(dueState('2026-12-09', TODAY)).toBe('ok')
    expect(dueState(null, TODAY)).toBe('due')
  })
})

describe('the phone form registering a child', () => {
  it('shows a wrong ID number and a wrong phone at their fields, then sends once with an Idempotency-Key', async () => {
    const posts: { body: Record<string, unknown>; key: string | null }[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
        const req = input instanceof Request ? input : new Request(input, init)
        const url = new URL(req.url, 'http://localhost')
        if (req.method === 'POST' && url.pathname === '/api/v1/children') {
          posts.push({ body: await req.json(), key: req.headers.get('Idempotency-Key') })
          return json({ id: 1 }, 201)
        }
        return json({ items: [], total: 0, limit: 20, offset: 0 })
      }),
    )
    const wrapper = mount(ChildRegister, {
      global: { plugins: [setup('village_rep', ['children:write'])], stubs: { RouterLink: RouterLinkStub } },
    })
    await wrapper.get('input[name=name]').setValue('李小明')
    await wrapper.get('input[name=id_number]').setValue(child.bad)
    await wrapper.get('input[name=guardian_phone]').setValue('问村委会')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    const messages = () => wrapper.findAll('.van-field__error-message').map((e) => e.text())
    expect(messages()).toContain('儿童身份证号不正确,请核对 18 位号码')
    expect(messages()).toContain('监护人电话只能包含数字、+、- 和空格')
    expect(posts).toHaveLength(0)

    await wrapper.get('input[name=id_number]').setValue(child.good)
    await wrapper.get('input[name=guardian_phone]').setValue('13807361234')
    await flushPromises()
    expect(wrapper.text()).toContain('出生 2016-04-05')
    await wrapper.get('form').trigger('submit')
    await flushPromises()
    await vi.waitFor(() => expect(wrapper.find('[data-test=sent]').exists()).toBe(true))
    expect(posts).toHaveLength(1)
    expect(posts[0].key).toBeTruthy()
    expect(posts[0].body).toMatchObject({
      name: '李小明',
      id_number: child.good,
      sex: 'male',
      category: 'left_behind_both_parents',
      guardian_phone: '13807361234',
      out_of_school: false,
    })
    expect(posts[0].body).not.toHaveProperty('branch_id') // her own village
    expect(await idb.all()).toHaveLength(0) // sent: nothing left waiting
    wrapper.unmount()
  })
})

describe("a carer's home", () => {
  it('lists only her children with what a visit needs, overdue first, each with 记录走访', async () => {
    const mine = [
      {
        id: 11,
        name: '王小红',
        age: 9,
        guardian_first_name: '桂英',
        village: '桃花村',
        pairing_id: 101,
        last_visit_on: '2026-11-20',
        next_visit_due_on: '2099-12-20',
      },
      {
        id: 12,
        name: '李小军',
        age: 7,
        guardian_first_name: null,
        village: '桃花村',
        pairing_id: 102,
        last_visit_on: null,
        next_visit_due_on: '2020-01-01',
      },
    ]
    const asked: string[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
        const url = new URL((input instanceof Request ? input : new Request(input, init)).url, 'http://localhost')
        asked.push(url.pathname)
        return json({ items: mine, total: 2, limit: 100, offset: 0 })
      }),
    )
    const wrapper = mount(CarerHome, {
      global: {
        plugins: [setup('carer', ['children:visit', 'pairings:visit'])],
        stubs: { RouterLink: RouterLinkStub },
      },
    })
    await flushPromises()
    expect(asked).toEqual(['/api/v1/children/mine'])
    const rows = wrapper.findAll('li')
    expect(rows.map((r) => r.attributes('data-state'))).toEqual(['overdue', 'ok'])
    expect(rows[0].text()).toContain('李小军')
    expect(rows[0].text()).toContain('7 岁 · 桃花村')
    expect(rows[0].text()).toContain('已超期')
    expect(rows[1].text()).toContain('监护人:桂英')
    expect(wrapper.get('[data-test=overdue-count]').text()).toBe('1 个已超期未走访')
    const links = wrapper.findAllComponents(RouterLinkStub)
    expect(links.map((l) => l.text())).toEqual(['记录走访', '记录走访'])
    expect(links[0].props('to')).toEqual({ path: '/m/visit/102', query: { child: 12 } })
    wrapper.unmount()
  })
})

describe('the office registry', { timeout: 30000 }, () => {
  const record = {
    id: 3,
    name: '王小红',
    sex: 'female',
    id_number: '430725********0027',
    birth_date: '2016-04-05',
    age: 10,
    branch_id: 5,
    school: '桃花小学',
    grade: '四年级',
    guardian_relation: 'grandparent',
    guardian_name: '王桂英',
    guardian_phone: '138****1234',
    father_work_place: 'out_of_province',
    father_city: '东莞',
    father_phone: '139****5678',
    mother_work_place: null,
    mother_city: null,
    mother_phone: null,
    category: 'left_behind_both_parents',
    disability: false,
    serious_illness: false,
    out_of_school: false,
    status: 'active',
    status_changed_on: null,
    note: null,
    created_at: '2026-11-01T00:00:00Z',
    updated_at: '2026-11-01T00:00:00Z',
  }
  const settle = async (ms = 30) => {
    await flushPromises()
    await new Promise((r) => setTimeout(r, ms))
    await flushPromises()
  }

  it('reveals the ID number on request and never sends a masked phone back when a child is edited', async () => {
    const asked: string[] = []
    const patches: Record<string, unknown>[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
        const req = input instanceof Request ? input : new Request(input, init)
        const url = new URL(req.url, 'http://localhost')
        asked.push(`${req.method} ${url.pathname}`)
        if (url.pathname === '/api/v1/children/3/pii')
          return json({ id: 3, name: '王小红', id_number: '430725201604050027', guardian_phone: '13807361234' })
        if (req.method === 'PATCH') {
          const body = await req.json()
          patches.push(body)
          return json({ ...record, ...body })
        }
        if (url.pathname === '/api/v1/children') return json({ items: [record], total: 1, limit: 20, offset: 0 })
        if (/^\/api\/v1\/branches\/\d+$/.test(url.pathname))
          return json({ id: Number(url.pathname.split('/').pop()), name: '甲一村', kind: 'village' })
        return json({ items: [], total: 0, limit: 30, offset: 0 })
      }),
    )
    const pinia = setup('cadre', ['children:read', 'children:write', 'pii:read', 'branches:read'])
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [{ path: '/:p(.*)*', component: { render: () => null } }],
    })
    const wrapper = mount(ChildrenView, {
      global: { plugins: [pinia, router, ElementPlus], stubs: { transition: false } },
      attachTo: document.body,
    })
    await settle()
    await wrapper.get('.el-table__row').trigger('click')
    await settle()
    const shownId = () => document.querySelector('[data-test=id-number]')?.textContent
    expect(shownId()).toBe('430725********0027')
    expect(asked.filter((a) => a.endsWith('/pii'))).toHaveLength(0) // nothing in clear until asked for
    ;(document.querySelector('[data-test=reveal]') as HTMLElement).click()
    await settle()
    expect(shownId()).toBe('430725201604050027')
    expect(document.body.textContent).toContain('13807361234')

    const edit = [...document.querySelectorAll('.el-drawer button')].find((b) => b.textContent?.trim() === '修改')
    ;(edit as HTMLElement).click()
    await settle()
    const name = document.querySelector('[data-field-item=name] input') as HTMLInputElement
    name.value = '王小虹'
    name.dispatchEvent(new Event('input'))
    await settle()
    ;(document.querySelector('[data-test=dialog-submit]') as HTMLElement).click()
    await settle(100)
    expect(patches).toHaveLength(1)
    expect(patches[0]).toMatchObject({ name: '王小虹', father_city: '东莞', guardian_name: '王桂英' })
    for (const field of ['id_number', 'guardian_phone', 'father_phone', 'mother_phone', 'status'])
      expect(patches[0]).not.toHaveProperty(field)
    wrapper.unmount()
  })
})
