#!/usr/bin/env node
// Builds the chunker's WebAssembly gear scan from its source: compiles
// src-daemon/vault/gear-scan.wat and writes the module's bytes, with the
// source's sha256, to src-daemon/vault/gear-scan-wasm.ts, which is checked in
// (so building and testing need no WebAssembly toolchain, and
// test/unit/vault-gear-scan.test.ts fails if the .wat changed since).
// Compiler: the npm package wabt when installed, else wat2wasm from WABT
// (Debian and Ubuntu: apt-get install wabt). wabt is a devDependency, and test/unit/vault-gear-scan.test.ts runs --check.
// Usage: node scripts/build-gear-scan.mjs [--check]   (--check: compile and compare, write nothing)
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const SOURCE = join(root, 'src-daemon/vault/gear-scan.wat')
const OUTPUT = join(root, 'src-daemon/vault/gear-scan-wasm.ts')

/** The source as hashed: line endings normalized, so a CRLF checkout hashes the same. */
const text = readFileSync(SOURCE, 'utf8').replace(/\r\n/g, '\n')

async function compile() {
  let wabt
  try {
    wabt = await import('wabt')
  } catch {
    // not installed: the command below
  }
  if (wabt) {
    const module = (await wabt.default()).parseWat('gear-scan.wat', text)
    module.validate()
    const { buffer } = module.toBinary({ log: false, write_debug_names: false })
    module.destroy()
    return { bytes: Buffer.from(buffer), by: 'the npm package wabt' }
  }
  const dir = mkdtempSync(join(tmpdir(), 'gear-scan-'))
  try {
    const out = join(dir, 'gear-scan.wasm')
    const r = spawnSync('wat2wasm', [SOURCE, '-o', out], { encoding: 'utf8' })
    if (r.error || r.status !== 0) {
      console.error(
        r.error
          ? 'no WebAssembly text compiler: install the npm package wabt, or WABT (apt-get install wabt)'
          : r.stderr,
      )
      process.exit(2)
    }
    const version = spawnSync('wat2wasm', ['--version'], { encoding: 'utf8' }).stdout.trim()
    return { bytes: readFileSync(out), by: `wat2wasm ${version}` }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const { bytes, by } = await compile()
const sha256 = createHash('sha256').update(text).digest('hex')
const base64 = bytes.toString('base64')

if (process.argv.includes('--check')) {
  const current = readFileSync(OUTPUT, 'utf8')
  const ok = current.includes(`'${base64}'`) && current.includes(`'${sha256}'`)
  console.log(
    ok ? 'gear-scan-wasm.ts is up to date' : 'gear-scan-wasm.ts is stale: run this without --check',
  )
  process.exit(ok ? 0 : 1)
}

writeFileSync(
  OUTPUT,
  `// Generated from gear-scan.wat by scripts/build-gear-scan.mjs (${by}): do not edit.

/** sha256 of the gear-scan.wat these bytes were compiled from (with LF line endings). */
export const GEAR_SCAN_WAT_SHA256 =
  '${sha256}'

/** The compiled module (${bytes.length} bytes), base64. */
export const GEAR_SCAN_WASM_BASE64 =
  '${base64}'
`,
)
console.log(`wrote ${OUTPUT}: ${bytes.length} bytes, compiled by ${by}`)
