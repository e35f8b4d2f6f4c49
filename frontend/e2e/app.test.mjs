// Browser tests: the built SPA against a real backend on a fresh database, driven in Debian's Chromium.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { apiGet, apiToken, login, pngBuffer, startBackend, startBrowser, assertNoCspViolations } from './harness.mjs'

let backend
let browser

before(async () => {
  backend = await startBackend()
  browser = await startBrowser()
})

after(async () => {
  await browser?.close()
  await backend?.stop()
  assertNoCspViolations(browser)
})

async function officePage() {
  const context = await browser.newContext({ viewport: { width: 1366, height: 860 }, locale: 'zh-CN' })
  const page = await context.newPage()
  return { context, page }
}

const menuTexts = async (page) => (await page.locator('.el-menu-item').allInnerTexts()).map((t) => t.trim())

describe('each demo role lands on its own home and sees only its own pages', () => {
  const cases = [
    {
      user: 'county.admin',
      home: '/dashboard',
      sees: ['工作台', '组织与换届', '12338 维权', '用户管理', '审计日志'],
      hidden: [],
    },
    {
      user: 'leader',
      home: '/dashboard',
      sees: ['工作台', '组织与换届', '活动台账'],
      hidden: ['12338 维权', '用户管理', '审计日志'],
    },
    {
      user: 'hotline.operator',
      home: '/tickets',
      sees: ['12338 维权'],
      hidden: ['用户管理', '审计日志', '两癌筛查', '活动台账'],
    },
    {
      user: 'township.cadre',
      home: '/dashboard',
      sees: ['工作台', '组织与换届', '12338 维权', '两癌筛查', '活动台账'],
      hidden: ['用户管理', '审计日志'],
    },
    {
      user: 'township2.cadre',
      home: '/dashboard',
      sees: ['工作台', '12338 维权', '巾帼志愿'],
      hidden: ['用户管理', '审计日志'],
    },
  ]
  for (const c of cases) {
    test(`${c.user} → ${c.home}`, async () => {
      const { context, page } = await officePage()
      try {
        await login(page, backend.base, c.user)
        assert.equal(new URL(page.url()).pathname, c.home)
        await page.locator('.el-menu-item').first().waitFor()
        const menu = await menuTexts(page)
        for (const s of c.sees) assert.ok(menu.includes(s), `${c.user} should see ${s}: ${menu}`)
        for (const h of c.hidden) assert.ok(!menu.includes(h), `${c.user} should not see ${h}`)
        const token = await apiToken(backend.base, c.user)
        const me = await apiGet(backend.base, token, '/auth/me')
        assert.equal(await page.locator('[data-test=my-branch]').innerText(), me.branch.name)
        if (c.hidden.includes('用户管理')) {
          // A deep link to a page she may not use sends her home instead.
          await page.goto(`${backend.base}/users`)
          await page.waitForURL((u) => u.pathname === c.home)
        }
      } finally {
        await context.close()
      }
    })
  }

  for (const user of ['county.admin', 'leader', 'township.cadre', 'hotline.operator']) {
    test(`every page in ${user}'s menu opens without an error`, async () => {
      const { context, page } = await officePage()
      const failures = []
      page.on('pageerror', (e) => failures.push(`page error: ${e.message}`))
      page.on('response', (r) => {
        if (r.url().includes('/api/') && r.status() >= 400) failures.push(`${r.status()} ${r.url()}`)
      })
      try {
        await login(page, backend.base, user)
        await page.locator('.el-menu-item').first().waitFor()
        const items = await menuTexts(page)
        for (const text of items) {
          await page.locator('.el-menu-item').filter({ hasText: text }).click()
          await page.waitForLoadState('networkidle')
          await page.waitForTimeout(300)
        }
        assert.deepEqual(failures, [])
      } finally {
        await context.close()
      }
    })
  }

  test("a leader's dashboard shows the overview of the subtree chosen in the tree", async () => {
    const { context, page } = await officePage()
    try {
      await login(page, backend.base, 'leader')
      const token = await apiToken(backend.base, 'leader')
      const overview = await apiGet(backend.base, token, '/reports/overview')
      await page.locator('[data-test=dash-branch]').filter({ hasText: overview.branch.name }).waitFor()
      await page
        .locator('[data-test=tickets-total]')
        .filter({ hasText: String(overview.tickets.total) })
        .waitFor()
      assert.equal(await page.locator('[data-test=terms-overdue]').innerText(), String(overview.branches.terms_overdue))
      assert.ok((await page.locator('canvas').count()) >= 2, 'charts are drawn')
      const township = page.locator('.org-tree .el-tree-node__children .el-tree-node .node').first()
      const name = await township.getAttribute('data-name')
      await township.click()
      await page.locator('[data-test=dash-branch]').filter({ hasText: name }).waitFor()
      const narrowed = await apiGet(
        backend.base,
        token,
        `/reports/overview?under=${await township.getAttribute('data-branch')}`,
      )
      await page
        .locator('[data-test=tickets-total]')
        .filter({ hasText: String(narrowed.tickets.total) })
        .waitFor()
    } finally {
      await context.close()
    }
  })

  test('a cadre sees only her township: the branch list and the org tree stop at its border', async () => {
    const { context, page } = await officePage()
    try {
      await login(page, backend.base, 'township.cadre')
      const token = await apiToken(backend.base, 'township.cadre')
      const all = await apiGet(backend.base, token, '/branches?limit=1')
      await page.goto(`${backend.base}/branches`)
      await page
        .locator('[data-test=total]')
        .filter({ hasText: `共 ${all.total} 条` })
        .waitFor()
      const county = await apiGet(backend.base, await apiToken(backend.base, 'county.admin'), '/branches?limit=1')
      assert.ok(all.total < county.total)
      // The tree's root is her own township.
      const root = page.locator('.org-tree .el-tree-node').first()
      assert.match(await root.innerText(), new RegExp((await apiGet(backend.base, token, '/auth/me')).branch.name))
    } finally {
      await context.close()
    }
  })

  test('village rep lands on the phone home and cannot open office pages', async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true })
    const page = await context.newPage()
    try {
      await login(page, backend.base, 'village.rep')
      assert.equal(new URL(page.url()).pathname, '/m')
      await page.getByText('张春梅').first().waitFor()
      await page.goto(`${backend.base}/audit`)
      await page.waitForURL((u) => u.pathname === '/m')
      assert.equal(await page.locator('.el-menu-item').count(), 0)
    } finally {
      await context.close()
    }
  })
})

describe('12338 tickets', () => {
  test('a cadre takes a ticket from assigned to resolved, seeing only the allowed steps', async () => {
    const operator = await apiToken(backend.base, 'hotline.operator')
    const cadreToken = await apiToken(backend.base, 'township.cadre')
    const township = (await apiGet(backend.base, cadreToken, '/auth/me')).branch.id
    const post = async (path, body) => {
      const r = await fetch(`${backend.base}/api/v1${path}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${operator}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      })
      const text = await r.text()
      assert.ok(r.ok, `${path}: ${r.status} ${text}`)
      return JSON.parse(text)
    }
    const created = await post('/tickets', {
      channel: 'phone',
      caller_name: '李桂兰',
      caller_phone: '13812345678',
      branch_id: township,
      category: 'domestic_violence',
      urgency: 'urgent',
      summary: '丈夫酒后殴打,求助',
    })
    await post(`/tickets/${created.id}/actions/assign`, { branch_id: township })

    const { context, page } = await officePage()
    try {
      await login(page, backend.base, 'township.cadre')
      await page.goto(`${backend.base}/tickets`)
      await page.getByText('丈夫酒后殴打,求助').click()
      await page.waitForURL(`**/tickets/${created.id}`)
      const status = page.locator('[data-test=ticket-status]')
      await status.filter({ hasText: '已分派' }).waitFor()
      assert.match(await page.locator('[data-test=sla]').innerText(), /还剩|已超时/)
      // Masked until she asks to see it; the reveal is audited.
      assert.match(await page.locator('[data-test=caller]').innerText(), /138\*+5678/)
      await page.click('[data-test=reveal]')
      await page.locator('[data-test=caller]').filter({ hasText: '13812345678' }).waitFor()
      // Only the allowed steps are buttons: no "办结" before accepting.
      assert.equal(await page.locator('[data-action=resolve]').count(), 0)
      await page.click('[data-action=accept]')
      await status.filter({ hasText: '办理中' }).waitFor()

      await page.click('[data-action=reply]')
      await page.locator('.el-dialog [data-test=step-submit]').click()
      await page.locator('.el-form-item__error').filter({ hasText: '请填写答复方式' }).waitFor()
      await page.locator('.el-dialog [data-field=method]').click()
      await page.locator('.el-select-dropdown__item:visible').filter({ hasText: '电话' }).click()
      await page.locator('.el-dialog textarea').fill('已电话告知当事人人身安全保护令的申请方式')
      await page.locator('.el-dialog [data-test=step-submit]').click()
      await page.locator('[data-test=timeline]').getByText('已电话告知').waitFor()

      await page.click('[data-action=resolve]')
      await page.locator('.el-dialog textarea').fill('协助申请人身安全保护令,法院已受理')
      await page.locator('.el-dialog [data-test=step-submit]').click()
      await status.filter({ hasText: '已办结' }).waitFor()

      const stored = await apiGet(backend.base, cadreToken, `/tickets/${created.id}`)
      assert.equal(stored.status, 'resolved')
      const audit = await apiGet(
        backend.base,
        await apiToken(backend.base, 'county.admin'),
        `/audit?action=reveal&limit=50`,
      )
      assert.ok(
        audit.items.some((a) => String(a.entity_id) === String(created.id)),
        'the reveal of the caller is audited',
      )
    } finally {
      await context.close()
    }
  })
})

describe('phone forms for village reps', () => {
  const phone = () =>
    browser.newContext({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true, locale: 'zh-CN' })

  async function fillActivity(page, title) {
    await page.goto(`${backend.base}/m`)
    await page.click('[data-test=tile-activity]')
    await page.waitForURL('**/m/activity')
    await page.fill('input[name=title]', title)
    await page.fill('input[name=venue]', '村部妇女之家')
    await page.fill('input[name=participants]', '23')
    await page
      .locator('[data-test=photo]')
      .setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: pngBuffer() })
    await page.locator('.ph img').waitFor()
  }

  async function activitiesTitled(user, title) {
    const token = await apiToken(backend.base, user)
    return (await apiGet(backend.base, token, `/activities?q=${encodeURIComponent(title)}&limit=50`)).items.filter(
      (a) => a.title === title,
    )
  }

  test('a village rep on a 375×667 phone reports an activity with a photo', async () => {
    const context = await phone()
    const page = await context.newPage()
    try {
      await login(page, backend.base, 'village.rep')
      // The form must fit the phone: nothing wider than the screen.
      await fillActivity(page, '三八维权宣传进村')
      const width = await page.evaluate(() => document.documentElement.scrollWidth)
      assert.ok(width <= 375, `page is ${width}px wide`)
      // A missing field is named in Chinese before anything is sent.
      await page.fill('input[name=title]', '')
      await page.click('[data-test=submit]')
      await page.locator('.van-field__error-message').filter({ hasText: '请填写活动名称' }).waitFor()
      await page.fill('input[name=title]', '三八维权宣传进村')
      await page.click('[data-test=submit]')
      await page.locator('[data-test=sent]').waitFor()
      const [stored] = await activitiesTitled('village.rep', '三八维权宣传进村')
      assert.ok(stored, 'the activity is stored')
      assert.equal(stored.photo_count, 1)
      assert.equal(stored.participants, 23)
      assert.equal(stored.status, 'held')
    } finally {
      await context.close()
    }
  })

  test('a village rep registers a woman for screening; a wrong ID number is caught on the phone', async () => {
    const context = await phone()
    const page = await context.newPage()
    try {
      await login(page, backend.base, 'village.rep')
      await page.goto(`${backend.base}/m/woman`)
      const base = '43072519790308' + '024'
      const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
      const check = '10X98765432'[[...base].reduce((s, d, i) => s + weights[i] * Number(d), 0) % 11]
      await page.fill('input[name=name]', '覃秀珍')
      await page.fill('input[name=id_number]', base + (check === '0' ? '1' : '0'))
      await page.getByRole('button', { name: '登记' }).click()
      await page.locator('.van-field__error-message').filter({ hasText: '身份证号不正确' }).waitFor()
      await page.fill('input[name=id_number]', base + check)
      await page.getByRole('button', { name: '登记' }).click()
      await page.locator('[data-test=sent]').waitFor()
      const token = await apiToken(backend.base, 'village.rep')
      const found = await apiGet(backend.base, token, `/women?q=${encodeURIComponent('覃秀珍')}`)
      assert.equal(found.total, 1)
      assert.equal(found.items[0].birth_date, '1979-03-08')
    } finally {
      await context.close()
    }
  })

  test('a village rep records a follow-up visit from her task list', async (t) => {
    const context = await phone()
    const page = await context.newPage()
    try {
      await login(page, backend.base, 'village.rep')
      const token = await apiToken(backend.base, 'village.rep')
      const open = await apiGet(
        backend.base,
        token,
        '/follow-ups?status=pending_notice&status=notified&status=rechecked&status=diagnosed&status=treated&limit=50',
      )
      if (!open.items.length) return t.skip('the demo county gave her village no open follow-up')
      await page.goto(`${backend.base}/m/followups`)
      const first = page.locator('.m-list li a').first()
      const href = await first.getAttribute('href')
      const id = Number(href.split('/').pop())
      const before = await apiGet(backend.base, token, `/follow-ups/${id}`)
      await first.click()
      await page.locator('.m-card h3').first().waitFor()
      await page.getByRole('button', { name: '提交走访记录' }).click()
      await page.locator('.van-field__error-message').filter({ hasText: '请简要记录走访情况' }).waitFor()
      await page.fill('textarea', '已当面告知复查,约定下周二去县医院')
      await page.getByRole('button', { name: '提交走访记录' }).click()
      await page.locator('[data-test=sent]').waitFor()
      const after = await apiGet(backend.base, token, `/follow-ups/${id}`)
      assert.equal(after.visit_count, before.visit_count + 1)
    } finally {
      await context.close()
    }
  })

  test('a second village rep reports with the network cut; it waits on the phone and is sent once when the signal returns', async () => {
    const context = await phone()
    const page = await context.newPage()
    try {
      await login(page, backend.base, 'village2.rep')
      // The app shell is cached by the service worker once it is ready.
      assert.ok(await page.evaluate(() => navigator.serviceWorker.ready.then(() => true)))
      await fillActivity(page, '家庭教育讲座(离线填报)')
      await context.setOffline(true)
      await page.click('[data-test=submit]')
      await page.locator('[data-test=queued]').waitFor()
      await page.locator('[data-test=outbox-badge]').filter({ hasText: '待发送 1' }).waitFor()
      await page.click('[data-test=outbox-badge]')
      await page.locator('[data-test=outbox-list]').getByText('家庭教育讲座(离线填报)').waitFor()
      assert.equal((await activitiesTitled('village2.rep', '家庭教育讲座(离线填报)')).length, 0)
      // Still no signal, and the page is reloaded (the phone was put away): the form is still there, waiting.
      await page.reload()
      await page.locator('[data-test=outbox-list]').getByText('家庭教育讲座(离线填报)').waitFor()
      assert.equal(new URL(page.url()).pathname, '/m/outbox')

      await context.setOffline(false)
      await page.locator('[data-test=outbox-empty]').waitFor({ timeout: 30000 })
      await page.locator('[data-test=outbox-badge]').filter({ hasText: '待发送 0' }).waitFor()
      // Another nudge (as the retry timer would give) must not make a second record.
      await page.evaluate(() => window.dispatchEvent(new Event('online')))
      await page.waitForTimeout(1000)
      const stored = await activitiesTitled('village2.rep', '家庭教育讲座(离线填报)')
      assert.equal(stored.length, 1, 'exactly one activity is stored')
      assert.equal(stored[0].photo_count, 1)
    } finally {
      await context.close()
    }
  })
})

describe('work that crosses roles', () => {
  test('a village rep reports volunteer hours on her phone and her township cadre approves them', async () => {
    const phoneCtx = await browser.newContext({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true })
    const page = await phoneCtx.newPage()
    const note = `e2e-${Date.now()}`
    try {
      await login(page, backend.base, 'village.rep')
      await page.goto(`${backend.base}/m/hours`)
      const form = page.locator('form')
      // The phone form uses the phone's own pickers (a native select).
      await form.locator('select[name=volunteer_id] option:not([disabled])').first().waitFor({ state: 'attached' })
      await form.locator('select[name=volunteer_id]').selectOption({ index: 1 })
      await form.locator('input[name=note]').fill(note)
      await page.getByRole('button', { name: '提交' }).click()
      await page.locator('[data-test=sent]').waitFor()
    } finally {
      await phoneCtx.close()
    }
    const { context, page: office } = await officePage()
    try {
      await login(office, backend.base, 'township.cadre')
      await office.goto(`${backend.base}/volunteers`)
      const row = office.locator('.el-table__row').filter({ hasText: note })
      await row.getByRole('button', { name: '通过' }).click()
      await office.locator('.el-table__row').filter({ hasText: note }).waitFor({ state: 'detached' })
      const token = await apiToken(backend.base, 'township.cadre')
      const approved = await apiGet(backend.base, token, '/service-records?status=approved&limit=200')
      assert.ok(
        approved.items.some((r) => r.note === note),
        'the record is approved',
      )
    } finally {
      await context.close()
    }
  })

  test('a hotline operator registers a call; the form names what is missing', async () => {
    const { context, page } = await officePage()
    try {
      await login(page, backend.base, 'hotline.operator')
      await page.click('[data-test=create]')
      const dialog = page.locator('.el-dialog').filter({ hasText: '登记来电' })
      await dialog.getByRole('button', { name: '登记' }).click()
      await dialog.locator('.el-form-item__error').filter({ hasText: '请填写事由摘要' }).waitFor()
      const item = (label) => dialog.locator('.el-form-item').filter({ has: page.locator(`label:text-is("${label}")`) })
      await item('来电人').locator('input').fill('陈女士')
      await item('电话').locator('input').fill('13900001111')
      await item('事发地').locator('.el-select').click()
      await page.locator('.el-select-dropdown__item:visible').nth(1).click()
      await item('事由摘要').locator('input').fill('出嫁女土地补偿款被扣(e2e)')
      await dialog.getByRole('button', { name: '登记' }).click()
      await page.waitForURL(/\/tickets\/\d+$/)
      await page.locator('[data-test=ticket-status]').filter({ hasText: '新建' }).waitFor()
      assert.match(await page.locator('[data-test=caller]').innerText(), /139\*+1111|陈/)
    } finally {
      await context.close()
    }
  })
})

describe('office lists and forms', () => {
  test('a cadre sees women masked and reveals one ID number, which the audit log records', async () => {
    const { context, page } = await officePage()
    try {
      await login(page, backend.base, 'township.cadre')
      await page.goto(`${backend.base}/screening?tab=women`)
      const cell = page.locator('[data-test=id-number]').first()
      await cell.waitFor()
      assert.match(await cell.innerText(), /\*/)
      await page.locator('[data-test=reveal]').first().click()
      await page.waitForFunction(() =>
        /^\d{17}[\dX]$/.test(document.querySelector('[data-test=id-number]')?.textContent?.trim() ?? ''),
      )
      const audit = await apiGet(
        backend.base,
        await apiToken(backend.base, 'county.admin'),
        '/audit?action=reveal&limit=50',
      )
      assert.ok(
        audit.items.some((a) => a.entity && a.entity.toLowerCase().includes('woman')),
        'the reveal is audited',
      )
    } finally {
      await context.close()
    }
  })

  test('a list narrows to the branch chosen in the org tree, searches, and exports Excel', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 860 }, acceptDownloads: true })
    const page = await context.newPage()
    try {
      await login(page, backend.base, 'county.admin')
      await page.goto(`${backend.base}/branches`)
      const total = page.locator('[data-test=total]')
      await total.filter({ hasText: /共 [1-9]\d* 条/ }).waitFor()
      const countyTotal = Number((await total.innerText()).match(/\d+/)[0])
      // Choose the first township in the tree: the list shrinks to its subtree.
      const township = page.locator('.org-tree .el-tree-node__children .el-tree-node').first()
      const name = await township.locator('.node').first().getAttribute('data-name')
      await township.locator('.node').first().click()
      await page.locator('[data-test=scope]').filter({ hasText: name }).waitFor()
      await page.waitForFunction((n) => {
        const m = document.querySelector('[data-test=total]')?.textContent?.match(/\d+/)
        return m && Number(m[0]) < n
      }, countyTotal)
      await page.fill('input[data-test=search]', name)
      await page.keyboard.press('Enter')
      await page.locator('.el-table__row').filter({ hasText: name }).first().waitFor()
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=export]')])
      assert.match(download.suggestedFilename(), /\.xlsx$/)
      const path = await download.path()
      const { statSync } = await import('node:fs')
      assert.ok(statSync(path).size > 1000, 'the Excel file has content')
    } finally {
      await context.close()
    }
  })

  test("the server's refusal is shown at the field it names, in Chinese", async () => {
    const { context, page } = await officePage()
    try {
      await login(page, backend.base, 'county.admin')
      await page.goto(`${backend.base}/users`)
      await page.getByRole('button', { name: '新建用户' }).click()
      const dialog = page.locator('.el-dialog').filter({ hasText: '新建用户' })
      await dialog.getByRole('button', { name: '创建' }).click()
      await dialog.locator('.el-form-item__error').filter({ hasText: '请填写用户名' }).waitFor()
      const item = (label) => dialog.locator('.el-form-item').filter({ has: page.locator(`label:text-is("${label}")`) })
      await item('用户名').locator('input').fill('leader')
      await item('姓名').locator('input').fill('重名测试')
      await item('所属组织').locator('.el-select').click()
      await page.locator('.el-select-dropdown__item:visible').first().click()
      await item('初始密码').locator('input').fill('Secret-pass-2026')
      await dialog.getByRole('button', { name: '创建' }).click()
      await item('用户名').locator('.el-form-item__error').filter({ hasText: '用户名已被使用' }).waitFor()
    } finally {
      await context.close()
    }
  })
})
