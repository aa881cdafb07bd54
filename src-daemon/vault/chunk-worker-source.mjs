// The chunk worker run from the sources, as under vitest (built, it is
// chunk-worker.js and this file is not used): Node 20 reads no TypeScript, so
// this registers chunk-worker-hooks.mjs, then imports the entry named by
// argv (chunk-worker.ts).
import { register } from 'node:module'

register('./chunk-worker-hooks.mjs', import.meta.url)
await import(process.argv[2])
