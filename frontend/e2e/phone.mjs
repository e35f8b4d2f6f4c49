// A village rep's phone on an emulated network (Chrome DevTools Protocol), shared by phone-3g.test.mjs and
// bench/phone_3g.mjs: how long until the login form and her home can be used, and how many bytes came over the wire.
import { PASSWORD } from './harness.mjs'

const kbit = (n) => Math.round((n * 1000) / 8)
/** Throughput in bytes/s and round-trip latency in ms, as Network.emulateNetworkConditions takes them. */
export const NETWORKS = {
  'regular 3G': { latency: 100, downloadThroughput: kbit(750), uploadThroughput: kbit(250) },
  'slow 3G': { latency: 400, downloadThroughput: kbit(400), uploadThroughput: kbit(400) },
  '4G': { latency: 20, downloadThroughput: kbit(4000), uploadThroughput: kbit(3000) },
}

export const PHONE = { viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true, locale: 'zh-CN' }

/** The element of her home that says it is usable: the tile that opens the activity form. */
export const HOME_READY = '[data-test=tile-activity]'

/**
 * A page with the network emulated and every finished response's encoded size counted. The conditions are set on
 * the page's own CDP session; what the service worker fetches for its precache is counted apart (`swBytes`).
 */
export async function throttledPage(context, network) {
  const page = await context.newPage()
  const cdp = await context.newCDPSession(page)
  await cdp.send('Network.enable')
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: false })
  await cdp.send('Network.emulateNetworkConditions', { offline: false, ...NETWORKS[network] })
  const urls = new Map()
  const meter = {
    bytes: 0,
    requests: 0,
    // Each finished response that crossed the network: its path and encoded bytes.
    files: [],
    reset() {
      this.bytes = 0
      this.requests = 0
      this.files = []
    },
  }
  cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, new URL(e.request.url).pathname))
  cdp.on('Network.loadingFinished', (e) => {
    meter.bytes += e.encodedDataLength
    meter.requests += 1
    if (e.encodedDataLength > 0) meter.files.push({ path: urls.get(e.requestId), bytes: e.encodedDataLength })
  })
  return { page, cdp, meter }
}

/** Waits until the element is visible and would take a tap (Playwright's actionability checks, nothing clicked). */
export async function usable(page, selector, timeout = 60000) {
  const el = page.locator(selector).first()
  await el.waitFor({ state: 'visible', timeout })
  await el.click({ trial: true, timeout })
}

const seconds = (ms) => Math.round(ms / 10) / 100

/**
 * First visit on a fresh phone: open /login (nothing cached), log in, wait for her home; then a repeat visit in a
 * new tab of the same browser (cache and service worker in place). Times in seconds, bytes in KiB.
 */
export async function measurePhone(browser, base, network, username = 'village.rep') {
  const context = await browser.newContext(PHONE)
  // What the service worker fetches for its precache, in the background (not throttled: emulation is per page).
  let swBytes = 0
  const swSizes = []
  context.on('requestfinished', (req) => {
    if (req.serviceWorker())
      swSizes.push(
        req.sizes().then(
          (s) => (swBytes += s.responseBodySize + s.responseHeadersSize),
          () => undefined,
        ),
      )
  })
  try {
    const first = await throttledPage(context, network)
    const t0 = Date.now()
    await first.page.goto(`${base}/login`, { waitUntil: 'commit' })
    await usable(first.page, 'input[name=username]')
    await usable(first.page, 'button[type=submit]')
    const loginForm = Date.now() - t0
    await first.page.fill('input[name=username]', username)
    await first.page.fill('input[name=password]', PASSWORD)
    const t1 = Date.now()
    await first.page.click('button[type=submit]')
    await usable(first.page, HOME_READY)
    const afterLogin = Date.now() - t1
    const firstVisit = Date.now() - t0
    // Whatever the home still fetches (names, counts) belongs to the first visit too.
    await first.page.waitForLoadState('networkidle').catch(() => undefined)
    const firstBytes = first.meter.bytes
    const firstRequests = first.meter.requests
    // The service worker has its precache once it is active.
    await first.page.evaluate(() => navigator.serviceWorker?.ready.then(() => true))
    await Promise.all(swSizes)
    const precacheBytes = swBytes
    await first.page.close()

    const again = await throttledPage(context, network)
    const t2 = Date.now()
    await again.page.goto(`${base}/m`, { waitUntil: 'commit' })
    await usable(again.page, HOME_READY)
    const repeat = Date.now() - t2
    await again.page.waitForLoadState('networkidle').catch(() => undefined)
    const repeatBytes = again.meter.bytes
    const repeatFiles = again.meter.files
    await again.page.close()
    return {
      network,
      loginForm: seconds(loginForm),
      afterLogin: seconds(afterLogin),
      firstVisit: seconds(firstVisit),
      repeat: seconds(repeat),
      firstKiB: Math.round(firstBytes / 1024),
      firstRequests,
      repeatKiB: Math.round(repeatBytes / 1024),
      // What the repeat visit fetched over the network (the page files should come from the service worker).
      repeatFetched: repeatFiles.map((f) => f.path),
      firstFiles: first.meter.files.map((f) => `${f.path} ${Math.round(f.bytes / 102.4) / 10}`),
      precacheKiB: Math.round(precacheBytes / 1024),
    }
  } finally {
    await context.close()
  }
}
