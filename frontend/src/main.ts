import { createApp } from 'vue'
import { createPinia } from 'pinia'
import './styles.css'
import App from './App.vue'
import { router } from './router'
import { setAuthLostHandler } from './api/client'
import { useSession } from './stores/session'
import { startOutbox } from './api/outbox'

// Element Plus is not installed here: office pages import the parts they use (see vite.config.ts and OfficeShell.vue),
// so a phone opening /m never downloads it.
const app = createApp(App)
const pinia = createPinia()
app.use(pinia).use(router)
setAuthLostHandler(() => {
  useSession(pinia).forget()
  if (router.currentRoute.value.path !== '/login')
    router.push({ path: '/login', query: { next: router.currentRoute.value.fullPath } })
})
startOutbox()
app.mount('#app')

// A page left open across a new build asks for chunks the server no longer has: open the new build instead, at most
// once a minute (with no signal an office page cannot load at all, and reloading would only loop).
window.addEventListener('vite:preloadError', (event) => {
  const last = Number(sessionStorage.getItem('halfsky.reloaded') || 0)
  if (!navigator.onLine || Date.now() - last < 60000) return
  event.preventDefault()
  sessionStorage.setItem('halfsky.reloaded', String(Date.now()))
  window.location.reload()
})

// Phones reopen the app with no signal from the precached shell (a Workbox service worker written by the build, see
// vite.config.ts); development keeps no cache.
// Registered once the page has loaded, so the precache does not compete with the first page for a weak signal.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  const register = () => navigator.serviceWorker.register('/sw.js').catch(() => undefined)
  if (document.readyState === 'complete') register()
  else window.addEventListener('load', register, { once: true })
  // The cache of the hand-written service worker this one replaced.
  if ('caches' in window) caches.delete('halfsky-shell-v1').catch(() => undefined)
}
