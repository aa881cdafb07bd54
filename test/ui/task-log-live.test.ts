// @vitest-environment happy-dom
// A task's live log in the UI (useTask, as the task page shows it) against a
// real daemon: lines the backup writes while the page's read of the task is
// in flight are both in that read and on the event stream; they are shown
// once, by their seq, and the log shown equals the stored one line for line,
// before the task ends (no final read to mend it) and after.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { defineComponent, h, ref, type Ref } from 'vue'
import { BulwarkClient } from '../../src-daemon/client'
import type { DaemonEvent, Task } from '../../src-daemon/contract'
import { useTask } from '../../src-renderer/src/composables/useTask'
import { useConnection } from '../../src-renderer/src/stores/connection'
import { tempDir, type RunningDaemon } from '../helpers/daemon'
import { mountEditor, startUiDaemon, unmountAll, until } from '../helpers/ui'

let d: RunningDaemon
let job: string
const work = tempDir('bulwark-ui-task-log-')
const gateA = join(work, 'gate-a')
const gateB = join(work, 'gate-b')

async function created(path: string, body: unknown): Promise<string> {
  const res = await d.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid
}

beforeAll(async () => {
  d = await startUiDaemon({ BULWARK_WORKERS: '1' })
  const wait = (f: string) => `while [ ! -e '${f}' ]; do sleep 0.02; done`
  const target = await created('/v1/targets', {
    name: 'gated',
    plugin: 'exec',
    endpoint: {
      backup_command:
        `i=1; while [ $i -le 2000 ]; do echo "line $i" >&2; ` +
        `if [ $i -eq 1000 ]; then ${wait(gateA)}; fi; i=$((i+1)); done; ${wait(gateB)}; printf data`,
      restore_command: 'cat >/dev/null',
    },
  })
  job = await created('/v1/jobs', {
    name: 'gated',
    target,
    store: await created('/v1/stores', {
      name: 'disk',
      plugin: 'fs',
      endpoint: { path: join(work, 'store') },
    }),
    schedule: await created('/v1/schedules', { name: 'daily', when: 'daily at 4am' }),
    retention: await created('/v1/retention', { name: 'day', expires: 86400 }),
    paused: true,
  })
}, 30_000)
afterAll(async () => {
  await d.stop()
})
afterEach(unmountAll)

/** Reads the daemon's event stream until `test` says so. */
async function waitForEvent(test: (e: DaemonEvent) => boolean, what: string): Promise<void> {
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(), 60_000)
  try {
    const client = new BulwarkClient({ url: d.url, token: d.token })
    for await (const e of await client.subscribe(abort.signal)) if (test(e)) return
    throw new Error(`the stream ended before ${what}`)
  } finally {
    clearTimeout(timer)
    abort.abort()
  }
}

const logLine = (uuid: string, line: string) => (e: DaemonEvent) =>
  e.type === 'task-log' && e.uuid === uuid && e.line.endsWith(`: ${line}`)

describe('useTask', () => {
  it('shows each line once, by seq, when lines come while the task is being read', async () => {
    const task = (await d.api('POST', `/v1/job/${job}/run`, {})).body.task_uuid as string
    await waitForEvent(logLine(task, 'line 1000'), 'line 1000')
    const seen = { line2000: false, readLines: 0 }
    let shown: { task: Ref<Task | null>; log: Ref<string> } | undefined
    const Probe = defineComponent({
      setup() {
        const conn = useConnection()
        conn.onEvent((e) => {
          if (logLine(task, 'line 2000')(e)) seen.line2000 = true
        })
        // The first read waits until the backup has written 1,000 more lines.
        const getTask = conn.client.getTask
        conn.client.getTask = async (uuid, q) => {
          if (seen.readLines === 0) {
            await until(() => conn.stream === 'live', 'the event stream')
            const more = waitForEvent(logLine(task, 'line 2000'), 'line 2000')
            writeFileSync(gateA, '')
            await more
          }
          const t = await getTask(uuid, q)
          seen.readLines ||= t.log_lines
          return t
        }
        const live = useTask(ref(task))
        shown = { task: live.task, log: live.log }
        return () => h('pre', live.log.value)
      },
    })
    await mountEditor(d, Probe, {})
    // The read held lines 1001–2000, which the stream also brought.
    await until(() => seen.readLines > 0 && seen.line2000, 'the read and line 2000 on the stream')
    const stored = (await d.api<Task>('GET', `/v1/task/${task}`)).body
    expect(stored.status).toBe('running')
    expect(seen.readLines).toBeGreaterThanOrEqual(2001)
    expect(shown!.log.value).toBe(stored.log)

    writeFileSync(gateB, '')
    await until(() => shown!.task.value?.status === 'done', 'the backup to end', 60_000)
    const final = (await d.api<Task>('GET', `/v1/task/${task}`)).body
    expect(shown!.log.value).toBe(final.log)
  }, 120_000)
})
