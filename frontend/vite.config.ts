/// <reference types="vitest/config" />
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, URL } from 'node:url'
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib'
import { defineConfig, type Plugin } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import AutoImport from 'unplugin-auto-import/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import { VantResolver } from '@vant/auto-import-resolver'
import { VitePWA } from 'vite-plugin-pwa'

/**
 * The files a village rep's phone needs with no signal: the entry chunk, the login page and the phone pages
 * (`src/mobile/`), with everything they import statically and their stylesheets. Only these are precached by the
 * service worker; the office pages (Element Plus, ECharts) are fetched when an office PC opens them.
 */
function phoneShell(): Plugin & { files: Set<string> } {
  const files = new Set<string>(['index.html'])
  const phoneModule = /\/src\/(mobile\/[^/]+\.vue|views\/LoginView\.vue)$/
  return {
    name: 'halfsky-phone-shell',
    apply: 'build',
    files,
    generateBundle(_options, bundle) {
      const visit = (name: string) => {
        const chunk = bundle[name]
        if (!chunk || files.has(name)) return
        files.add(name)
        if (chunk.type !== 'chunk') return
        for (const css of chunk.viteMetadata?.importedCss ?? []) files.add(css)
        for (const asset of chunk.viteMetadata?.importedAssets ?? []) files.add(asset)
        chunk.imports.forEach(visit)
      }
      for (const [name, chunk] of Object.entries(bundle)) {
        if (
          chunk.type === 'chunk' &&
          (chunk.isEntry || (chunk.facadeModuleId && phoneModule.test(chunk.facadeModuleId)))
        )
          visit(name)
      }
    },
  }
}

/**
 * Brotli and gzip copies next to every compressible file of the build, served by the backend according to the
 * browser's Accept-Encoding (backend/core/static.py). Runs last, after the service worker is written.
 */
function precompress(minBytes = 1024): Plugin {
  let outDir = 'dist'
  const compressible = /\.(js|mjs|css|html|svg|json|webmanifest|txt)$/
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
    )
  return {
    name: 'halfsky-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir
    },
    closeBundle: {
      order: 'post',
      sequential: true,
      handler() {
        for (const file of walk(outDir)) {
          if (!compressible.test(file) || statSync(file).size < minBytes) continue
          const data = readFileSync(file)
          writeFileSync(
            `${file}.br`,
            brotliCompressSync(data, {
              params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: data.length },
            }),
          )
          writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }))
        }
      },
    },
  }
}

/**
 * Vant's icon font names a CDN copy after its embedded one: drop it, so an icon never sends a phone to another
 * host (with no signal, or behind the Content Security Policy, which names only our own origin).
 */
function noFontCdn(): Plugin {
  const cdn = /,\s*url\(["']?(?:https?:)?\/\/at\.alicdn\.com[^)]*\)\s*format\(["']?woff["']?\)/g
  return {
    name: 'halfsky-no-font-cdn',
    enforce: 'pre',
    transform(code, id) {
      if (!/[\\/]vant[\\/].*\.css$/.test(id.split('?')[0])) return null
      const stripped = code.replace(cdn, '')
      return stripped === code ? null : { code: stripped, map: null }
    },
  }
}

const shell = phoneShell()

export default defineConfig({
  plugins: [
    noFontCdn(),
    vue(),
    // Element Plus and Vant components are imported where a template uses them, each with its own stylesheet:
    // the phone pages never load Element Plus, and an office page loads only the parts it shows.
    Components({
      resolvers: [ElementPlusResolver({ importStyle: 'css' }), VantResolver({ importStyle: 'css' })],
      dts: false,
    }),
    AutoImport({ resolvers: [ElementPlusResolver({ importStyle: 'css' })], dts: false }),
    shell,
    VitePWA({
      strategies: 'generateSW',
      injectRegister: false,
      manifest: false,
      filename: 'sw.js',
      workbox: {
        globPatterns: ['**/*.{js,css,html}'],
        // Only the phone's shell (see phoneShell); office chunks stay out of a phone's precache.
        manifestTransforms: [
          async (entries) => ({
            manifest: entries.filter((e) => shell.files.has(e.url.replace(/^\//, ''))),
            warnings: [],
          }),
        ],
        // Hashed file names are their own revision.
        dontCacheBustURLsMatching: /^assets\//,
        // Deep links (/m/outbox) open the precached page with no signal; the API and the docs are never cached.
        navigateFallback: 'index.html',
        navigateFallbackDenylist: [/^\/api\//, /^\/docs/],
        runtimeCaching: [],
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        skipWaiting: true,
        sourcemap: false,
      },
    }),
    precompress(),
  ],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  server: { proxy: { '/api': 'http://127.0.0.1:8000' } },
  build: { chunkSizeWarningLimit: 2000 },
  test: {
    environment: 'happy-dom',
    include: ['tests/**/*.test.ts'],
    server: { deps: { inline: ['element-plus', 'vant'] } },
  },
})
