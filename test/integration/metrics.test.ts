// GET /metrics against the real daemon: real SQLite backups (one job that
// succeeds, one whose database is missing), a restore, real health signals
// (a free-space threshold no filesystem meets), then the scrape parsed by a
// Prometheus text-format parser and checked against the catalog as the API
// reports it. Also who may scrape: the API token or the metrics token,
// which opens nothing else, and nothing secret in what is scraped.
import Database from 'better-sqlite3'
import { readFileSync, statSync } from 'node:fs'
import { request } from 'node:http'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'
import { waitForTask } from '../helpers/tasks'
import { PASSWORD, VaultBench } from '../helpers/vault-bench'

/** What parse-prometheus-text-format (no types of its own) returns. */
interface Family {
  name: string
  help: string
  type: string
  metrics: { value: string; labels?: Record<string, string> }[]
}
const parseMetrics = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  text: string,
) => Family[]

let d: RunningDaemon
let b: VaultBench
let metricsToken: string
const storeDir = tempDir('bulwark-metrics-store-')
const dbPath = join(tempDir('bulwark-metrics-src-'), 'app.db')
const missingPath = join(tempDir('bulwark-metrics-gone-'), 'gone.db')
/** A name that needs escaping in a label value. */
const goodName = 'orders "prod" \\ db'
const ids = { store: '', empty: '', good: '', bad: '', idle: '' }

async function job(name: string, target: string, store: string, paused = false): Promise<string> {
  const schedule = await b.created('/v1/schedules', {
    name: `s ${name}`,
    when: 'weekly at 2:30am on sundays',
  })
  const retention = await b.created('/v1/retention', { name: `r ${name}`, expires: 7 * 86400 })
  return b.created('/v1/jobs', { name, target, store, schedule, retention, paused })
}

const sqliteTarget = (name: string, path: string) =>
  b.created('/v1/targets', { name, plugin: 'sqlite', endpoint: { path } })

function writeRows(from: number, to: number): void {
  const db = new Database(dbPath)
  db.exec('CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, note TEXT)')
  const insert = db.prepare('INSERT INTO orders VALUES (?, ?)')
  for (let i = from; i < to; i++) insert.run(i, `order ${i} `.repeat(20))
  db.close()
}

/** GET /metrics with a raw Authorization header value (or none) and an optional Host. */
function get(
  path: string,
  authorization?: string,
  host?: string,
): Promise<{ status: number; type: string; text: string }> {
  const url = new URL(path, d.url)
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        headers: {
          ...(authorization ? { authorization } : {}),
          ...(host ? { host } : {}),
        },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (text += c))
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', text }),
        )
      },
    )
    req.on('error', reject)
    req.end()
  })
}

const byUuid = (a: Record<string, string>, b: Record<string, string>) =>
  `${a.subject_uuid}${a.signal}`.localeCompare(`${b.subject_uuid}${b.signal}`)

const value = (v: string) => (v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v))

/** The samples of one metric whose labels include `labels`. */
function samples(families: Family[], name: string, labels: Record<string, string> = {}) {
  const family = families.find((f) => f.name === name)
  return (family?.metrics ?? [])
    .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
    .map((m) => ({ labels: m.labels ?? {}, value: value(m.value) }))
}

/** The one sample of a metric with these labels; undefined when there is none. */
function one(families: Family[], name: string, labels: Record<string, string> = {}) {
  const found = samples(families, name, labels)
  expect(found.length, `${name} ${JSON.stringify(labels)}`).toBeLessThanOrEqual(1)
  return found[0]?.value
}

const secondsOf = (iso: string) => Date.parse(iso) / 1000

interface Signal {
  signal: string
  severity: string
  subject: { kind: string; uuid: string; name: string }
}

/** The signals GET /v1/health reports, once `ready` holds of them (the daemon checks after each change). */
async function healthWhen(ready: (signals: Signal[]) => boolean): Promise<Signal[]> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const res = await d.api('GET', '/v1/health')
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    if (ready(res.body.signals)) return res.body.signals
    if (Date.now() > deadline)
      throw new Error(`health signals never became ready: ${JSON.stringify(res.body)}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const lowSpaceOn = (signals: Signal[], store: string) =>
  signals.some((s) => s.signal === 'low-space' && s.subject.uuid === store)

beforeAll(async () => {
  // Every fs store is "low on space" below a petabyte free: a health signal per store.
  d = await startDaemon({ env: { BULWARK_LOW_SPACE_BYTES: String(10 ** 15) } })
  b = new VaultBench(d)
  metricsToken = readFileSync(join(d.dataDir, 'metrics-token'), 'utf8').trim()
  ids.store = await b.store({ path: storeDir })
  ids.empty = await b.store({ path: tempDir('bulwark-metrics-empty-') })
  ids.good = await job(goodName, await sqliteTarget('app db', dbPath), ids.store)
  ids.bad = await job('missing db', await sqliteTarget('gone db', missingPath), ids.store)
  ids.idle = await job('idle', await sqliteTarget('idle db', dbPath), ids.empty, true)

  // Two good backups (the second adds a little to what the first stored), one failure.
  writeRows(0, 2000)
  expect((await b.backup(ids.good)).status).toBe('done')
  writeRows(2000, 2100)
  const second = await b.backup(ids.good)
  expect(second.status, second.log).toBe('done')
  const failed = await b.backup(ids.bad)
  expect(failed.status, failed.log).toBe('failed')

  // A restore of the newest archive, into a new file: the job's recovery time.
  const into = await sqliteTarget('restored', join(tempDir('bulwark-metrics-restore-'), 'r.db'))
  const res = await d.api('POST', `/v1/archive/${second.archive_uuid}/restore`, { target: into })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  const restored = await waitForTask(d, res.body.task_uuid)
  expect(restored.status, restored.log).toBe('done')
})

afterAll(async () => {
  await d?.stop()
})

describe('GET /metrics: who may scrape', () => {
  it('makes a metrics token of its own, 0600, unlike the API token', () => {
    expect(metricsToken.length).toBeGreaterThanOrEqual(32)
    expect(metricsToken).not.toBe(d.token)
    expect(statSync(join(d.dataDir, 'metrics-token')).mode & 0o777).toBe(0o600)
  })

  it('answers the API token and the metrics token in the Prometheus text format', async () => {
    for (const token of [d.token, metricsToken]) {
      const res = await get('/metrics', `Bearer ${token}`)
      expect(res.status).toBe(200)
      expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/)
      expect(one(parseMetrics(res.text), 'bulwark_up')).toBe(1)
    }
  })

  it('refuses a scrape without a token, or with a wrong one, saying what to send', async () => {
    for (const auth of [undefined, 'Bearer nope', `Bearer ${metricsToken}x`, metricsToken]) {
      const res = await get('/metrics', auth)
      expect(res.status, String(auth)).toBe(401)
      const body = JSON.parse(res.text)
      expect(body.error.code).toBe('unauthorized')
      expect(body.error.message).toContain('Authorization: Bearer <token>')
      expect(body.error.message).toContain('metrics-token')
      expect(res.text).not.toContain('bulwark_')
    }
  })

  it('refuses a path with %-escapes the router decodes, here and under /v1', async () => {
    // "/%6detrics" is routed to /metrics, "/%761/status" to /v1/status.
    for (const path of ['/%6detrics', '/%6D%65trics?x=1', '/%761/status', '/v%31/targets']) {
      const res = await get(path)
      expect(res.status, path).toBe(401)
      expect(res.text).not.toContain('bulwark_up')
    }
    expect((await get('/%6detrics', `Bearer ${metricsToken}`)).status).toBe(200)
    expect((await get('/%761/status', `Bearer ${metricsToken}`)).status).toBe(401)
    expect((await get('/%761/status', `Bearer ${d.token}`)).status).toBe(200)
  })

  it('grants nothing else with the metrics token', async () => {
    for (const path of ['/v1/targets', '/v1/status', `/v1/store/${ids.store}/vault`]) {
      const res = await get(path, `Bearer ${metricsToken}`)
      expect(res.status, path).toBe(401)
      expect(res.text).not.toContain(metricsToken)
    }
    // The API token still opens them.
    expect((await get('/v1/targets', `Bearer ${d.token}`)).status).toBe(200)
  })

  it('refuses a request addressed to another host, token or not', async () => {
    const res = await get('/metrics', `Bearer ${d.token}`, 'evil.example:80')
    expect(res.status).toBe(403)
    expect(res.text).not.toContain('bulwark_up')
  })
})

describe('GET /metrics: the figures match the catalog', () => {
  let families: Family[]
  let text: string
  let scrapedFrom: number
  let scrapedTo: number
  const job = (uuid: string) => ({ job_uuid: uuid })

  beforeAll(async () => {
    await healthWhen((s) => lowSpaceOn(s, ids.store) && lowSpaceOn(s, ids.empty))
    scrapedFrom = Date.now()
    const res = await get('/metrics', `Bearer ${metricsToken}`)
    scrapedTo = Date.now()
    expect(res.status).toBe(200)
    text = res.text
    families = parseMetrics(text)
  })

  it('labels each job by name and uuid, escaped as the format wants', () => {
    expect(samples(families, 'bulwark_job_paused', job(ids.good))[0]?.labels).toEqual({
      job_uuid: ids.good,
      job_name: goodName,
    })
    expect(one(families, 'bulwark_job_paused', job(ids.good))).toBe(0)
    expect(one(families, 'bulwark_job_paused', job(ids.idle))).toBe(1)
    expect(samples(families, 'bulwark_job_paused')).toHaveLength(3)
  })

  it('counts runs by outcome as the tasks list has them', async () => {
    for (const uuid of [ids.good, ids.bad, ids.idle]) {
      const tasks = (await d.api('GET', `/v1/tasks?type=backup&job=${uuid}&status=all`)).body
      for (const outcome of ['done', 'failed', 'canceled']) {
        const n = tasks.filter((t: { status: string }) => t.status === outcome).length
        expect(one(families, 'bulwark_job_runs_total', { ...job(uuid), outcome }), outcome).toBe(n)
      }
    }
    expect(one(families, 'bulwark_job_runs_total', { ...job(ids.good), outcome: 'done' })).toBe(2)
    expect(one(families, 'bulwark_job_runs_total', { ...job(ids.bad), outcome: 'failed' })).toBe(1)
    expect(families.find((f) => f.name === 'bulwark_job_runs_total')?.type).toBe('COUNTER')
  })

  it("gives the last success's end, duration, bytes and new bytes from its task and archive", async () => {
    const tasks = (await d.api('GET', `/v1/tasks?type=backup&job=${ids.good}&status=done`)).body
    const last = tasks[0]
    const archive = await b.archive(last.archive_uuid)
    expect(archive.size).toBeGreaterThan(0)
    expect(one(families, 'bulwark_job_last_success_timestamp_seconds', job(ids.good))).toBe(
      secondsOf(last.stopped_at),
    )
    expect(one(families, 'bulwark_job_last_duration_seconds', job(ids.good))).toBeCloseTo(
      secondsOf(last.stopped_at) - secondsOf(last.started_at),
      3,
    )
    expect(one(families, 'bulwark_job_last_bytes', job(ids.good))).toBe(archive.size)
    expect(archive.new_bytes).toBeGreaterThan(0)
    expect(one(families, 'bulwark_job_last_new_bytes', job(ids.good))).toBe(archive.new_bytes)
    expect(one(families, 'bulwark_job_last_failure_timestamp_seconds', job(ids.good))).toBe(0)
  })

  it('gives the age of the newest valid archive (RPO), +Inf for a job without one', async () => {
    const archives = (await d.api('GET', `/v1/archives?job=${ids.good}&status=valid`)).body
    const takenAt = Math.max(...archives.map((a: { taken_at: string }) => Date.parse(a.taken_at)))
    const age = one(families, 'bulwark_job_newest_valid_archive_age_seconds', job(ids.good))
    expect(age).toBeGreaterThanOrEqual((scrapedFrom - takenAt) / 1000 - 0.001)
    expect(age).toBeLessThanOrEqual((scrapedTo - takenAt) / 1000 + 0.001)
    for (const uuid of [ids.bad, ids.idle])
      expect(one(families, 'bulwark_job_newest_valid_archive_age_seconds', job(uuid))).toBe(
        Infinity,
      )
  })

  it('says when the failing job last failed and that it never succeeded', async () => {
    const [failed] = (await d.api('GET', `/v1/tasks?type=backup&job=${ids.bad}&status=failed`)).body
    expect(one(families, 'bulwark_job_last_failure_timestamp_seconds', job(ids.bad))).toBe(
      secondsOf(failed.stopped_at),
    )
    expect(one(families, 'bulwark_job_last_success_timestamp_seconds', job(ids.bad))).toBe(0)
    // No successful backup: no duration or bytes to report, rather than a made-up 0.
    for (const name of ['last_duration_seconds', 'last_bytes', 'last_new_bytes'])
      expect(one(families, `bulwark_job_${name}`, job(ids.bad)), name).toBeUndefined()
  })

  it("gives the newest restore's duration (RTO) for the job whose archive it restored", async () => {
    const [restore] = (await d.api('GET', '/v1/tasks?type=restore&status=done')).body
    expect(one(families, 'bulwark_job_last_restore_duration_seconds', job(ids.good))).toBeCloseTo(
      secondsOf(restore.stopped_at) - secondsOf(restore.started_at),
      3,
    )
    expect(one(families, 'bulwark_job_last_restore_duration_seconds', job(ids.bad))).toBeUndefined()
  })

  it("gives each store's bytes, chunks and archives as its vault info does", async () => {
    const vault = (await d.api('GET', `/v1/store/${ids.store}/vault`)).body
    const store = { store_uuid: ids.store }
    expect(vault.stored_bytes).toBeGreaterThan(0)
    expect(one(families, 'bulwark_store_bytes', store)).toBe(vault.stored_bytes)
    expect(one(families, 'bulwark_store_logical_bytes', store)).toBe(vault.logical_bytes)
    expect(one(families, 'bulwark_store_chunks', store)).toBe(vault.chunks)
    expect(one(families, 'bulwark_store_archives', store)).toBe(vault.archives)
    expect(vault.archives).toBe(2)
    expect(one(families, 'bulwark_store_dedup_ratio', store)).toBeCloseTo(
      vault.logical_bytes / vault.stored_bytes,
      6,
    )
    const labels = samples(families, 'bulwark_store_bytes', store)[0]?.labels
    expect(labels?.store_name).toMatch(/^store /)
    // An empty store: zeros, and no ratio of nothing to nothing.
    const empty = { store_uuid: ids.empty }
    expect(one(families, 'bulwark_store_bytes', empty)).toBe(0)
    expect(one(families, 'bulwark_store_archives', empty)).toBe(0)
    expect(one(families, 'bulwark_store_dedup_ratio', empty)).toBeUndefined()
  })

  it("gives the daemon's queue, version and process", async () => {
    const status = (await d.api('GET', '/v1/status')).body
    expect(one(families, 'bulwark_tasks_queued')).toBe(status.tasks.pending)
    expect(one(families, 'bulwark_tasks_running')).toBe(status.tasks.running)
    expect(one(families, 'bulwark_build_info', { version: status.version })).toBe(1)
    expect(one(families, 'bulwark_agents_connected')).toBe(0)
    expect(one(families, 'bulwark_process_resident_memory_bytes')).toBeGreaterThan(0)
  })

  it('gives one series per raised health signal, as GET /v1/health lists them', async () => {
    const signals = await healthWhen(() => true)
    expect(lowSpaceOn(signals, ids.store) && lowSpaceOn(signals, ids.empty)).toBe(true)
    const raised = samples(families, 'bulwark_health_signal')
    for (const r of raised) expect(r.value).toBe(1)
    expect(raised.map((r) => r.labels).sort(byUuid)).toEqual(
      signals
        .map((s) => ({
          signal: s.signal,
          severity: s.severity,
          subject_kind: s.subject.kind,
          subject_uuid: s.subject.uuid,
          subject_name: s.subject.name,
        }))
        .sort(byUuid),
    )
  })

  it('holds no token, no endpoint and no secret', () => {
    for (const secret of [d.token, metricsToken, PASSWORD, dbPath, missingPath, storeDir])
      expect(text).not.toContain(secret)
  })
})
