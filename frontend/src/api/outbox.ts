/**
 * The phone's outbox: a form is stored in IndexedDB with its Idempotency-Key before it is sent, and sent again when
 * the signal returns (online event, and a retry timer), so nothing is lost; the key makes every resend a replay on the
 * server, so nothing is doubled.
 */
import { reactive } from 'vue'
import { ApiError } from './errors'

export interface StoredFile {
  name: string
  type: string
  data: ArrayBuffer
}

export interface OutboxItem {
  key: string
  kind: string
  /** What the rep sees in the waiting list, e.g. "活动:三八维权宣传". */
  label: string
  createdAt: number
  payload: Record<string, unknown>
  files: StoredFile[]
  /** Steps already done (e.g. the created activity's id), so a resend continues where it stopped. */
  progress: Record<string, unknown>
  attempts: number
  /** Who filled it in: only she sends it, even if someone else logs in on the same phone. */
  owner?: string
  lastError?: string
  /** The server refused it for good (e.g. a field is wrong): kept for the rep to see, not retried. */
  failed?: boolean
}

export interface SendContext {
  /** Remember a finished step of a multi-step send. */
  save(progress: Record<string, unknown>): Promise<void>
}
export type Sender = (item: OutboxItem, ctx: SendContext) => Promise<void>

const DB_NAME = 'halfsky'
const STORE = 'outbox'

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1)
    req.onupgradeneeded = () => {
      if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE, { keyPath: 'key' })
    }
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
}

async function tx<T>(mode: IDBTransactionMode, fn: (store: IDBObjectStore) => IDBRequest<T> | void): Promise<T> {
  const db = await openDb()
  try {
    return await new Promise<T>((resolve, reject) => {
      const t = db.transaction(STORE, mode)
      const req = fn(t.objectStore(STORE))
      t.oncomplete = () => resolve(req ? req.result : (undefined as T))
      t.onerror = () => reject(t.error)
      t.onabort = () => reject(t.error)
    })
  } finally {
    db.close()
  }
}

export const idb = {
  put: (item: OutboxItem) => tx('readwrite', (s) => s.put(item)).then(() => undefined),
  delete: (key: string) => tx('readwrite', (s) => s.delete(key)).then(() => undefined),
  all: () =>
    tx<OutboxItem[]>('readonly', (s) => s.getAll()).then((items) => items.sort((a, b) => a.createdAt - b.createdAt)),
}

export function newKey(): string {
  if (typeof crypto !== 'undefined' && 'randomUUID' in crypto) return crypto.randomUUID()
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`
}

export async function storeFile(file: Blob & { name?: string }): Promise<StoredFile> {
  const small = await shrinkPhoto(file)
  return {
    name: small === file ? file.name || 'photo.jpg' : 'photo.jpg',
    type: small.type || 'image/jpeg',
    data: await small.arrayBuffer(),
  }
}

const MAX_SIDE = 1600
/**
 * A phone camera's photo (often 3–8 MB) is scaled to at most 1600 px and re-encoded as JPEG before it is kept, so it
 * goes through a weak signal; small pictures and anything the browser cannot decode are kept as they are.
 */
export async function shrinkPhoto(file: Blob): Promise<Blob> {
  if (file.size < 600 * 1024 || typeof createImageBitmap === 'undefined' || typeof document === 'undefined') return file
  try {
    const bitmap = await createImageBitmap(file)
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height))
    const canvas = document.createElement('canvas')
    canvas.width = Math.round(bitmap.width * scale)
    canvas.height = Math.round(bitmap.height * scale)
    canvas.getContext('2d')?.drawImage(bitmap, 0, 0, canvas.width, canvas.height)
    bitmap.close()
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.82))
    return blob && blob.size < file.size ? blob : file
  } catch {
    return file
  }
}

export function toFile(stored: StoredFile): File {
  return new File([stored.data], stored.name, { type: stored.type })
}

export interface OutboxOptions {
  senders: Record<string, Sender>
  isOnline?: () => boolean
  owner?: () => string | undefined
}

export type SubmitResult = { sent: true } | { sent: false; reason: string }

export function createOutbox(options: OutboxOptions) {
  const isOnline = options.isOnline ?? (() => (typeof navigator === 'undefined' ? true : navigator.onLine))
  const owner = options.owner ?? (() => undefined)
  const state = reactive({ items: [] as OutboxItem[], sending: false, lastRun: 0 })
  const mine = (item: OutboxItem) => !item.owner || item.owner === owner()
  let running: Promise<void> | null = null

  async function refresh() {
    state.items = (await idb.all()).filter(mine)
  }

  async function sendOne(item: OutboxItem): Promise<void> {
    const sender = options.senders[item.kind]
    if (!sender) throw new ApiError(400, { detail: `未知的表单类型:${item.kind}` })
    item.attempts += 1
    await sender(item, {
      async save(progress) {
        item.progress = { ...item.progress, ...progress }
        await idb.put(item)
      },
    })
    await idb.delete(item.key)
  }

  /** Send everything waiting, oldest first; stops at the first sign of no signal. Single flight. */
  function flush(): Promise<void> {
    if (running) return running
    running = (async () => {
      state.sending = true
      try {
        for (const item of await idb.all()) {
          if (item.failed || !mine(item)) continue
          if (!isOnline()) break
          try {
            await sendOne(item)
          } catch (e) {
            const err = e instanceof ApiError ? e : ApiError.network(e)
            item.lastError = err.detail
            // No signal, server trouble or a lapsed login: keep it waiting; anything else is a refusal for good.
            const waiting = err.isTransient || err.status === 401
            if (!waiting) item.failed = true
            await idb.put(item)
            if (waiting) break
          }
        }
      } finally {
        state.sending = false
        state.lastRun = Date.now()
        running = null
        await refresh()
      }
    })()
    return running
  }

  /**
   * Keep the form, then try to send it now. A refusal by the server (wrong field) is thrown so the form can show it,
   * and the item is dropped; no signal keeps it waiting.
   */
  async function submit(
    kind: string,
    label: string,
    payload: Record<string, unknown>,
    files: StoredFile[] = [],
  ): Promise<SubmitResult> {
    const item: OutboxItem = {
      key: newKey(),
      kind,
      label,
      createdAt: Date.now(),
      payload,
      files,
      progress: {},
      attempts: 0,
      owner: owner(),
    }
    await idb.put(item)
    await refresh()
    if (!isOnline()) return { sent: false, reason: '没有信号' }
    if (running) await running
    try {
      await sendOne(item)
      await refresh()
      return { sent: true }
    } catch (e) {
      const err = e instanceof ApiError ? e : ApiError.network(e)
      if (err.isTransient || err.status === 401) {
        item.lastError = err.detail
        await idb.put(item)
        await refresh()
        return { sent: false, reason: err.detail }
      }
      await idb.delete(item.key)
      await refresh()
      throw err
    }
  }

  async function discard(key: string) {
    await idb.delete(key)
    await refresh()
  }

  async function retry(key: string) {
    const item = state.items.find((i) => i.key === key)
    if (item) {
      item.failed = false
      await idb.put({ ...item })
    }
    await flush()
  }

  return { state, refresh, flush, submit, discard, retry }
}

export type Outbox = ReturnType<typeof createOutbox>

let instance: Outbox | null = null
const senders: Record<string, Sender> = {}
let currentOwner: string | undefined

/** The signed-in user's name: the outbox shows and sends only her forms. */
export function setOutboxOwner(username: string | undefined) {
  currentOwner = username
  if (instance)
    void instance.refresh().then(() => (username && instance!.state.items.length ? instance!.flush() : undefined))
}

export function registerSender(kind: string, sender: Sender) {
  senders[kind] = sender
}

export function outbox(): Outbox {
  if (!instance) instance = createOutbox({ senders, owner: () => currentOwner })
  return instance
}

/** Wire the app's outbox to the signal: send on `online`, and retry every 20 s while something waits. */
export function startOutbox(intervalMs = 20000) {
  const box = outbox()
  if (typeof window === 'undefined' || typeof indexedDB === 'undefined') return box
  window.addEventListener('online', () => void box.flush())
  box
    .refresh()
    .then(() => (box.state.items.length ? box.flush() : undefined))
    .catch(() => undefined)
  setInterval(() => {
    if (box.state.items.some((i) => !i.failed)) void box.flush()
  }, intervalMs)
  return box
}
