#!/usr/bin/env node
// `bulwark daemon …` runs the daemon, `bulwark agent …` a remote agent; every
// other command is the API client.
// Both are built by `npm run build` (electron-vite) into out/main.
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

const entry = ['daemon', 'agent'].includes(process.argv[2]) ? process.argv[2] : 'cli'
const file = fileURLToPath(new URL(`../out/main/${entry}.js`, import.meta.url))
if (!existsSync(file)) {
  process.stderr.write(
    `bulwark: ${file} is missing: Bulwark has not been built yet.\nRun:  npm run build\n`,
  )
  process.exit(1)
}
if (entry !== 'cli') process.argv.splice(2, 1)
await import(pathToFileURL(file).href)
