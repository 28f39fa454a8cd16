import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

// The app serves the build from app/static at `/` (app/main.py). `npm run dev` proxies the API
// and the stream to a running `sitcen serve`.
export default defineConfig({
  base: '/',
  build: {
    outDir: '../app/static',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    sourcemap: false,
  },
  plugins: [
    // The installable app (docs/mobile.md "Installable app"): the manifest, and our own service
    // worker (src/sw.js) given the list of the build's files to precache (injectManifest). The
    // plugin links the manifest from index.html; src/pwa.js, not the plugin, registers the worker.
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.js',
      injectRegister: false,
      registerType: 'autoUpdate',
      manifestFilename: 'manifest.webmanifest',
      manifest: {
        id: '/',
        // The same in French, Dutch and English: the service's own name.
        name: 'SITCEN Brussels',
        short_name: 'SITCEN',
        description: 'SITCEN · Brussels-Capital crisis centre · situational awareness',
        lang: 'en',
        dir: 'ltr',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'any',
        // The dark (night-shift) theme's background: no white flash when a phone opens the app
        // at night. The page's <meta name="theme-color"> follows the theme in force.
        theme_color: '#0b0f14',
        background_color: '#0b0f14',
        categories: ['utilities', 'navigation'],
        icons: [
          { src: 'pwa-64x64.png', sizes: '64x64', type: 'image/png' },
          { src: 'pwa-192x192.png', sizes: '192x192', type: 'image/png' },
          { src: 'pwa-512x512.png', sizes: '512x512', type: 'image/png' },
          { src: 'maskable-icon-512x512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: 'icon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
      },
      injectManifest: {
        // The map library is the biggest file of the shell, and it is the shell.
        maximumFileSizeToCacheInBytes: 8 * 1024 * 1024,
        // A classic worker: every browser runs one (module workers are recent in Firefox).
        rollupFormat: 'iife',
        globPatterns: ['**/*.{js,css,html,svg,png,ico,webmanifest,woff2,pbf,json}'],
      },
      devOptions: { enabled: false },
    }),
  ],
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8000',
      '/ws': { target: 'ws://127.0.0.1:8000', ws: true },
    },
  },
  test: {
    include: ['test/**/*.test.js'],
    environment: 'node',
  },
});
