// Starts a real backend on a fresh SQLite database and a Debian Chromium for the browser tests.
import { spawn, execFileSync } from 'node:child_process'
import { deflateSync } from 'node:zlib'
import { cpSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium } from 'playwright-core'

export const ROOT = resolve(import.meta.dirname, '..', '..')
export const PASSWORD = 'HalfSky-demo-2026'
const HALFSKY = join(ROOT, '.venv', 'bin', 'halfsky')
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer()
    srv.once('error', fail)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => ok(port))
    })
  })
}

function installation(dir) {
  const env = {
    ...process.env,
    DATABASE_URL: `sqlite:///${join(dir, 'halfsky.db')}`,
    HALFSKY_SPA_DIR: join(ROOT, 'frontend', 'dist'),
    MEDIA_DIR: join(dir, 'media'),
  }
  delete env.HALFSKY_ENV
  return env
}

// The demo county (database and photos), built once and copied for each backend when HALFSKY_E2E_DEMO names a
// place for it: `make test` does (and removes it after), so the files, run one after another, each start from the
// same fresh state without each loading the demo. Without it every backend loads its own.
const DEMO = process.env.HALFSKY_E2E_DEMO

function loadDemo(dir) {
  const env = installation(dir)
  execFileSync(HALFSKY, ['migrate'], { env, cwd: ROOT, stdio: 'pipe' })
  execFileSync(HALFSKY, ['demo'], { env, cwd: ROOT, stdio: 'pipe' })
}

function demoInstallation(dir) {
  if (!DEMO) return loadDemo(dir)
  if (!existsSync(DEMO)) {
    const building = `${DEMO}.building`
    rmSync(building, { recursive: true, force: true })
    loadDemo(building)
    renameSync(building, DEMO)
  }
  cpSync(DEMO, dir, { recursive: true })
}

export async function startBackend() {
  if (!existsSync(join(ROOT, 'frontend', 'dist', 'index.html')))
    throw new Error('frontend/dist 不存在:先运行 vite build')
  const dir = mkdtempSync(join(tmpdir(), 'halfsky-e2e-'))
  demoInstallation(dir)
  const env = installation(dir)
  const port = await freePort()
  const proc = spawn(HALFSKY, ['serve', '--host', '127.0.0.1', '--port', String(port)], {
    env,
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  proc.stdout.on('data', (d) => (log += d))
  proc.stderr.on('data', (d) => (log += d))
  const base = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30000
  for (;;) {
    try {
      const r = await fetch(`${base}/api/v1/health`)
      if (r.ok) break
    } catch {
      /* not up yet */
    }
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`backend did not start:\n${log}`)
    await new Promise((r) => setTimeout(r, 200))
  }
  return {
    base,
    log: () => log,
    async stop() {
      proc.kill('SIGTERM')
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export async function startBrowser() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
  return watchContentSecurityPolicy(browser)
}

/** Every page of every context reports Content-Security-Policy violations into `browser.cspViolations`; each test
 *  file's after hook asserts it is empty (see assertNoCspViolations). */
function watchContentSecurityPolicy(browser) {
  const violations = []
  const listen = (target) => {
    target.on('console', (msg) => {
      if (/Content Security Policy/i.test(msg.text())) violations.push(`${msg.location()?.url || ''}: ${msg.text()}`)
    })
    return target
  }
  const newContext = browser.newContext.bind(browser)
  browser.newContext = async (...args) => listen(await newContext(...args))
  const newPage = browser.newPage.bind(browser)
  browser.newPage = async (...args) => listen(await newPage(...args))
  browser.cspViolations = violations
  return browser
}

/** For after hooks, once the browser and backend are stopped: the built app ran without any CSP violation. */
export function assertNoCspViolations(browser) {
  const seen = [...new Set(browser?.cspViolations ?? [])]
  if (seen.length) throw new Error(`Content Security Policy violations:\n${seen.join('\n')}`)
}

/** A token for API checks made by the test itself. */
export async function apiToken(base, username) {
  const r = await fetch(`${base}/api/v1/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username, password: PASSWORD }),
  })
  if (!r.ok) throw new Error(`login ${username}: ${r.status}`)
  return (await r.json()).access_token
}

export async function apiGet(base, token, path) {
  const r = await fetch(`${base}/api/v1${path}`, { headers: { Authorization: `Bearer ${token}` } })
  if (!r.ok) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`)
  return r.json()
}

/** Log in through the login page; resolves when the app has left /login. */
export async function login(page, base, username) {
  await page.goto(`${base}/login`)
  await page.fill('input[name=username]', username)
  await page.fill('input[name=password]', PASSWORD)
  await page.click('button[type=submit]')
  await page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: 15000 })
}

/** A real PNG (a small coloured square), as a phone camera would hand over an image file. */
export function pngBuffer(size = 32, rgb = [200, 60, 80]) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    return c >>> 0
  })
  const crc = (buf) => {
    let c = 0xffffffff
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8)
    return (c ^ 0xffffffff) >>> 0
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4)
    len.writeUInt32BE(data.length)
    const body = Buffer.concat([Buffer.from(type), data])
    const sum = Buffer.alloc(4)
    sum.writeUInt32BE(crc(body))
    return Buffer.concat([len, body, sum])
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(size, 0)
  ihdr.writeUInt32BE(size, 4)
  ihdr[8] = 8
  ihdr[9] = 2
  const raw = Buffer.alloc(size * (size * 3 + 1))
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) raw.set(rgb, y * (size * 3 + 1) + 1 + x * 3)
  }
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ])
}
