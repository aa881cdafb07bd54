// The retention sweep (ArchiveService.expireDue) against a real catalog: it
// never expires the newest `keep_min` valid archives of a job, whatever their
// age, counts only valid archives, follows the job's policy as it is now, and
// leaves archives of no job (or of a deleted one) to their expiry. A delete by
// hand is not held back.
import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import type { ArchiveStatus } from '../../src-daemon/contract'
import { taskParams, type PurgeParams } from '../../src-daemon/tasks/task-params'
import { inProcess } from '../helpers/in-process'

type World = ReturnType<typeof inProcess>
let world: World | undefined
afterEach(() => world?.close())

const DAY = 86400_000
const START = '2026-03-01T00:00:00Z'

function setup() {
  world = inProcess(START)
  const w = world
  /** An archive taken `daysAgo` days before START, expired one day after it was taken. */
  const archive = (
    job: string | null,
    daysAgo: number,
    status: ArchiveStatus = 'valid',
    from = job,
  ) => {
    const row = w.catalog.jobs.get(from ?? '')
    const uuid = randomUUID()
    const taken = Date.parse(START) - daysAgo * DAY
    w.catalog.archives.insert({
      uuid,
      job_uuid: job,
      target_uuid: row?.target_uuid ?? randomUUID(),
      store_uuid: row?.store_uuid ?? randomUUID(),
      store_key: `k/${uuid}`,
      taken_at: taken,
      expires_at: taken + DAY,
      notes: '',
      status,
      target_plugin: 'faketarget',
      size: 1,
      purged_at: null,
    })
    return uuid
  }
  const status = (uuid: string) => w.catalog.archives.get(uuid)?.status
  const policyOf = (job: string) => w.catalog.jobs.get(job)!.retention_uuid
  const setKeepMin = (job: string, keep_min: number) => {
    const r = w.services.retention.get(policyOf(job))
    w.services.retention.update(r.uuid, { ...r, keep_min })
  }
  return { w, archive, status, setKeepMin, policyOf }
}

describe('retention keep_min', () => {
  it('defaults to 1 and a PUT without it keeps the policy’s own', () => {
    const { w } = setup()
    const uuid = w.services.retention.create({ name: 'r', expires: 3600 })
    expect(w.services.retention.get(uuid).keep_min).toBe(1)
    w.services.retention.update(uuid, { name: 'r', expires: 3600, summary: '', keep_min: 3 })
    w.services.retention.update(uuid, { name: 'r2', expires: 7200, summary: '' })
    expect(w.services.retention.get(uuid)).toMatchObject({ name: 'r2', keep_min: 3 })
  })

  it('keeps the newest valid archive of each job however old, and expires the rest', () => {
    const { w, archive, status } = setup()
    const a = w.job('daily at 4am')
    const b = w.job('daily at 5am')
    const a1 = archive(a, 30)
    const a2 = archive(a, 20)
    const a3 = archive(a, 10) // a's newest valid
    const aBad = archive(a, 5, 'invalid') // newer, but damaged: not counted
    const b1 = archive(b, 40)
    const b2 = archive(b, 35) // b's newest valid
    const none = archive(null, 1, 'valid', a) // no job: only its expiry counts
    expect(w.services.archives.expireDue()).toBe(4)
    expect([a1, a2, a3, aBad, b1, b2, none].map(status)).toEqual([
      'expired',
      'expired',
      'valid',
      'invalid',
      'expired',
      'valid',
      'expired',
    ])
    // The purge tasks are for the expired ones only: one per store, naming
    // its archives (one archive alone is the task's own archive).
    const purges = w.catalog.tasks.list().filter((t) => t.op === 'purge')
    const purged = purges.flatMap((t) => taskParams<PurgeParams>(t).archives ?? [t.archive_uuid!])
    expect(purged.sort()).toEqual([a1, a2, b1, none].sort())
    expect(new Set(purges.map((t) => t.store_uuid)).size).toBe(purges.length)
    // Another sweep changes nothing.
    expect(w.services.archives.expireDue()).toBe(0)
  })

  it('follows the policy as it is now: keep_min 2 keeps two, 0 keeps none', () => {
    const { w, archive, status, setKeepMin } = setup()
    const job = w.job('daily at 4am')
    setKeepMin(job, 2)
    const old = archive(job, 30)
    const mid = archive(job, 20)
    const newest = archive(job, 10)
    w.services.archives.expireDue()
    expect([old, mid, newest].map(status)).toEqual(['expired', 'valid', 'valid'])
    setKeepMin(job, 0)
    w.services.archives.expireDue()
    expect([mid, newest].map(status)).toEqual(['expired', 'expired'])
  })

  it('lets a newer backup release the one kept before it', () => {
    const { w, archive, status } = setup()
    const job = w.job('daily at 4am')
    const last = archive(job, 30)
    w.services.archives.expireDue()
    expect(status(last)).toBe('valid')
    const next = archive(job, 0) // a backup that worked again, not yet expired
    w.services.archives.expireDue()
    expect([last, next].map(status)).toEqual(['expired', 'valid'])
  })

  it('keeps nothing for a deleted job, and never blocks a delete by hand', () => {
    const { w, archive, status } = setup()
    const gone = w.job('daily at 4am')
    const orphan = archive(gone, 30)
    w.services.jobs.delete(gone)
    const job = w.job('daily at 5am')
    const only = archive(job, 30)
    w.services.archives.expireDue()
    expect([orphan, only].map(status)).toEqual(['expired', 'valid'])
    expect(w.services.archives.delete(only, 'alice')).not.toBeNull()
    expect(status(only)).toBe('expired')
  })
})
