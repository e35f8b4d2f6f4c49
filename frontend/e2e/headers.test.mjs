// Browser security headers on the built app and the API, and proof that the CSP watch of the other browser tests
// sees a violation when one happens.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startBackend, startBrowser } from './harness.mjs'

let backend
let browser

before(async () => {
  backend = await startBackend()
  browser = await startBrowser()
})

after(async () => {
  await browser?.close()
  await backend?.stop()
})

test('the app and the API send a Content Security Policy, nosniff, a referrer policy and refuse framing', async () => {
  for (const path of ['/', '/login', '/api/v1/health']) {
    const r = await fetch(`${backend.base}${path}`)
    const csp = r.headers.get('content-security-policy') || ''
    assert.match(csp, /frame-ancestors 'none'/, path)
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path)
    assert.equal(r.headers.get('referrer-policy'), 'same-origin', path)
    assert.equal(r.headers.get('strict-transport-security'), null, `${path}: no HSTS over plain HTTP`)
  }
  const spa = (await fetch(`${backend.base}/`)).headers.get('content-security-policy')
  assert.match(spa, /script-src 'self';/)
})

test('an injected inline script is blocked by the policy and reported as a violation', async () => {
  const context = await browser.newContext()
  const page = await context.newPage()
  try {
    await page.goto(`${backend.base}/login`)
    await page.waitForSelector('input[name=username]')
    const before = browser.cspViolations.length
    await page.evaluate(() => {
      const s = document.createElement('script')
      s.textContent = 'window.__injected = true'
      document.body.appendChild(s)
    })
    await page.waitForTimeout(300)
    assert.equal(await page.evaluate(() => window.__injected), undefined)
    assert.ok(browser.cspViolations.length > before, 'the violation was seen')
    browser.cspViolations.length = 0
  } finally {
    await context.close()
  }
})
