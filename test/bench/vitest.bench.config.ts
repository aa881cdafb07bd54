// Benchmarks (test/bench/*.bench.ts): one file at a time, no time limit,
// console output straight through; they print figures and assert nothing
// about speed. Runs vault.bench.ts unless BENCH_FILE names another:
//   npx vitest run --config test/bench/vitest.bench.config.ts
//   BENCH_FILE=test/bench/pg-dedup.bench.ts npx vitest run --config test/bench/vitest.bench.config.ts
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
