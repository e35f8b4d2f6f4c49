// The app shell for phones on a weak signal: the page and its scripts open with no network, so forms kept in
// IndexedDB can be seen and sent later. The API is never cached; pages are network-first, hashed assets cache-first.
const CACHE = 'halfsky-shell-v1'

async function precache() {
  const cache = await caches.open(CACHE)
  const res = await fetch('/index.html', { cache: 'no-store' })
  if (!res.ok) return
  const html = await res.clone().text()
  await cache.put('/index.html', res)
  const assets = [...new Set(html.match(/\/assets\/[^"'\s>]+/g) || [])]
  await cache.addAll(assets)
}

self.addEventListener('install', (event) => {
  event.waitUntil(precache().catch(() => undefined).then(() => self.skipWaiting()))
})

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) if (key !== CACHE) await caches.delete(key)
    await self.clients.claim()
  })())
})

self.addEventListener('fetch', (event) => {
  const request = event.request
  if (request.method !== 'GET') return
  const url = new URL(request.url)
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/') || url.pathname.startsWith('/docs')) return
  if (request.mode === 'navigate') {
    event.respondWith(
      fetch(request)
        .then((res) => {
          if (res.ok) caches.open(CACHE).then((c) => c.put('/index.html', res.clone())).catch(() => undefined)
          return res.clone()
        })
        .catch(() => caches.match('/index.html')),
    )
    return
  }
  if (url.pathname.startsWith('/assets/')) {
    event.respondWith(
      caches.match(request).then((hit) => hit || fetch(request).then((res) => {
        if (res.ok) {
          const copy = res.clone()
          caches.open(CACHE).then((c) => c.put(request, copy)).catch(() => undefined)
        }
        return res
      })),
    )
  }
})
