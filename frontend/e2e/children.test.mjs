// Browser tests for the children's phone forms: a village rep registers a child through the outbox (the signal cut
// and back), and a carer records a visit with a photo from her home. Built SPA, real backend, Debian's Chromium.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { apiGet, apiToken, login, pngBuffer, startBackend, startBrowser, assertNoCspViolations } from './harness.mjs'
import { PHONE } from './phone.mjs'

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

/** A child's resident ID number (桃源县, born 2016) with a correct GB 11643 check digit, and one with a wrong one. */
function childIdNumber() {
  const body = `4307252016${String(1 + (Date.now() % 12)).padStart(2, '0')}15${String(Date.now() % 1000).padStart(3, '0')}`
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
  const check = '10X98765432'[[...body].reduce((s, d, i) => s + weights[i] * Number(d), 0) % 11]
  return { good: body + check, bad: body + (check === '0' ? '1' : '0') }
}

describe('children on the phone', () => {
  test('a village rep registers a child with no signal; it waits in the outbox and is sent once', async () => {
    const context = await browser.newContext(PHONE)
    const page = await context.newPage()
    try {
      await login(page, backend.base, 'village.rep')
      await page.click('[data-test=tile-child]')
      const id = childIdNumber()
      await page.fill('input[name=name]', '覃小雨')
      await page.fill('input[name=id_number]', id.bad)
      await page.click('[data-test=submit]')
      await page.locator('.van-field__error-message').filter({ hasText: '儿童身份证号不正确' }).waitFor()
      await page.fill('input[name=id_number]', id.good)
      await page.selectOption('select[name=category]', 'left_behind_both_parents')
      await page.fill('input[name=guardian_name]', '覃桂英')
      await page.fill('input[name=guardian_phone]', '13807361234')
      const width = await page.evaluate(() => document.documentElement.scrollWidth)
      assert.ok(width <= 375, `page is ${width}px wide`)

      await context.setOffline(true)
      await page.click('[data-test=submit]')
      await page.locator('[data-test=queued]').waitFor()
      await page.locator('[data-test=outbox-badge]').filter({ hasText: '待发送 1' }).waitFor()
      await context.setOffline(false)
      await page.locator('[data-test=outbox-badge]').filter({ hasText: '待发送 0' }).waitFor({ timeout: 30000 })
      await page.evaluate(() => window.dispatchEvent(new Event('online'))) // a second nudge makes no second child

      const token = await apiToken(backend.base, 'village.rep')
      const found = await apiGet(backend.base, token, `/children?q=${encodeURIComponent('覃小雨')}`)
      assert.equal(found.total, 1)
      assert.equal(found.items[0].sex, Number(id.good[16]) % 2 ? 'male' : 'female')
      assert.equal(found.items[0].guardian_name, '覃桂英')
      assert.notEqual(found.items[0].id_number, id.good, 'the list shows the ID number masked')
    } finally {
      await context.close()
    }
  })

  test('a carer sees her children on her home and records a visit with a photo', async () => {
    const context = await browser.newContext(PHONE)
    const page = await context.newPage()
    try {
      await login(page, backend.base, 'caring.mother')
      assert.equal(new URL(page.url()).pathname, '/m')
      const first = page.locator('[data-test=carer-home] li').first()
      await first.waitFor()
      const link = first.locator('[data-test=record-visit]')
      const pairing = Number(new URL(await link.getAttribute('href'), backend.base).pathname.split('/').pop())
      const token = await apiToken(backend.base, 'caring.mother')
      const before = await apiGet(backend.base, token, `/pairings/${pairing}/visits`)
      await link.click()
      await page.locator('[data-test=visit-child] h3').waitFor()
      await page.click('[data-test=submit]')
      await page.locator('.van-field__error-message').filter({ hasText: '请填写走访做了什么' }).waitFor()
      await page.fill('textarea[name=done]', '辅导作业,陪孩子和妈妈视频通话')
      await page
        .locator('[data-test=photo]')
        .setInputFiles({ name: 'visit.png', mimeType: 'image/png', buffer: pngBuffer() })
      await page.locator('.ph img').waitFor()
      await page.click('[data-test=submit]')
      await page.locator('[data-test=sent]').waitFor()

      const after = await apiGet(backend.base, token, `/pairings/${pairing}/visits`)
      assert.equal(after.total, before.total + 1)
      const visit = after.items.find((v) => v.done === '辅导作业,陪孩子和妈妈视频通话')
      assert.ok(visit, 'the visit is stored')
      assert.equal(visit.photo_count, 1)
      assert.equal(visit.mode, 'home')
    } finally {
      await context.close()
    }
  })

  test("a village rep opens her village's pairings, overdue first, and records a visit for one of them", async () => {
    const context = await browser.newContext(PHONE)
    const page = await context.newPage()
    try {
      await login(page, backend.base, 'village.rep')
      await page.click('[data-test=tile-pairings]')
      const rows = page.locator('[data-test=pairings-due] li')
      await rows.first().waitFor()
      const states = await rows.evaluateAll((els) => els.map((el) => el.dataset.state))
      // Overdue ones come first.
      assert.deepEqual(
        states,
        [...states].sort((a, b) => Number(b === 'overdue') - Number(a === 'overdue')),
      )
      const link = rows.first().locator('[data-test=record-visit]')
      const pairing = Number(new URL(await link.getAttribute('href'), backend.base).pathname.split('/').pop())
      const token = await apiToken(backend.base, 'village.rep')
      const before = await apiGet(backend.base, token, `/pairings/${pairing}/visits`)
      await link.click()
      await page.fill('textarea[name=done]', '村妇联执委代为走访:电话联系监护人')
      await page.click('[data-test=submit]')
      await page.locator('[data-test=sent]').waitFor()
      const after = await apiGet(backend.base, token, `/pairings/${pairing}/visits`)
      assert.equal(after.total, before.total + 1)
    } finally {
      await context.close()
    }
  })
})

describe('children in the office', () => {
  test('the county admin opens the registry, homes, pairings and the figures without an error', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 860 }, locale: 'zh-CN' })
    const page = await context.newPage()
    const failures = []
    page.on('pageerror', (e) => failures.push(`page error: ${e.message}`))
    page.on('response', (r) => {
      if (r.url().includes('/api/') && r.status() >= 400) failures.push(`${r.status()} ${r.url()}`)
    })
    try {
      await login(page, backend.base, 'county.admin')
      await page.locator('[data-test=children-figures] [data-test=pairing-coverage]').waitFor()
      const menu = (await page.locator('.el-menu-item').allInnerTexts()).map((t) => t.trim())
      for (const title of ['儿童档案', '儿童之家', '结对帮扶']) assert.ok(menu.includes(title), `menu has ${title}`)

      await page.goto(`${backend.base}/children`)
      await page.locator('.el-table__row').first().click()
      const masked = await page.locator('[data-test=id-number]').innerText()
      await page.click('[data-test=reveal]')
      await page.locator('[data-test=id-number]').filter({ hasNotText: masked }).waitFor()
      assert.match(await page.locator('[data-test=id-number]').innerText(), /^\d{17}[\dX]$/)

      await page.goto(`${backend.base}/children-homes`)
      const first = await page.locator('.el-table__row [data-condition]').first().getAttribute('data-condition')
      assert.notEqual(first, 'good', 'broken or needing repair homes come first')

      await page.goto(`${backend.base}/pairings`)
      await page.locator('.el-table__row').first().waitFor()
      const flags = await page
        .locator('.el-table__row [data-overdue]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-overdue') === 'true'))
      assert.deepEqual(
        flags,
        [...flags].sort((a, b) => Number(b) - Number(a)),
        'overdue pairings first',
      )
      await page.locator('.el-table__row').first().click()
      await page.locator('.el-drawer [data-test=actions]').waitFor()
      assert.deepEqual(failures, [])
    } finally {
      await context.close()
    }
  })
})
