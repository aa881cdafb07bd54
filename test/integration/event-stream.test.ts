// The event stream of the real, built daemon (GET /v1/events): every bus event
// carries the next id of one daemon-wide counter; a client that reconnects
// with Last-Event-ID gets exactly the events it missed (a backup's log lines
// compared with the stored log), and one whose id the daemon no longer holds
// gets `reset`. Task-log events carry their seq in the task's log, and
// `--follow` prints the stored log line for line on a task of 2,000 lines:
// no line twice and none missing, even when lines are written between its
// subscription and its read, when its stream drops and resumes, and when the
// daemon answers its resume with `reset`.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli as runCliInProcess } from '../../src-daemon/cli/main'
import { BulwarkClient } from '../../src-daemon/client'
import { readSse } from '../../src-daemon/client/sse'
import type { DaemonEvent, Task } from '../../src-daemon/contract'
import { runCli, startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'

type LogEvent = Extract<DaemonEvent, { type: 'task-log' }>

interface Message {
  id?: number
  event?: DaemonEvent
}

/** One connection to GET /v1/events, every message kept; waited on by predicate. */
class Stream {
  readonly messages: Message[] = []
  private wake: (() => void) | undefined
  private ended = false
  private readonly abort = new AbortController()

  static async open(d: RunningDaemon, lastEventId?: string): Promise<Stream> {
    const s = new Stream()
    const res = await fetch(`${d.url}/v1/events`, {
      headers: {
        authorization: `Bearer ${d.token}`,
        ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
      },
      signal: s.abort.signal,
    })
    expect(res.status).toBe(200)
    void (async () => {
      try {
        for await (const m of readSse(res.body!, s.abort.signal)) {
          s.messages.push({
            ...(m.id === undefined ? {} : { id: Number(m.id) }),
            ...(m.data === undefined ? {} : { event: JSON.parse(m.data) as DaemonEvent }),
          })
          s.wake?.()
        }
      } catch {
        // closed by close()
      }
      s.ended = true
      s.wake?.()
    })()
    return s
  }

  async waitFor(what: string, test: (m: Message) => boolean, timeoutMs = 60_000): Promise<Message> {
    const deadline = Date.now() + timeoutMs
    for (let seen = 0; ;) {
      for (; seen < this.messages.length; seen++) {
        if (test(this.messages[seen]!)) return this.messages[seen]!
      }
      if (this.ended) throw new Error(`the stream ended before ${what}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  }

  /** The id of the last message that had one: where this client stands. */
  get lastId(): number {
    const m = this.messages.findLast((x) => x.id !== undefined)
    if (!m) throw new Error('no id on the stream yet')
    return m.id!
  }

  logOf(uuid: string): LogEvent[] {
    return this.messages.flatMap((m) =>
      m.event?.type === 'task-log' && m.event.uuid === uuid ? [m.event] : [],
    )
  }

  close(): void {
    this.abort.abort()
  }
}

const isLine = (uuid: string, line: string) => (m: Message) =>
  m.event?.type === 'task-log' && m.event.uuid === uuid && m.event.line.endsWith(`: ${line}`)
const ended = (uuid: string) => (m: Message) =>
  m.event?.type === 'task' &&
  m.event.uuid === uuid &&
  !['pending', 'running'].includes(m.event.status)
const stored = (e: Pick<LogEvent, 'at' | 'line'>) => `${e.at} ${e.line}\n`
/** The log lines of a --follow output (indented, with their times), as the stored log has them. */
const followedLog = (out: string) =>
  out
    .split('\n')
    .filter((l) => /^ {2}\d{4}-\d\d-\d\dT[\d:.]+Z /.test(l))
    .map((l) => `${l.slice(2)}\n`)
const linesOf = (log: string) => log.split(/(?<=\n)/).filter(Boolean)

describe('GET /v1/events: ids, resume, reset, and log lines by seq', () => {
  let d: RunningDaemon
  const work = tempDir('bulwark-event-stream-')
  const ids: Record<string, string> = {}
  let gates = 0

  async function created(path: string, body: unknown): Promise<string> {
    const res = await d.api('POST', path, body)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    return res.body.uuid as string
  }
  /** A paused job of an exec target whose backup is `command`. */
  async function job(name: string, command: string): Promise<string> {
    const target = await created('/v1/targets', {
      name,
      plugin: 'exec',
      endpoint: { backup_command: command, restore_command: 'cat >/dev/null' },
    })
    return created('/v1/jobs', {
      name,
      target,
      store: ids.store,
      schedule: ids.schedule,
      retention: ids.retention,
      paused: true,
    })
  }
  /**
   * A job printing "line 1" … "line 2000" to stderr that stops after line 1000
   * until `first` exists, and after line 2000 until `second` does.
   */
  async function gatedJob() {
    const n = ++gates
    const first = join(work, `gate-${n}-a`)
    const second = join(work, `gate-${n}-b`)
    const wait = (f: string) => `while [ ! -e '${f}' ]; do sleep 0.02; done`
    const uuid = await job(
      `gated-${n}`,
      `i=1; while [ $i -le 2000 ]; do echo "line $i" >&2; ` +
        `if [ $i -eq 1000 ]; then ${wait(first)}; fi; i=$((i+1)); done; ${wait(second)}; printf data`,
    )
    return { uuid, open: (gate: string) => writeFileSync(gate, ''), first, second }
  }
  const run = async (jobUuid: string) =>
    (await d.api('POST', `/v1/job/${jobUuid}/run`, {})).body.task_uuid as string
  const getTask = async (uuid: string, since?: number) =>
    (await d.api('GET', `/v1/task/${uuid}${since === undefined ? '' : `?since=${since}`}`))
      .body as Task

  beforeAll(async () => {
    d = await startDaemon()
    ids.store = await created('/v1/stores', {
      name: 'disk',
      plugin: 'fs',
      endpoint: { path: join(work, 'store') },
    })
    ids.schedule = await created('/v1/schedules', { name: 'daily', when: 'daily at 4am' })
    ids.retention = await created('/v1/retention', { name: 'day', expires: 86400 })
    ids.numbered = await job(
      'numbered',
      'i=1; while [ $i -le 2000 ]; do echo "line $i" >&2; i=$((i+1)); done; printf data',
    )
  }, 30_000)
  afterAll(async () => {
    await d?.stop()
  })

  it('sends each bus event with the next id, and heartbeats and the position first', async () => {
    const s = await Stream.open(d)
    const abort = new AbortController()
    const client = await new BulwarkClient({ url: d.url, token: d.token }).subscribe(abort.signal)
    try {
      // A heartbeat without id, then a block with only the id where the stream stands.
      const start = await s.waitFor('the position', (m) => m.id !== undefined)
      expect(s.messages[0]).toEqual({ event: { type: 'heartbeat', at: expect.any(String) } })
      expect(start.event).toBeUndefined()
      const made: string[] = []
      for (const name of ['r1', 'r2', 'r3']) {
        made.push(await created('/v1/retention', { name, expires: 3600 }))
      }
      await s.waitFor(
        'the third resource event',
        (m) => m.event?.type === 'resource' && m.event.uuid === made[2],
      )
      const numbered = s.messages.filter((m) => m.id !== undefined)
      expect(numbered.map((m) => m.id)).toEqual(numbered.map((_, i) => start.id! + i))
      expect(numbered.flatMap((m) => (m.event?.type === 'resource' ? [m.event.uuid] : []))).toEqual(
        made,
      )
      // Heartbeats carry no id.
      const heartbeatIds = s.messages.filter(
        (m) => m.event?.type === 'heartbeat' && m.id !== undefined,
      )
      expect(heartbeatIds).toEqual([])
      // The client says the id of the event it is handing over.
      const last = numbered.find((m) => m.event?.type === 'resource' && m.event.uuid === made[2])!
      for await (const e of client) {
        if (e.type === 'resource' && e.uuid === made[2]) break
      }
      expect(client.lastEventId).toBe(last.id)
    } finally {
      s.close()
      abort.abort()
    }
  })

  it('replays exactly the missed events to a client that reconnects with Last-Event-ID', async () => {
    const g = await gatedJob()
    const before = await Stream.open(d)
    const task = await run(g.uuid)
    await before.waitFor('line 1000', isLine(task, 'line 1000'))
    // Disconnected mid-backup: what it saw, and where it stood.
    before.close()
    const seenBefore = before.logOf(task)
    const lastId = before.lastId
    // Another client sees the rest as it happens.
    const witness = await Stream.open(d)
    g.open(g.first)
    g.open(g.second)
    await witness.waitFor('the backup to end', ended(task))
    witness.close()

    const after = await Stream.open(d, String(lastId))
    try {
      await after.waitFor('the backup to end', ended(task))
      const replayed = after.messages.filter((m) => m.id !== undefined && m.event)
      // Exactly the events after lastId, in order, none twice: the witness's, from where it joined.
      expect(replayed.map((m) => m.id)).toEqual(replayed.map((_, i) => lastId + 1 + i))
      expect(after.messages.some((m) => m.event?.type === 'reset')).toBe(false)
      const witnessed = witness.messages.filter((m) => m.id !== undefined && m.event)
      const overlap = replayed.filter((m) => m.id! > witness.messages.find((x) => x.id)!.id!)
      expect(overlap).toEqual(witnessed.slice(0, overlap.length))

      const log = [...seenBefore, ...after.logOf(task)]
      const t = await getTask(task)
      expect(t.status).toBe('done')
      expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1))
      expect(log.map(stored).join('')).toBe(t.log)
      expect(t.log_lines).toBe(log.length)
      expect(log.flatMap((e) => /: (line \d+)$/.exec(e.line)?.[1] ?? [])).toEqual(
        Array.from({ length: 2000 }, (_, i) => `line ${i + 1}`),
      )
      // The stored log from a seq on: the lines after it, and the same last seq.
      const tail = await getTask(task, log.length - 3)
      expect(tail.log).toBe(log.slice(-3).map(stored).join(''))
      expect(tail.log_lines).toBe(log.length)
    } finally {
      after.close()
    }
  }, 120_000)

  it('answers an id it no longer holds with reset, then streams on', async () => {
    for (const id of ['1', 'not-a-number']) {
      const s = await Stream.open(d, id)
      try {
        const position = await s.waitFor('the position', (m) => m.id !== undefined)
        const kinds = s.messages.map((m) => m.event?.type ?? 'id')
        expect(kinds).toEqual(['heartbeat', 'reset', 'id'])
        expect(s.messages[1]).toEqual({
          event: { type: 'reset', at: expect.any(String), reason: expect.any(String) },
        })
        const uuid = await created('/v1/retention', { name: `after-reset-${id}`, expires: 3600 })
        const m = await s.waitFor(
          'the new resource',
          (x) => x.event?.type === 'resource' && x.event.uuid === uuid,
        )
        expect(m.id).toBeGreaterThan(position.id!)
      } finally {
        s.close()
      }
    }
    // The id where a stream stands replays nothing and needs no reset.
    const now = await Stream.open(d)
    const here = (await now.waitFor('the position', (m) => m.id !== undefined)).id!
    now.close()
    const again = await Stream.open(d, String(here))
    try {
      await again.waitFor('the position', (m) => m.id !== undefined)
      expect(again.messages.map((m) => m.event?.type ?? 'id')).toEqual(['heartbeat', 'id'])
      expect(again.lastId).toBe(here)
    } finally {
      again.close()
    }
  })

  it('run job --follow prints the stored log line for line, 2,000 lines and more', async () => {
    const r = await runCli(['run', 'job', 'numbered', '--follow'], { dataDir: d.dataDir })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const uuid = /^UUID: +(\S+)$/m.exec(r.stdout)?.[1] ?? ''
    const t = await getTask(uuid)
    const printed = followedLog(r.stdout)
    expect(printed).toEqual(linesOf(t.log))
    expect(printed.length).toBe(t.log_lines)
    expect(
      printed.filter((l) => / line \d+\n$/.test(l)).map((l) => /line \d+/.exec(l)![0]),
    ).toEqual(Array.from({ length: 2000 }, (_, i) => `line ${i + 1}`))
  }, 120_000)

  /**
   * `show task --follow` in this process, against the real daemon through a
   * fetch that holds the follower's read of the task until the backup has
   * written 1,000 more lines (so they are both in that read and on the stream
   * it opened before), then cuts its event stream half-way through them. The
   * backup then ends while the follower is disconnected; its reconnect must
   * carry Last-Event-ID (which `reset` mode replaces by an id the daemon no
   * longer holds), and the end of the log comes from the replay (or, after a
   * reset, from the stored log).
   */
  async function followThrough(mode: 'resume' | 'reset') {
    const g = await gatedJob()
    const watch = await Stream.open(d)
    const task = await run(g.uuid)
    await watch.waitFor('line 1000', isLine(task, 'line 1000'))
    const requests: { path: string; lastEventId: string | null }[] = []
    let readLines = 0
    const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(String(input))
      const headers = new Headers(init?.headers)
      const lastEventId = headers.get('last-event-id')
      requests.push({ path: url.pathname + url.search, lastEventId })
      if (url.pathname === '/v1/events') {
        if (lastEventId === null) {
          const res = await fetch(input, init)
          const cut = (seen: string) => readLines > 0 && seen.includes(': line 1500"')
          return new Response(cutWhen(res.body!, cut), res)
        }
        // Disconnected, the follower misses the end of the backup.
        g.open(g.second)
        await watch.waitFor('the backup to end', ended(task))
        if (mode === 'reset') headers.set('last-event-id', '1')
        return fetch(input, { ...init, headers })
      }
      if (url.pathname === `/v1/task/${task}` && readLines === 0) {
        g.open(g.first)
        await watch.waitFor('line 2000', isLine(task, 'line 2000'))
        const res = await fetch(input, init)
        readLines = ((await res.clone().json()) as Task).log_lines
        return res
      }
      return fetch(input, init)
    }) as typeof fetch
    let stdout = ''
    let stderr = ''
    const args = ['show', 'task', task, '--follow', '--url', d.url, '--token', d.token]
    const code = await runCliInProcess(args, {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      env: {},
      fetch: fetchImpl,
    })
    watch.close()
    expect(stderr).toBe('')
    expect(code).toBe(0)
    const t = await getTask(task)
    expect(t.status).toBe('done')
    // The read already held the lines up to "line 2000" that the stream carried too.
    const line2000 = watch.logOf(task).find((e) => e.line.endsWith(': line 2000'))!
    expect(readLines).toBeGreaterThanOrEqual(line2000.seq)
    const resumed = requests.filter((r) => r.path === '/v1/events' && r.lastEventId !== null)
    expect(resumed).toHaveLength(1)
    expect(resumed[0]!.lastEventId).toMatch(/^\d+$/)
    const caughtUp = requests.filter((r) => r.path.startsWith(`/v1/task/${task}?since=`))
    expect(caughtUp.length > 0).toBe(mode === 'reset')
    // After line 2000, the log has more: the follower got those after its reconnect.
    expect(t.log_lines).toBeGreaterThan(line2000.seq)
    const printed = followedLog(stdout)
    expect(printed).toEqual(linesOf(t.log))
    expect(new Set(printed).size).toBe(printed.length)
  }

  it('--follow: lines written between subscribing and reading, and a dropped stream that resumes', async () => {
    await followThrough('resume')
  }, 120_000)

  it('--follow: a resume the daemon answers with reset is caught up from the stored log', async () => {
    await followThrough('reset')
  }, 120_000)
})

/** The body as it comes, until `cut(text so far)`: then it fails as a dropped connection does. */
function cutWhen(
  body: ReadableStream<Uint8Array>,
  cut: (seen: string) => boolean,
): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let seen = ''
  return new ReadableStream<Uint8Array>(
    {
      async pull(ctrl) {
        if (cut(seen)) {
          void reader.cancel().catch(() => undefined)
          ctrl.error(new TypeError('terminated'))
          return
        }
        const { done, value } = await reader.read()
        if (done) return ctrl.close()
        seen += decoder.decode(value, { stream: true })
        ctrl.enqueue(value)
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  )
}
