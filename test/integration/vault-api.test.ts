// The vault through the API, end to end: the real daemon backs up `files` and
// `exec` targets into real `fs` store directories, then the vault's endpoints
// are exercised against what is on disk: dedup figures, verify against
// damaged chunks and manifests, password change without rewriting data, key
// slots, the recovery kit, importing a store into a second daemon, and GC.
import { randomBytes, randomUUID } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { join, relative } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDaemon, tempDir, waitForLog, type RunningDaemon } from '../helpers/daemon'
import { waitForTask } from '../helpers/tasks'

const MiB = 1024 * 1024
const FIRST_PASSWORD = 'first-password-1'
const SECOND_PASSWORD = 'second-password-2'
const EXTRA_PASSWORD = 'extra-password-3'

let d: RunningDaemon
const others: RunningDaemon[] = []
const dirs: string[] = []
let schedule: string
let retention: string

const dir = (name: string) => {
  const base = tempDir('bulwark-vault-')
  dirs.push(base)
  return join(base, name)
}

async function created(daemon: RunningDaemon, path: string, body: unknown): Promise<string> {
  const res = await daemon.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid
}

const fsStore = (path: string, extra: Record<string, unknown> = {}) =>
  created(d, '/v1/stores', { name: `fs ${path}`, plugin: 'fs', endpoint: { path, ...extra } })

const filesTarget = (daemon: RunningDaemon, path: string) =>
  created(daemon, '/v1/targets', { name: `dir ${path}`, plugin: 'files', endpoint: { path } })

const execTarget = (backup: string, restore = 'cat > /dev/null') =>
  created(d, '/v1/targets', {
    name: `exec ${randomUUID().slice(0, 8)}`,
    plugin: 'exec',
    endpoint: { backup_command: backup, restore_command: restore },
  })

const jobFor = (target: string, store: string) =>
  created(d, '/v1/jobs', {
    name: `job ${randomUUID().slice(0, 8)}`,
    target,
    store,
    schedule,
    retention,
  })

/** Runs the job and returns its archive. */
async function backup(job: string): Promise<any> {
  const run = await d.api('POST', `/v1/job/${job}/run`, { owner: 'test' })
  const task = await waitForTask(d, run.body.task_uuid)
  expect(task.status, task.log).toBe('done')
  const archive = (await d.api('GET', `/v1/archive/${task.archive_uuid}`)).body
  expect(archive.uuid).toBe(task.archive_uuid)
  return archive
}

async function restore(
  daemon: RunningDaemon,
  archive: string,
  target?: string,
): Promise<{ status: number; task?: any; body: any }> {
  const res = await daemon.api('POST', `/v1/archive/${archive}/restore`, target ? { target } : {})
  if (res.status !== 200) return { status: res.status, body: res.body }
  return { status: 200, body: res.body, task: await waitForTask(daemon, res.body.task_uuid) }
}

async function verify(archive: string): Promise<any> {
  const res = await d.api('POST', `/v1/archive/${archive}/verify`, { owner: 'test' })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  expect(res.body.ok).toBe('scheduled')
  return waitForTask(d, res.body.task_uuid)
}

/** Every chunk object under a store directory, as paths relative to it. */
const chunkFiles = (store: string): Set<string> =>
  existsSync(join(store, 'chunks'))
    ? new Set(
        readdirSync(join(store, 'chunks'), { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile() && /^[0-9a-f]{64}$/.test(e.name))
          .map((e) => relative(store, join(e.parentPath, e.name))),
      )
    : new Set()

const minus = <T>(a: Set<T>, b: Set<T>) => new Set([...a].filter((x) => !b.has(x)))

/** A directory's files and contents, for comparing a restored tree with its source. */
const tree = (root: string): Record<string, string> =>
  Object.fromEntries(
    readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => {
        const path = join(e.parentPath, e.name)
        return [relative(root, path), readFileSync(path).toString('base64')]
      }),
  )

async function secondDaemon(): Promise<RunningDaemon> {
  const other = await startDaemon()
  others.push(other)
  return other
}

/** Imports an fs store into a daemon: the response, whatever its status. */
const importStore = (daemon: RunningDaemon, path: string, extra: Record<string, unknown>) =>
  daemon.api('POST', '/v1/stores/import', {
    name: 'imported',
    plugin: 'fs',
    endpoint: { path, ...extra },
  })

beforeAll(async () => {
  d = await startDaemon({ env: { BULWARK_GC_GRACE_HOURS: '0' } })
  schedule = await created(d, '/v1/schedules', { name: 'nightly', when: 'daily at 4am' })
  retention = await created(d, '/v1/retention', { name: 'week', expires: 7 * 86400 })
})

afterAll(async () => {
  await d?.stop()
  for (const other of others) await other.stop()
  for (const path of dirs) rmSync(path, { recursive: true, force: true })
})

describe('a store directory with its vault', () => {
  let storeDir: string
  let store: string
  let src: string
  let job: string
  const archives: any[] = []

  beforeAll(async () => {
    storeDir = dir('store')
    store = await fsStore(storeDir, { vault_password: FIRST_PASSWORD })
    src = dir('src')
    mkdirSync(join(src, 'sub'), { recursive: true })
    writeFileSync(join(src, 'big.bin'), randomBytes(6 * MiB))
    writeFileSync(join(src, 'sub', 'note.txt'), 'hello vault\n')
    job = await jobFor(await filesTarget(d, src), store)
  })

  it('has no vault before the first backup, then one with one key slot', async () => {
    const none = await d.api('GET', `/v1/store/${store}/vault`)
    expect(none.status).toBe(409)
    expect(none.body.error).toMatchObject({ code: 'conflict' })
    expect(none.body.error.message).toBe(
      `store ${store} has no vault yet: it is created by the first backup`,
    )
    expect((await d.api('GET', `/v1/store/${randomUUID()}/vault`)).status).toBe(404)

    const first = await backup(job)
    archives.push(first)
    // A directory target's archive is a tree (docs/vault-format.md "Tree archives").
    expect(first).toMatchObject({
      format: 'tree',
      status: 'valid',
      store_key: `manifests/${first.uuid}`,
    })
    expect(first.size).toBeGreaterThan(6 * MiB)
    expect(first.new_bytes).toBeGreaterThan(6 * MiB * 0.9)
    expect(first.chunk_count).toBeGreaterThan(1)
    expect(first.stored_bytes).toBeGreaterThan(6 * MiB * 0.9)

    const vault = (await d.api('GET', `/v1/store/${store}/vault`)).body
    expect(vault.vault_id).toMatch(/^[0-9a-f-]{36}$/)
    expect(vault.key_slots).toHaveLength(1)
    expect(Object.keys(vault.key_slots[0]).sort()).toEqual(['created_at', 'id', 'label'])
    expect(vault.chunking).toEqual({ min: 131072, avg: 524288, max: 2097152 })
    expect(vault.chunks).toBe(chunkFiles(storeDir).size)
    expect(vault.chunks).toBeGreaterThan(0)
    expect(vault.stored_bytes).toBeGreaterThan(6 * MiB * 0.9)
    expect(vault.archives).toBe(1)
    expect(vault.logical_bytes).toBe(first.size)
    expect(JSON.parse(readFileSync(join(storeDir, 'vault.json'), 'utf8')).id).toBe(vault.vault_id)

    // Store reads keep their shape, the password redacted.
    const read = (await d.api('GET', `/v1/store/${store}`)).body
    expect(Object.keys(read).sort()).toEqual(['endpoint', 'name', 'plugin', 'summary', 'uuid'])
    expect(JSON.parse(read.endpoint)).toEqual({ path: storeDir, vault_password: '<redacted>' })
  })

  // An exec target streaming one file: the same bytes each time. (The files
  // target's pax headers carry atime and ctime, so its tar stream differs
  // from run to run around each header.)
  it('stores a second backup of the same data as little more than a manifest', async () => {
    const same = await jobFor(await execTarget(`cat '${join(src, 'big.bin')}'`), store)
    const first = await backup(same)
    archives.push(first)
    expect(first.size).toBe(6 * MiB)
    const before = chunkFiles(storeDir)
    const second = await backup(same)
    archives.push(second)
    expect(second.size).toBe(first.size)
    expect(second.chunk_count).toBe(first.chunk_count)
    expect(second.new_bytes).toBeGreaterThan(0)
    expect(second.new_bytes).toBeLessThan(second.size * 0.01)
    expect(chunkFiles(storeDir)).toEqual(before)
    const vault = (await d.api('GET', `/v1/store/${store}/vault`)).body
    expect(vault).toMatchObject({
      archives: 3,
      logical_bytes: archives[0].size + 2 * second.size,
      chunks: before.size,
    })
  })

  it('changes the password without rewriting a chunk; the old one no longer opens the vault', async () => {
    const before = chunkFiles(storeDir)
    const oldSlot = (await d.api('GET', `/v1/store/${store}/vault`)).body.key_slots[0]
    const path = `/v1/store/${store}/vault/password`

    const short = await d.api('POST', path, { new_password: 'short' })
    expect(short.status).toBe(400)
    expect(short.body.error.field).toBe('new_password')
    expect(JSON.stringify(short.body)).not.toContain('short"')
    const wrong = await d.api('POST', path, {
      password: 'not-the-password',
      new_password: SECOND_PASSWORD,
    })
    expect(wrong.status).toBe(400)
    expect(wrong.body.error).toMatchObject({
      field: 'password',
      message: 'the vault password is wrong',
    })
    expect((await d.api('POST', path, { new_password: SECOND_PASSWORD, extra: 1 })).status).toBe(
      400,
    )

    const changed = await d.api('POST', path, { new_password: SECOND_PASSWORD })
    expect(changed.status, JSON.stringify(changed.body)).toBe(200)
    expect(changed.body).toEqual({ ok: 'updated' })
    const vault = (await d.api('GET', `/v1/store/${store}/vault`)).body
    expect(vault.key_slots).toHaveLength(1)
    expect(vault.key_slots[0].id).not.toBe(oldSlot.id)
    expect(chunkFiles(storeDir)).toEqual(before)

    // Backups and restores go on with the new password, over the same chunks.
    const third = await backup(job)
    archives.push(third)
    expect(third.new_bytes).toBeLessThan(third.size * 0.5)
    const added = minus(chunkFiles(storeDir), before)
    expect(added.size).toBeLessThan(third.chunk_count)
    for (const chunk of before) expect(existsSync(join(storeDir, chunk))).toBe(true)
    const dest = dir('restored-after-change')
    const back = await restore(d, third.uuid, await filesTarget(d, dest))
    expect(back.task.status, back.task.log).toBe('done')
    expect(tree(dest)).toEqual(tree(src))

    // A second daemon: the old password is refused, the new one lists every archive.
    const other = await secondDaemon()
    const old = await importStore(other, storeDir, { vault_password: FIRST_PASSWORD })
    expect(old.status).toBe(400)
    expect(old.body.error).toMatchObject({
      field: 'endpoint.vault_password',
      message: 'the vault password is wrong',
    })
    expect(JSON.stringify(old.body)).not.toContain(FIRST_PASSWORD)
    expect((await other.api('GET', '/v1/stores')).body).toEqual([])

    const ok = await importStore(other, storeDir, { vault_password: SECOND_PASSWORD })
    expect(ok.status, JSON.stringify(ok.body)).toBe(200)
    expect(ok.body).toMatchObject({ ok: 'created', archives: 4, skipped: 0 })
    const imported = ok.body.uuid
    const read = (await other.api('GET', `/v1/store/${imported}`)).body
    expect(JSON.parse(read.endpoint)).toEqual({ path: storeDir, vault_password: '<redacted>' })
    const listed = (await other.api('GET', `/v1/archives?store=${imported}`)).body
    expect(listed.map((a: any) => a.uuid).sort()).toEqual(archives.map((a) => a.uuid).sort())
    for (const a of listed) {
      const mine = archives.find((x) => x.uuid === a.uuid)
      expect(a).toMatchObject({
        format: mine.format,
        status: 'valid',
        job_uuid: null,
        target_uuid: mine.target_uuid,
        target_plugin: mine.target_plugin,
        target_name: null,
        size: mine.size,
        taken_at: mine.taken_at,
        expires_at: mine.expires_at,
        store_key: `manifests/${a.uuid}`,
        chunk_count: mine.chunk_count,
      })
    }
    const otherVault = (await other.api('GET', `/v1/store/${imported}/vault`)).body
    expect(otherVault).toMatchObject({
      vault_id: vault.vault_id,
      archives: 4,
      chunks: chunkFiles(storeDir).size,
    })

    // Its target does not exist here: a restore must name one.
    const noTarget = await restore(other, archives[0].uuid)
    expect(noTarget.status).toBe(400)
    expect(noTarget.body.error.field).toBe('target')
    const otherDest = dir('restored-elsewhere')
    const elsewhere = await restore(other, archives[0].uuid, await filesTarget(other, otherDest))
    expect(elsewhere.task.status, elsewhere.task.log).toBe('done')
    expect(tree(otherDest)).toEqual(tree(src))

    // Importing the same location twice is refused, pointing at the rescan.
    const twice = await importStore(other, storeDir, { vault_password: SECOND_PASSWORD })
    expect(twice.status).toBe(409)
    expect(twice.body.error.details).toEqual({ store_uuid: imported })
    expect((await other.api('GET', '/v1/stores')).body).toHaveLength(1)

    // A rescan finds nothing new, then the archive the first daemon wrote since.
    const again = await other.api('POST', `/v1/store/${imported}/import`)
    expect(again.body).toEqual({ ok: 'updated', archives: 0, skipped: 0, gone: 0 })
    archives.push(await backup(job))
    const rescan = await other.api('POST', `/v1/store/${imported}/import`, {})
    expect(rescan.body).toEqual({ ok: 'updated', archives: 1, skipped: 0, gone: 0 })
  })

  it('adds a key slot for another password, and removes it but never the last one', async () => {
    const path = `/v1/store/${store}/vault/slots`
    const short = await d.api('POST', path, { password: 'short' })
    expect(short.status).toBe(400)
    expect(short.body.error.field).toBe('password')
    expect((await d.api('POST', path, {})).body.error.field).toBe('password')

    const added = await d.api('POST', path, { password: EXTRA_PASSWORD, label: 'laptop' })
    expect(added.status, JSON.stringify(added.body)).toBe(200)
    expect(added.body.ok).toBe('created')
    const slot = added.body.uuid
    let vault = (await d.api('GET', `/v1/store/${store}/vault`)).body
    expect(vault.key_slots).toHaveLength(2)
    expect(vault.key_slots.find((s: any) => s.id === slot)).toMatchObject({ label: 'laptop' })

    const other = await secondDaemon()
    const ok = await importStore(other, storeDir, { vault_password: EXTRA_PASSWORD })
    expect(ok.status, JSON.stringify(ok.body)).toBe(200)
    expect(ok.body.archives).toBe(archives.length)

    expect((await d.api('DELETE', `/v1/store/${store}/vault/slot/${randomUUID()}`)).status).toBe(
      404,
    )
    const del = await d.api('DELETE', `/v1/store/${store}/vault/slot/${slot}`)
    expect(del.body).toEqual({ ok: 'deleted' })
    vault = (await d.api('GET', `/v1/store/${store}/vault`)).body
    expect(vault.key_slots).toHaveLength(1)
    const last = await d.api('DELETE', `/v1/store/${store}/vault/slot/${vault.key_slots[0].id}`)
    expect(last.status).toBe(409)
    expect(last.body.error.message).toMatch(/last/)
    expect((await d.api('GET', `/v1/store/${store}/vault`)).body.key_slots).toHaveLength(1)
    const refused = await importStore(await secondDaemon(), storeDir, {
      vault_password: EXTRA_PASSWORD,
    })
    expect(refused.status).toBe(400)
  })

  it('exports a recovery kit that opens the vault without any password', async () => {
    const res = await fetch(`${d.url}/v1/store/${store}/vault/recovery-kit`, {
      headers: { authorization: `Bearer ${d.token}` },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const kit = await res.text()
    const vault = (await d.api('GET', `/v1/store/${store}/vault`)).body
    expect(kit).toContain(`Vault:        ${vault.vault_id}`)
    const key = /^Recovery key: (\S{88})$/m.exec(kit)?.[1]
    expect(key).toBeDefined()
    await waitForLog(d, /WARN .*recovery kit of vault .* was exported/)
    expect(d.stderr.join('\n')).not.toContain(key!)

    const other = await secondDaemon()
    const garbage = await importStore(other, storeDir, { recovery_key: 'not a key' })
    expect(garbage.status).toBe(400)
    expect(garbage.body.error.field).toBe('endpoint.recovery_key')
    const slotsBefore = (await d.api('GET', `/v1/store/${store}/vault`)).body.key_slots
    const wrongKey = await importStore(other, storeDir, {
      recovery_key: randomBytes(64).toString('base64'),
    })
    expect(wrongKey.status).toBe(400)
    expect(wrongKey.body.error).toMatchObject({ field: 'endpoint.recovery_key' })
    expect(wrongKey.body.error.message).toMatch(/does not open this vault/)
    expect((await d.api('GET', `/v1/store/${store}/vault`)).body.key_slots).toEqual(slotsBefore)
    expect((await other.api('GET', '/v1/stores')).body).toEqual([])

    const ok = await importStore(other, storeDir, { recovery_key: kit })
    expect(ok.status, JSON.stringify(ok.body)).toBe(200)
    expect(ok.body).toMatchObject({ ok: 'created', archives: archives.length })
    expect(JSON.stringify(ok.body)).not.toContain(key!)
    const imported = ok.body.uuid
    // The recovered daemon got a password of its own: a new slot beside the first daemon's.
    expect((await other.api('GET', `/v1/store/${imported}/vault`)).body.key_slots).toHaveLength(2)
    const dest = dir('restored-with-kit')
    const back = await restore(
      other,
      archives.filter((a) => a.target_plugin === 'files').at(-1).uuid,
      await filesTarget(other, dest),
    )
    expect(back.task.status, back.task.log).toBe('done')
    expect(tree(dest)).toEqual(tree(src))
    expect(other.stderr.join('\n')).not.toContain(key!)
  })
})

describe('verify and damage', () => {
  let storeDir: string
  let data: string
  let out: string
  let job: string

  /** Backs up fresh random bytes; returns the archive and the chunk files it added. */
  async function fresh(): Promise<{ archive: any; chunks: string[]; bytes: Buffer }> {
    const bytes = randomBytes(700_000)
    writeFileSync(data, bytes)
    const before = chunkFiles(storeDir)
    const archive = await backup(job)
    const chunks = [...minus(chunkFiles(storeDir), before)]
    expect(chunks.length).toBeGreaterThan(0)
    return { archive, chunks, bytes }
  }

  beforeAll(async () => {
    storeDir = dir('store')
    const store = await fsStore(storeDir)
    const base = dir('exec')
    mkdirSync(base)
    data = join(base, 'data.bin')
    out = join(base, 'out.bin')
    job = await jobFor(await execTarget(`cat '${data}'`, `cat > '${out}'`), store)
  })

  it('verifies an intact archive, and restores it', async () => {
    const { archive, bytes } = await fresh()
    const task = await verify(archive.uuid)
    expect(task.status, task.log).toBe('done')
    expect(task.type).toBe('verify')
    expect(task.log).toMatch(new RegExp(`archive ${archive.uuid} is intact`))
    const back = await restore(d, archive.uuid)
    expect(back.task.status, back.task.log).toBe('done')
    expect(readFileSync(out).equals(bytes)).toBe(true)
    expect((await d.api('POST', `/v1/archive/${randomUUID()}/verify`)).status).toBe(404)
  })

  it('fails verify on a flipped byte, naming the archive and the chunk, and refuses the restore', async () => {
    const { archive, chunks } = await fresh()
    const file = join(storeDir, chunks[0]!)
    const object = readFileSync(file)
    const at = Math.floor(object.length / 2)
    object.writeUInt8(object.readUInt8(at) ^ 0x01, at)
    writeFileSync(file, object)
    const task = await verify(archive.uuid)
    expect(task.status).toBe('failed')
    const id = chunks[0]!.split('/').at(-1)!
    expect(task.error).toContain(`archive ${archive.uuid}`)
    expect(task.error).toContain(`chunk ${id.slice(0, 12)}`)
    expect(task.error).toMatch(/corrupt/)
    expect((await d.api('GET', `/v1/archive/${archive.uuid}`)).body.status).toBe('invalid')
    const refused = await restore(d, archive.uuid)
    expect(refused.status).toBe(409)
    expect(refused.body.error.message).toMatch(/invalid/)
  })

  it('fails restore and verify on a missing chunk, naming it', async () => {
    const { archive, chunks } = await fresh()
    unlinkSync(join(storeDir, chunks[0]!))
    const id = chunks[0]!.split('/').at(-1)!
    const back = await restore(d, archive.uuid)
    expect(back.task.status).toBe('failed')
    expect(back.task.error).toContain(`chunk ${id.slice(0, 12)}`)
    expect(back.task.error).toMatch(/missing/)
    expect(back.task.log).toMatch(/RESTORE FAILED/)
    const task = await verify(archive.uuid)
    expect(task.status).toBe('failed')
    expect(task.error).toContain(`archive ${archive.uuid}`)
    expect(task.error).toContain(`chunk ${id.slice(0, 12)}`)
    expect((await d.api('GET', `/v1/archive/${archive.uuid}`)).body.status).toBe('invalid')
  })

  it('fails a restore loudly when the manifest is truncated', async () => {
    const { archive } = await fresh()
    const manifest = join(storeDir, 'manifests', archive.uuid)
    truncateSync(manifest, Math.floor(readFileSync(manifest).length / 2))
    writeFileSync(out, '')
    const back = await restore(d, archive.uuid)
    expect(back.task.status).toBe('failed')
    expect(back.task.log).toMatch(/RESTORE FAILED/)
    expect(back.task.error).toContain(`manifest ${archive.uuid} is corrupt`)
    expect(readFileSync(out).length).toBe(0)
  })
})

describe('garbage collection', () => {
  it('frees the chunks only a deleted archive used and keeps the shared ones', async () => {
    const storeDir = dir('store')
    const store = await fsStore(storeDir)
    const base = dir('gc')
    mkdirSync(base)
    const shared = randomBytes(6 * MiB)
    const onlyB = randomBytes(MiB + 12345)
    writeFileSync(join(base, 'shared'), shared)
    writeFileSync(join(base, 'a'), randomBytes(2 * MiB))
    writeFileSync(join(base, 'b'), onlyB)
    const out = join(base, 'out')
    const jobA = await jobFor(await execTarget(`cat '${base}/shared' '${base}/a'`), store)
    const jobB = await jobFor(
      await execTarget(`cat '${base}/shared' '${base}/b'`, `cat > '${out}'`),
      store,
    )

    const b = await backup(jobB)
    const withB = chunkFiles(storeDir)
    const a = await backup(jobA)
    const onlyA = minus(chunkFiles(storeDir), withB)
    expect(onlyA.size).toBeGreaterThan(0)
    expect(onlyA.size).toBeLessThan(a.chunk_count) // the rest is shared with b
    expect(a.new_bytes).toBeLessThan(a.size * 0.8)

    const del = await d.api('DELETE', `/v1/archive/${a.uuid}`)
    const purge = await waitForTask(d, del.body.task_uuid)
    expect(purge.status, purge.log).toBe('done')
    expect(existsSync(join(storeDir, 'manifests', a.uuid))).toBe(false)
    // The purge asked for a collection of the store.
    const auto = (await d.api('GET', '/v1/tasks?status=all')).body.find(
      (t: any) => t.type === 'gc' && t.store_uuid === store,
    )
    expect(auto).toBeDefined()
    const collected = await waitForTask(d, auto.uuid)
    expect(collected.status, collected.log).toBe('done')

    const left = chunkFiles(storeDir)
    for (const chunk of onlyA) expect(left.has(chunk), chunk).toBe(false)
    expect(left).toEqual(withB)
    const vault = (await d.api('GET', `/v1/store/${store}/vault`)).body
    expect(vault).toMatchObject({ chunks: withB.size, archives: 1, logical_bytes: b.size })

    const again = await d.api('POST', `/v1/store/${store}/gc`)
    expect(again.status, JSON.stringify(again.body)).toBe(200)
    const second = await waitForTask(d, again.body.task_uuid)
    expect(second.status, second.log).toBe('done')
    expect(second.log).toMatch(/deleted 0 unreferenced chunk/)
    expect(chunkFiles(storeDir)).toEqual(withB)

    const back = await restore(d, b.uuid)
    expect(back.task.status, back.task.log).toBe('done')
    expect(readFileSync(out).equals(Buffer.concat([shared, onlyB]))).toBe(true)
  })

  it('waits for a backup running on the same store, and runs one at a time', async () => {
    const storeDir = dir('store')
    const store = await fsStore(storeDir)
    const none = await d.api('POST', `/v1/store/${store}/gc`)
    expect(none.status).toBe(409)
    expect(none.body.error.message).toMatch(/no vault yet/)
    const quick = await jobFor(await execTarget('echo first'), store)
    await backup(quick)

    const slow = await jobFor(await execTarget('sleep 2.5; echo slow'), store)
    const run = await d.api('POST', `/v1/job/${slow}/run`)
    await waitForTask(d, run.body.task_uuid, (s) => s === 'running')
    const gc = await d.api('POST', `/v1/store/${store}/gc`, { owner: 'tester' })
    expect(gc.status, JSON.stringify(gc.body)).toBe(200)
    const twice = await d.api('POST', `/v1/store/${store}/gc`)
    expect(twice.status).toBe(409)
    expect(twice.body.error.message).toContain(gc.body.task_uuid)
    expect(twice.body.error.details).toEqual({ task_uuid: gc.body.task_uuid })

    for (let i = 0; i < 5; i++) {
      const slowTask = (await d.api('GET', `/v1/task/${run.body.task_uuid}`)).body
      const gcTask = (await d.api('GET', `/v1/task/${gc.body.task_uuid}`)).body
      if (slowTask.status !== 'running') break
      expect(gcTask.status).toBe('pending')
      await new Promise((r) => setTimeout(r, 300))
    }
    const backupDone = await waitForTask(d, run.body.task_uuid)
    expect(backupDone.status, backupDone.log).toBe('done')
    const gcDone = await waitForTask(d, gc.body.task_uuid)
    expect(gcDone.status, gcDone.log).toBe('done')
    expect(gcDone.owner).toBe('tester')
    expect(Date.parse(gcDone.started_at)).toBeGreaterThanOrEqual(Date.parse(backupDone.stopped_at))
  })
})

describe('what the vault endpoints refuse', () => {
  it('refuses imports without a vault, a password, or a vault-capable plugin', async () => {
    const other = await secondDaemon()
    const empty = dir('empty')
    mkdirSync(empty)
    const none = await importStore(other, empty, { vault_password: FIRST_PASSWORD })
    expect(none.status).toBe(400)
    expect(none.body.error.field).toBe('endpoint')
    expect(none.body.error.message).toMatch(/no vault at that location/)
    const noPassword = await importStore(other, empty, {})
    expect(noPassword.status).toBe(400)
    expect(noPassword.body.error.field).toBe('endpoint.vault_password')
    const external = await other.api('POST', '/v1/stores/import', {
      name: 'ext',
      plugin: 'dirstore',
      endpoint: { path: empty },
    })
    expect(external.status).toBe(400)
    expect(external.body.error.field).toBe('plugin')
    const unknown = await other.api('POST', '/v1/stores/import', {
      name: 'x',
      plugin: 'nope',
      endpoint: {},
    })
    expect(unknown.status).toBe(400)
    expect(unknown.body.error.field).toBe('plugin')
    expect((await other.api('POST', '/v1/stores/import', { name: 'x' })).body.error.field).toBe(
      'plugin',
    )
    expect((await other.api('GET', '/v1/stores')).body).toEqual([])
  })

  it('answers 400 for a store that keeps blobs, not a vault', async () => {
    const ext = await created(d, '/v1/stores', {
      name: 'blobs',
      plugin: 'dirstore',
      endpoint: { path: dir('blobs') },
    })
    for (const [method, path] of [
      ['GET', 'vault'],
      ['POST', 'gc'],
      ['POST', 'import'],
    ] as const) {
      const res = await d.api(method, `/v1/store/${ext}/${path}`)
      expect(res.status, path).toBe(400)
      expect(res.body.error.message, path).toMatch(/not a vault/)
    }
    // Its blobs are opened by the store's password alone, which is its recovery
    // kit once the first backup has generated it.
    const kit = await d.api('GET', `/v1/store/${ext}/vault/recovery-kit`)
    expect(kit.status).toBe(409)
    expect(kit.body.error.message).toMatch(/no vault password yet/)
  })
})
