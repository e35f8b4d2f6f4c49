// A village rep's phone on a weak signal: Debian's Chromium at 375 px with regular 3G emulated over CDP (750 kbit/s
// down, 250 kbit/s up, 100 ms), against the built SPA and a real backend. Figures for other networks: bench/phone_3g.mjs.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { login, startBackend, startBrowser, assertNoCspViolations } from './harness.mjs'
import { HOME_READY, measurePhone, PHONE } from './phone.mjs'

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

// What decides her wait on 3G is what the phone downloads; the seconds themselves are bench/phone_3g.mjs's to print
// (a timed assertion here would pass or fail with the machine's load, not with the app).
test('on regular 3G the first visit costs at most 200 KiB, and a repeat visit downloads no page file again', async (t) => {
  const r = await measurePhone(browser, backend.base, 'regular 3G')
  const figures = JSON.stringify(r)
  t.diagnostic(figures)
  // Everything the first visit costs her data plan: the page's own downloads and the service worker's precache.
  assert.ok(r.firstKiB + r.precacheKiB <= 200, `transferred: ${figures}`)
  // A repeat visit is served from the service worker: only the API's answers cross the network.
  assert.deepEqual(
    r.repeatFetched.filter((path) => !path.startsWith('/api/')),
    [],
    `repeat visit: ${figures}`,
  )
})

function idNumber(base17) {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
  return base17 + '10X98765432'[[...base17].reduce((s, d, i) => s + weights[i] * Number(d), 0) % 11]
}

test('with no signal the app still opens on her home and shows the form waiting to be sent', async () => {
  const context = await browser.newContext(PHONE)
  try {
    const page = await context.newPage()
    await login(page, backend.base, 'village.rep')
    assert.equal(new URL(page.url()).pathname, '/m')
    // The service worker has precached the shell and controls the page.
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true))
    await page.waitForFunction(() => !!navigator.serviceWorker.controller)

    await context.setOffline(true)
    // A phone form opened with no signal (its chunk comes from the precache), filled in and kept in the outbox.
    await page.goto(`${backend.base}/m/woman`)
    await page.fill('input[name=name]', '离线登记测试')
    await page.fill('input[name=id_number]', idNumber('43072519800101' + '022'))
    await page.getByRole('button', { name: '登记' }).click()
    await page.locator('[data-test=queued]').waitFor()
    await page.close()

    // The phone is put away and taken out again, still with no signal.
    const again = await context.newPage()
    const failed = []
    again.on('requestfailed', (r) => {
      if (!r.url().includes('/api/')) failed.push(r.url())
    })
    await again.goto(`${backend.base}/m`)
    await again.locator(HOME_READY).click({ trial: true })
    await again.locator('[data-test=home-waiting]').filter({ hasText: '1 份表单等待发送' }).waitFor()
    await again.locator('[data-test=outbox-badge]').filter({ hasText: '待发送 1' }).click()
    await again.locator('[data-test=outbox-list]').getByText('登记:离线登记测试').waitFor()
    assert.deepEqual(failed, [], 'every file of the phone pages came from the precache')
  } finally {
    await context.close()
  }
})
