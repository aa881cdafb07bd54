// A restore of the sqlite target into a path whose directory does not exist
// yet creates it (0700, with any missing parents, like the files target), and
// removes what it created again when the restore fails; a path under a file
// is refused in words a person can act on.
import { mkdtemp, rm, stat, writeFile, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PluginError } from '../../sdk/errors'
import type { TargetPlugin } from '../../sdk/types'
import { loadPlugin, readAll, testContext } from '../../sdk/conformance/services'

let plugin: TargetPlugin
let base: string
let dump: Buffer

const restoreTo = (path: string, data: Buffer, ctx = testContext()) =>
  plugin.restore({ path }, Readable.from([data]), ctx).then(() => ctx.lines)
const mode = async (path: string) => (await stat(path)).mode & 0o777

describe('target sqlite: restoring where the directory does not exist', () => {
  beforeAll(async () => {
    plugin = await loadPlugin('target', 'sqlite')
    base = await mkdtemp(join(tmpdir(), 'bulwark-sqlite-dir-'))
    const src = join(base, 'src.db')
    const db = new Database(src)
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'one')")
    db.close()
    dump = await readAll(await plugin.backup({ path: src }, testContext()))
  })
  afterAll(() => rm(base, { recursive: true, force: true }))

  it('creates the directory and its missing parents, 0700, and restores into it', async () => {
    const path = join(base, 'new', 'deeper', 'app.db')
    const lines = await restoreTo(path, dump)
    const db = new Database(path, { readonly: true })
    expect(db.prepare('SELECT v FROM t').pluck().get()).toBe('one')
    db.close()
    expect(await mode(join(base, 'new'))).toBe(0o700)
    expect(await mode(join(base, 'new', 'deeper'))).toBe(0o700)
    expect(await mode(path)).toBe(0o600)
    expect(await readdir(join(base, 'new', 'deeper'))).toEqual(['app.db'])
    expect(lines).toContain(
      `created the directory ${join(base, 'new', 'deeper')} (mode 0700) for the database`,
    )
  })

  it('removes the directories it created when the restore fails, and only those', async () => {
    const ctx = testContext()
    const err = await restoreTo(
      join(base, 'gone', 'sub', 'app.db'),
      Buffer.from('not sqlite'),
      ctx,
    ).then(
      () => undefined,
      (e: Error) => e,
    )
    expect(err).toBeInstanceOf(PluginError)
    expect(err!.message).toMatch(/not a valid SQLite database/)
    await expect(stat(join(base, 'gone'))).rejects.toMatchObject({ code: 'ENOENT' })
    expect(await stat(base)).toBeTruthy()
    expect(ctx.lines.join('\n')).toContain(`removed the directory ${join(base, 'gone')} again`)
  })

  it('refuses a path under a file, saying so', async () => {
    await writeFile(join(base, 'a-file'), 'x')
    const err = await restoreTo(join(base, 'a-file', 'sub', 'app.db'), dump).then(
      () => undefined,
      (e: Error) => e,
    )
    expect(err).toBeInstanceOf(PluginError)
    expect(err!.message).toBe(
      `${join(base, 'a-file', 'sub')} cannot be a directory: part of it is a file`,
    )
  })
})
