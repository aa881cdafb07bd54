// One config, four outputs: the Electron main process, its preload, the renderer,
// and the plain-Node daemon (with its chunk worker) and CLI entries (bundled
// with the main build so the desktop app and `bulwark` run the same code). Dependencies stay external,
// the native ones (better-sqlite3, zstd-napi, @napi-rs/keyring) included.
import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import vue from '@vitejs/plugin-vue'

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src-main/index.ts'),
          daemon: resolve(__dirname, 'src-daemon/daemon-entry.ts'),
          cli: resolve(__dirname, 'src-daemon/cli/index.ts'),
          agent: resolve(__dirname, 'src-daemon/agent-entry.ts'),
          // The vault's worker thread, found beside daemon.js (vault/chunk-pool.ts).
          'chunk-worker': resolve(__dirname, 'src-daemon/vault/chunk-worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { index: resolve(__dirname, 'src-main/preload.ts') },
        // Sandboxed preloads must be CommonJS.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src-renderer',
    plugins: [vue()],
    build: {
      outDir: 'out/renderer',
      rollupOptions: { input: { index: resolve(__dirname, 'src-renderer/index.html') } },
    },
  },
})
