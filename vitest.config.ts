import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  // Component tests import .vue files.
  plugins: [vue()],
  test: {
    include: ['test/**/*.test.ts', 'plugins/**/*.test.ts', 'src-*/**/*.spec.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites start real daemons and servers; two at a time fits two cores.
    maxWorkers: 2,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
})
