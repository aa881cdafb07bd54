// A daemon with directories to back up and restore, for the vault's fault
// tests: creates stores, `files` targets and jobs through the API, runs
// backups, verifies and restores to their end, and compares restored trees.
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { expect } from 'vitest'
import type { RunningDaemon } from './daemon'
import { tempDir } from './daemon'
import { waitForTask } from './tasks'

export const PASSWORD = 'correct horse battery'

/** Every file under dir with its content's sha256, for comparing trees. */
export function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue
    const path = join(e.parentPath, e.name)
    out[relative(dir, path)] = createHash('sha256').update(readFileSync(path)).digest('hex')
  }
  return out
}

/** A directory of `files` random files of `size` bytes each. */
export function randomTree(files: number, size: number, dir = tempDir('bulwark-src-')): string {
  for (let i = 0; i < files; i++) writeFileSync(join(dir, `f${i}.bin`), randomBytes(size))
  return dir
}

/** Every chunk object of an fs store, as absolute paths. */
export function chunkPaths(storeDir: string): string[] {
  return readdirSync(join(storeDir, 'chunks'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /^[0-9a-f]{64}$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort()
}

export class VaultBench {
  constructor(public d: RunningDaemon) {}

  async created(path: string, body: unknown): Promise<string> {
    const res = await this.d.api('POST', path, body)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    return res.body.uuid
  }

  /** A store (s3 when the endpoint names a bucket, else fs unless told). */
  store(
    endpoint: Record<string, unknown>,
    plugin = 'bucket' in endpoint ? 's3' : 'fs',
  ): Promise<string> {
    return this.created('/v1/stores', {
      name: `store ${randomUUID().slice(0, 8)}`,
      plugin,
      endpoint: { vault_password: PASSWORD, ...endpoint },
    })
  }

  target(path: string): Promise<string> {
    return this.created('/v1/targets', {
      name: `dir ${randomUUID().slice(0, 8)}`,
      plugin: 'files',
      endpoint: { path },
    })
  }

  /** A job backing up `src` into `store`. */
  async job(store: string, src: string): Promise<string> {
    const schedule = await this.created('/v1/schedules', {
      name: `s ${randomUUID().slice(0, 8)}`,
      when: 'weekly at 2:30am on sundays',
    })
    const retention = await this.created('/v1/retention', {
      name: `r ${randomUUID().slice(0, 8)}`,
      expires: 7 * 86400,
    })
    return this.created('/v1/jobs', {
      name: `job ${randomUUID().slice(0, 8)}`,
      target: await this.target(src),
      store,
      schedule,
      retention,
    })
  }

  /** Starts a backup; its task uuid. */
  async startBackup(job: string): Promise<string> {
    const run = await this.d.api('POST', `/v1/job/${job}/run`, { owner: 'test' })
    expect(run.status, JSON.stringify(run.body)).toBe(200)
    return run.body.task_uuid
  }

  /** Runs a backup to its end; the task (its archive in task.archive_uuid when done). */
  async backup(job: string, timeoutMs = 60_000): Promise<any> {
    return waitForTask(this.d, await this.startBackup(job), undefined, timeoutMs)
  }

  /** A backup that must succeed: its archive. */
  async goodBackup(job: string): Promise<any> {
    const task = await this.backup(job)
    expect(task.status, task.log).toBe('done')
    return (await this.d.api('GET', `/v1/archive/${task.archive_uuid}`)).body
  }

  async verify(archive: string): Promise<any> {
    const res = await this.d.api('POST', `/v1/archive/${archive}/verify`, { owner: 'test' })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    return waitForTask(this.d, res.body.task_uuid)
  }

  async archive(uuid: string): Promise<any> {
    return (await this.d.api('GET', `/v1/archive/${uuid}`)).body
  }

  /** Restores into a new directory; the task and where it went. */
  async restore(archive: string): Promise<{ task: any; dest: string }> {
    const dest = join(tempDir('bulwark-restore-'), 'out')
    mkdirSync(dest)
    const target = await this.target(dest)
    const res = await this.d.api('POST', `/v1/archive/${archive}/restore`, { target })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    return { task: await waitForTask(this.d, res.body.task_uuid), dest }
  }

  /** Restores and compares with src (a directory, or a tree taken of one), byte for byte. */
  async restoresExactly(archive: string, src: string | Record<string, string>): Promise<void> {
    const { task, dest } = await this.restore(archive)
    expect(task.status, task.log).toBe('done')
    expect(tree(dest)).toEqual(typeof src === 'string' ? tree(src) : src)
  }

  async cancel(task: string): Promise<void> {
    const res = await this.d.api('DELETE', `/v1/task/${task}`)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
  }
}
