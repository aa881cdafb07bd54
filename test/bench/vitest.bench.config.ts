// The vault benchmark (test/bench/*.bench.ts): one file at a time, no time
// limit, console output straight through. It prints figures and asserts
// nothing about speed. Run: npx vitest run --config test/bench/vitest.bench.config.ts
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: [process.env.BENCH_FILE ?? 'test/bench/**/vault.bench.ts'],
    testTimeout: 60 * 60_000,
    hookTimeout: 60_000,
    maxWorkers: 1,
    disableConsoleIntercept: true,
  },
})
