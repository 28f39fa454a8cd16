import { defineConfig } from 'vite';

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
