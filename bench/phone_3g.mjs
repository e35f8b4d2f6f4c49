// A village rep's phone on regular 3G, slow 3G and 4G (Debian's Chromium, network emulated over CDP, 375 px):
// when the login form and her home can be used, on a first and a repeat visit, and what the first visit transfers.
//
//   node bench/phone_3g.mjs                 # starts the app on frontend/dist (as `make run` serves it) on a fresh
//                                           # SQLite database with the demo county
//   node bench/phone_3g.mjs --base http://127.0.0.1:8000   # measures a server already running (e.g. `make run`)
//   node bench/phone_3g.mjs --runs 3        # the median of three runs per network
import { startBackend, startBrowser } from '../frontend/e2e/harness.mjs'
import { measurePhone, NETWORKS } from '../frontend/e2e/phone.mjs'

const args = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : fallback
}
const runs = Number(opt('--runs', '1'))
let backend = null
const base = opt('--base') ?? (backend = await startBackend()).base
const browser = await startBrowser()
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

try {
  const rows = []
  for (const network of Object.keys(NETWORKS)) {
    const results = []
    for (let i = 0; i < runs; i++) results.push(await measurePhone(browser, base, network))
    const m = (k) => median(results.map((r) => r[k]))
    rows.push(`| ${network} | ${m('loginForm').toFixed(2)} s | ${m('afterLogin').toFixed(2)} s | ${m('firstVisit').toFixed(2)} s | ${m('repeat').toFixed(2)} s | ${m('firstKiB')} KiB (${m('firstRequests')} requests) | ${m('precacheKiB')} KiB |`)
    console.error(`${network}: ${JSON.stringify(results)}`)
  }
  console.log('| network | login form usable after | home usable after login | first visit: open → home usable | repeat visit: home usable after | first visit transferred | + service worker precache, after |')
  console.log('|---|---:|---:|---:|---:|---:|---:|')
  for (const row of rows) console.log(row)
} finally {
  await browser.close()
  await backend?.stop()
}
