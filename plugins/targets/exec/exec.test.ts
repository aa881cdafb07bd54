// Tests of the `exec` target with real shells and processes: a tar round trip,
// stderr in the task log, failing exits, pipelines killed as a whole on abort,
// and the connection test that only parses the commands.
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import type { TargetPlugin } from '../../sdk/types'
import {
  childGroups,
  loadPlugin,
  readAll,
  survivors,
  testContext,
} from '../../sdk/conformance/services'
import { targetConformance } from '../../sdk/conformance/target-suite'
import { firstProgram } from './index'
import { waitFor } from '../../../test/helpers/wait'

let plugin: TargetPlugin
let base: string
let dir: string

const ep = (backup_command: string, restore_command = 'cat >/dev/null', extra = {}) => ({
  backup_command,
  restore_command,
  ...extra,
})
async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a rejection')
    },
    (err: Error) => err,
  )
}
/** The process groups started since `before`, once the plugin's pipeline is running. */
const newGroups = (before: Set<number>) =>
  waitFor('the pipeline to start', () => {
    const groups = new Set([...childGroups()].filter((g) => !before.has(g)))
    return groups.size > 0 ? groups : undefined
  })

const hashTree = async (root: string): Promise<Record<string, string>> => {
  const out: Record<string, string> = {}
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue
    const p = join(e.parentPath, e.name)
    out[p.slice(root.length)] = createHash('sha256')
      .update(await readFile(p))
      .digest('hex')
  }
  return out
}

beforeAll(async () => {
  plugin = await loadPlugin('target', 'exec')
  base = await mkdtemp(join(tmpdir(), 'bulwark-exec-test-'))
})
afterAll(async () => {
  await rm(base, { recursive: true, force: true })
})
beforeEach(async () => {
  dir = await mkdtemp(join(base, 'case-'))
})

describe('target exec', () => {
  it('round-trips a directory through tar', async () => {
    const src = join(dir, 'src')
    const dst = join(dir, 'dst')
    await mkdir(join(src, 'sub/deeper'), { recursive: true })
    await mkdir(dst)
    await writeFile(join(src, 'a.txt'), 'hello\n')
    await writeFile(join(src, 'sub/deeper/blob.bin'), randomBytes(3 * 1024 * 1024))
    await writeFile(join(src, 'name with spaces'), '')
    const endpoint = ep(`tar -C '${src}' -cf - .`, `tar -C '${dst}' -xf -`)
    const data = await readAll(await plugin.backup(endpoint, testContext()))
    expect(data.length).toBeGreaterThan(3 * 1024 * 1024)
    await plugin.restore(endpoint, Readable.from([data]), testContext())
    expect(await hashTree(dst)).toEqual(await hashTree(src))
  })

  it('sends stderr lines to the task log and passes env', async () => {
    const ctx = testContext()
    const endpoint = ep(
      'echo "working on $TARGET" >&2; printf %s "$GREETING"; echo done >&2',
      'true',
      {
        env: ['TARGET=db1', 'GREETING=hi there=!'],
      },
    )
    const out = await readAll(await plugin.backup(endpoint, ctx))
    expect(out.toString()).toBe('hi there=!')
    expect(ctx.lines.some((l) => l.endsWith('working on db1'))).toBe(true)
    expect(ctx.lines.some((l) => l.endsWith('done'))).toBe(true)
    const bad = await rejection(plugin.backup(ep('true', 'true', { env: ['secret'] }), ctx))
    expect(bad.message).toBe('env entry 1 is not of the form NAME=value')
  })

  it('fails with the exit code and the stderr tail', async () => {
    const failing = 'echo partial; echo "first problem" >&2; echo "disk on fire" >&2; exit 3'
    const stream = await plugin.backup(ep(failing), testContext())
    const err = await rejection(readAll(stream))
    expect(err).toBeInstanceOf(PluginError)
    expect(err.message).toMatch(/backup command exited with code 3/)
    expect(err.message).toContain('first problem / disk on fire')

    const input = Readable.from([Buffer.from('data\n')])
    const rerr = await rejection(
      plugin.restore(ep('true', 'cat >/dev/null; echo nope >&2; exit 3'), input, testContext()),
    )
    expect(rerr).toBeInstanceOf(PluginError)
    expect(rerr.message).toMatch(/restore command exited with code 3: nope/)
  })

  it('fails a pipeline whose first command fails when the shell has pipefail', async () => {
    const endpoint = ep('echo oops >&2; exit 5 | cat', 'true', { shell: '/bin/bash' })
    const err = await rejection(readAll(await plugin.backup(endpoint, testContext())))
    expect(err.message).toMatch(/exited with code 5/)
  })

  it('kills the whole pipeline on abort, for backup and restore', async () => {
    const before = childGroups()
    const ctx = testContext()
    const stream = await plugin.backup(ep('yes | head -c 100000000 | (sleep 30; cat)'), ctx)
    const groups = await newGroups(before)
    expect(groups.size).toBe(1)
    ctx.controller.abort()
    expect(await rejection(readAll(stream))).toBeInstanceOf(PluginAbortedError)
    expect(await survivors(groups)).toEqual([])

    const rctx = testContext()
    const input = new PassThrough()
    input.write(Buffer.alloc(1024))
    const restoring = plugin.restore(ep('true', 'sleep 30 | cat; cat'), input, rctx)
    const rgroups = await newGroups(before)
    expect(rgroups.size).toBe(1)
    rctx.controller.abort()
    expect(await rejection(restoring)).toBeInstanceOf(PluginAbortedError)
    expect(await survivors(rgroups)).toEqual([])
  })

  it('test() parses the commands without running them and finds their programs', async () => {
    const marker = join(dir, 'ran')
    const ok = await plugin.test(ep(`touch '${marker}'; tar -cf - .`, 'tar -xf -'), testContext())
    expect(ok).toMatch(/^commands parse OK \(backup: \/\S*touch, restore: \/\S*tar\)$/)
    expect(existsSync(marker)).toBe(false)

    const syntax = await rejection(plugin.test(ep('if then fi', 'true'), testContext()))
    expect(syntax).toBeInstanceOf(PluginError)
    expect(syntax.message).toMatch(/^the backup command does not parse: .*(syntax|unexpected)/i)

    const missing = await rejection(plugin.test(ep('true', 'no-such-tool-xyz -a'), testContext()))
    expect(missing.message).toMatch(/restore command runs no-such-tool-xyz, which is not installed/)

    const piped = await plugin.test(ep('tar -cf - . | gzip', 'gunzip | tar -xf -'), testContext())
    expect(piped).toMatch(/^commands parse OK/)
    expect(piped.includes('has no pipefail')).toBe(!(await shellHasPipefail('/bin/sh')))
  })

  it('finds the program a command starts with', () => {
    expect(firstProgram('pg_dump -Fc app')).toBe('pg_dump')
    expect(firstProgram('PGHOST=db LANG=C  pg_dump app | gzip')).toBe('pg_dump')
    expect(firstProgram('(cd /srv && tar -cf - .)')).toBe('cd')
    expect(firstProgram('"$HOME/bin/dump"')).toBeUndefined()
    expect(firstProgram('if true; then x; fi')).toBeUndefined()
  })
})

async function shellHasPipefail(shell: string): Promise<boolean> {
  const { spawnSync } = await import('node:child_process')
  return spawnSync(shell, ['-c', 'set -o pipefail'], { stdio: 'ignore' }).status === 0
}

/** The directory a conformance endpoint backs up or restores into, passed as $DIR. */
const dirOf = (endpoint: Record<string, unknown>) =>
  (endpoint.env as string[]).find((e) => e.startsWith('DIR='))!.slice(4)
const tarEndpoint = (path: string) => ({
  backup_command: 'tar -C "$DIR" -cf - .',
  restore_command: 'tar -C "$DIR" -xf -',
  env: [`DIR=${path}`],
})
let restores = 0
targetConformance('exec', {
  endpoint: async () => tarEndpoint(join(base, 'conformance')),
  restoreEndpoint: async () => {
    const into = join(base, `restored-${++restores}`)
    await mkdir(into, { recursive: true })
    return tarEndpoint(into)
  },
  seed: async () => {
    await mkdir(join(base, 'conformance/sub'), { recursive: true })
    await writeFile(join(base, 'conformance/blob.bin'), randomBytes(6 * 1024 * 1024))
    await writeFile(join(base, 'conformance/sub/a.txt'), 'hello\n')
  },
  snapshot: async (endpoint) => hashTree(dirOf(endpoint)),
  mutate: async () => writeFile(join(base, 'conformance/sub/a.txt'), 'changed\n'),
  badEndpoint: async () => ({
    ...tarEndpoint(join(base, 'conformance')),
    backup_command: 'no-such-dump-tool --all',
  }),
})
