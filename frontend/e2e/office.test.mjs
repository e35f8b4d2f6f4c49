// Browser tests for the office pages added last: Excel imports, screening plans, SLA and calendar settings,
// member recommendations, moving a branch and changing a user's role. Built SPA, real backend, Debian's Chromium.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, apiGet, apiToken, login, startBackend, startBrowser, assertNoCspViolations } from './harness.mjs'

let backend
let browser
let token
let work

before(async () => {
  backend = await startBackend()
  browser = await startBrowser()
  token = await apiToken(backend.base, 'county.admin')
  work = mkdtempSync(join(tmpdir(), 'halfsky-office-'))
})

after(async () => {
  await browser?.close()
  await backend?.stop()
  if (work) rmSync(work, { recursive: true, force: true })
  assertNoCspViolations(browser)
})

async function adminPage() {
  const context = await browser.newContext({
    viewport: { width: 1366, height: 860 },
    locale: 'zh-CN',
    acceptDownloads: true,
  })
  const page = await context.newPage()
  const failures = []
  page.on('pageerror', (e) => failures.push(`page error: ${e.message}`))
  page.on('response', (r) => {
    if (r.url().includes('/api/') && r.status() >= 400) failures.push(`${r.status()} ${r.url()}`)
  })
  await login(page, backend.base, 'county.admin')
  return { context, page, failures }
}

/** A resident ID number with a correct GB 11643 check digit. */
function idNumber(body17) {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
  const sum = weights.reduce((s, w, i) => s + w * Number(body17[i]), 0)
  return body17 + '10X98765432'[sum % 11]
}

/** A small village list as the template asks for it, written by openpyxl from the backend's environment. */
function womenSheet(path, rows) {
  const python = join(ROOT, '.venv', 'bin', 'python')
  const script = `
import json, sys
from openpyxl import Workbook
wb = Workbook(); ws = wb.active
ws.append(["姓名*", "身份证号*", "联系电话", "村(社区)组织代码"])
for row in json.loads(sys.argv[2]): ws.append(row)
wb.save(sys.argv[1])
`
  execFileSync(python, ['-c', script, path, JSON.stringify(rows)])
}

describe('office pages for the county admin', () => {
  test('each new page opens cleanly and is in the menu', async () => {
    const { context, page, failures } = await adminPage()
    try {
      await page.locator('.el-menu-item').first().waitFor()
      const menu = (await page.locator('.el-menu-item').allInnerTexts()).map((t) => t.trim())
      for (const title of ['筛查计划', 'Excel 导入', '时限与日历'])
        assert.ok(menu.includes(title), `menu has ${title}: ${menu}`)
      for (const [path, heading] of [
        ['/imports', 'Excel 导入'],
        ['/screening-plans', '两癌筛查计划'],
        ['/settings', '工单时限与工作日'],
      ]) {
        await page.goto(`${backend.base}${path}`)
        await page.locator('h2').filter({ hasText: heading }).waitFor()
        await page.waitForLoadState('networkidle')
      }
      await page.locator('[data-test=sla] .el-table__row').first().waitFor()
      assert.deepEqual(failures, [])
    } finally {
      await context.close()
    }
  })

  test('the township cadre sees imports and plans but not the settings', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 860 }, locale: 'zh-CN' })
    const page = await context.newPage()
    try {
      await login(page, backend.base, 'township.cadre')
      await page.locator('.el-menu-item').first().waitFor()
      const menu = (await page.locator('.el-menu-item').allInnerTexts()).map((t) => t.trim())
      assert.ok(menu.includes('Excel 导入') && menu.includes('筛查计划'), String(menu))
      assert.ok(!menu.includes('时限与日历'), String(menu))
    } finally {
      await context.close()
    }
  })

  test('a women list is uploaded, imported as a job, and its failed rows are downloaded', async () => {
    const village = (await apiGet(backend.base, token, '/branches?kind=village&limit=1')).items[0]
    const good = idNumber('43072519800308' + String(Date.now()).slice(-3))
    const file = join(work, '妇女名册-e2e.xlsx')
    womenSheet(file, [
      ['导入测试甲', good, '13900002222', village.code],
      ['导入测试乙', '430725198003081234', '', village.code], // wrong check digit: not imported
    ])
    const { context, page, failures } = await adminPage()
    try {
      await page.goto(`${backend.base}/imports`)
      const card = page.locator('[data-test=upload-women]')
      // Sending with no file is refused at the file field, in Chinese.
      await card.locator('[data-test=start-women]').click()
      await card.locator('.el-form-item__error').filter({ hasText: '请先选择' }).waitFor()
      await card.locator('input[type=file]').setInputFiles(file)
      await card.locator('[data-test=file-name]').filter({ hasText: '妇女名册-e2e.xlsx' }).waitFor()
      await card.locator('[data-test=start-women]').click()

      const row = page.locator('.el-table__row').filter({ hasText: '妇女名册-e2e.xlsx' }).first()
      await row.locator('[data-status=done]').waitFor({ timeout: 30000 })
      await row.getByText('1 行未导入').waitFor()
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        row.locator('[data-test=failed-rows]').click(),
      ])
      assert.match(download.suggestedFilename(), /未导入的行.*\.xlsx$/)
      const saved = join(work, 'failed.xlsx')
      await download.saveAs(saved)
      assert.equal(readFileSync(saved).subarray(0, 2).toString(), 'PK')

      const women = await apiGet(backend.base, token, `/women?q=${encodeURIComponent('导入测试')}`)
      assert.deepEqual(
        women.items.map((w) => w.name),
        ['导入测试甲'],
      )
      assert.deepEqual(failures, [])
    } finally {
      await context.close()
    }
  })

  test('a screening plan is created from its dialog', async () => {
    const { context, page, failures } = await adminPage()
    try {
      await page.goto(`${backend.base}/screening-plans`)
      await page.click('[data-test=create]')
      const dialog = page.locator('.el-dialog').filter({ hasText: '新建筛查计划' })
      await dialog.locator('[data-test=dialog-submit]').click()
      await dialog.locator('.el-form-item__error').filter({ hasText: '请填写计划筛查人数' }).waitFor()
      await dialog.locator('.el-form-item').filter({ hasText: '年度' }).locator('input').fill('2031')
      await dialog.locator('.el-form-item').filter({ hasText: '名称' }).locator('input').fill('2031 年两癌筛查(e2e)')
      await dialog.locator('[data-test=target-count] input').fill('1234')
      await dialog.locator('[data-test=dialog-submit]').click()
      await page
        .locator('.el-table__row')
        .filter({ hasText: '2031 年两癌筛查(e2e)' })
        .filter({ hasText: '1234' })
        .waitFor()
      const plans = await apiGet(backend.base, token, '/screening-plans?year=2031')
      assert.equal(plans.items[0].target_count, 1234)
      assert.deepEqual(failures, [])
    } finally {
      await context.close()
    }
  })

  test('an SLA deadline is changed and a local holiday is set', async () => {
    const { context, page, failures } = await adminPage()
    try {
      await page.goto(`${backend.base}/settings`)
      const input = page.locator('[data-test=sla-first-normal] input')
      await input.waitFor()
      await input.fill('7')
      await input.blur()
      await page.click('[data-test=save-sla]')
      await page.locator('.el-message').filter({ hasText: '时限已保存' }).waitFor()
      const sla = await apiGet(backend.base, token, '/tickets/sla')
      assert.equal(sla.items.find((r) => r.urgency === 'normal').first_response.amount, 7)

      const year = (await page.locator('[data-test=calendar-year] input').inputValue()).trim()
      await page.locator('input[placeholder=选择日期]').fill(`${year}-06-15`)
      await page.keyboard.press('Enter')
      await page.locator('.el-form-item').filter({ hasText: '说明' }).locator('input').fill('防汛调休(e2e)')
      await page.click('[data-test=save-day]')
      await page.locator('[data-test=overrides] .el-table__row').filter({ hasText: '防汛调休(e2e)' }).waitFor()
      assert.deepEqual(failures, [])
    } finally {
      await context.close()
    }
  })

  test('a village is moved under another township', async () => {
    const townships = (await apiGet(backend.base, token, '/branches?kind=township&sort=code')).items
    const [from, to] = townships
    const village = (await apiGet(backend.base, token, `/branches?kind=village&under=${from.id}&sort=-code&limit=1`))
      .items[0]
    const { context, page, failures } = await adminPage()
    try {
      await page.goto(`${backend.base}/branches`)
      await page.fill('input[data-test=search]', village.name)
      await page.keyboard.press('Enter')
      const row = page.locator('.el-table__row').filter({ hasText: village.name }).first()
      await row.locator('[data-test=move]').click()
      const dialog = page.locator('.el-dialog').filter({ hasText: `迁移:${village.name}` })
      await dialog.locator('[data-test=move-parent]').click()
      await page.keyboard.type(to.name)
      await page.locator('.el-select-dropdown__item:visible').filter({ hasText: to.name }).first().click()
      await dialog.locator('[data-test=dialog-submit]').click()
      await page.locator('.el-message').filter({ hasText: '组织已迁移' }).waitFor()
      const moved = await apiGet(backend.base, token, `/branches/${village.id}`)
      assert.equal(moved.parent_id, to.id)
      assert.deepEqual(failures, [])
    } finally {
      await context.close()
    }
  })

  test("a user's role is changed", async () => {
    const { context, page, failures } = await adminPage()
    try {
      await page.goto(`${backend.base}/users`)
      await page.fill('input[data-test=search]', 'village2.rep')
      await page.keyboard.press('Enter')
      const row = page.locator('.el-table__row').filter({ hasText: 'village2.rep' })
      await row.waitFor()
      await row.locator('[data-test=edit-user]').click()
      const dialog = page.locator('.el-dialog').filter({ hasText: '编辑用户' })
      await dialog.locator('[data-test=role]').click()
      await page.locator('.el-select-dropdown__item:visible').filter({ hasText: '乡镇' }).first().click()
      await dialog.locator('[data-test=dialog-submit]').click()
      await page.locator('.el-message').filter({ hasText: '用户已更新' }).waitFor()
      const users = await apiGet(backend.base, token, '/users?q=village2.rep')
      assert.equal(users.items[0].role, 'cadre')
      assert.deepEqual(failures, [])
    } finally {
      await context.close()
    }
  })

  test('a member is recommended (后备人才) and the outcome recorded', async () => {
    const member = (await apiGet(backend.base, token, '/members?limit=1')).items[0]
    const { context, page, failures } = await adminPage()
    try {
      await page.goto(`${backend.base}/members`)
      await page.fill('input[data-test=search]', member.name)
      await page.keyboard.press('Enter')
      await page.locator('.el-table__row').filter({ hasText: member.name }).first().click()
      await page.click('[data-test=recommend]')
      const dialog = page.locator('.el-dialog').filter({ hasText: '后备人才' })
      await dialog.locator('[data-test=dialog-submit]').click()
      await dialog.locator('.el-form-item__error').filter({ hasText: '请填写推荐给哪个单位' }).waitFor()
      await dialog.locator('.el-form-item').filter({ hasText: '推荐至' }).locator('input').fill('县委组织部(e2e)')
      await dialog.locator('[data-test=dialog-submit]').click()
      const rec = page.locator('[data-test=recommendations] .el-table__row').filter({ hasText: '县委组织部(e2e)' })
      await rec.filter({ hasText: '待定' }).waitFor()
      await rec.getByRole('button', { name: '结果' }).click()
      const outcome = page.locator('.el-dialog').filter({ hasText: '推荐结果' })
      await outcome.locator('.el-radio').nth(1).click()
      await outcome.locator('[data-test=dialog-submit]').click()
      await page.locator('.el-message').filter({ hasText: '推荐结果已更新' }).waitFor()
      const detail = await apiGet(backend.base, token, `/members/${member.id}`)
      assert.equal(detail.recommendations.find((r) => r.recommended_to === '县委组织部(e2e)').outcome, 'adopted')
      assert.deepEqual(failures, [])
    } finally {
      await context.close()
    }
  })
})
