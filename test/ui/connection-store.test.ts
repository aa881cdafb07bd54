// @vitest-environment happy-dom
// The Pinia stores every page leans on, against a real daemon: signing in
// (token or one-time link code), signing out when the daemon refuses the
// token, the shared event stream, and the live list of running tasks.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { watch } from 'vue'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ApiError, BulwarkClient } from '../../src-daemon/client'
import type { DaemonEvent, Task } from '../../src-daemon/contract'
import { useConnection } from '../../src-renderer/src/stores/connection'
import { useLiveTasks } from '../../src-renderer/src/stores/tasks'
import { tempDir, type RunningDaemon } from '../helpers/daemon'
import { startUiDaemon, until } from '../helpers/ui'

const TOKEN_KEY = 'bulwark.token'

let d: RunningDaemon
beforeAll(async () => {
  // One worker, so the job below really runs.
  d = await startUiDaemon({ BULWARK_WORKERS: '1' })
})
afterAll(async () => {
  await d.stop()
})
beforeEach(() => {
  localStorage.clear()
  setActivePinia(createPinia())
})
afterEach(() => {
  useConnection().signOut() // closes the event stream
  localStorage.clear()
})

/** The one-time code in the sign-in link the daemon printed (…/#/signin?code=…). */
function signInCode(): string {
  const hash = new URL(d.signInUrl).hash
  expect(hash.startsWith('#/signin?')).toBe(true)
  const code = new URLSearchParams(hash.slice('#/signin?'.length)).get('code')
  expect(code).toBeTruthy()
  return code!
}

describe('useConnection', () => {
  it('refuses a wrong token with the daemon’s message and stays signed out', async () => {
    const conn = useConnection()
    expect(conn.signedIn).toBe(false)
    const err = await conn.signInWithToken('not-the-token').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).status).toBe(401)
    expect((err as ApiError).message).toContain('missing or wrong token')
    expect(conn.signedIn).toBe(false)
    expect(conn.token).toBeNull()
    expect(conn.status).toBeNull()
    expect(conn.stream).toBe('off')
    expect(localStorage.getItem(TOKEN_KEY)).toBeNull()
  })

  it('signs in with the link’s one-time code, keeps the token, and the code works once', async () => {
    const code = signInCode()
    const conn = useConnection()
    await conn.signInWithCode(code)
    expect(conn.signedIn).toBe(true)
    expect(conn.signedOutReason).toBeNull()
    expect(conn.status?.version).toBeTruthy()
    const token = localStorage.getItem(TOKEN_KEY)
    expect(token).toBeTruthy()
    expect(conn.token).toBe(token)
    // The kept token is one the daemon accepts.
    const status = await new BulwarkClient({ url: d.url, token: token! }).status()
    expect(status.counts).toBeDefined()
    // A store made later (a reload) starts signed in from localStorage.
    setActivePinia(createPinia())
    const reloaded = useConnection()
    expect(reloaded.signedIn).toBe(true)
    expect(reloaded.token).toBe(token)
    await expect(reloaded.client.status()).resolves.toMatchObject({ version: status.version })
    reloaded.signOut()
    expect(localStorage.getItem(TOKEN_KEY)).toBeNull()

    // The same code a second time is refused, and nothing is kept.
    setActivePinia(createPinia())
    const again = useConnection()
    const err = await again.signInWithCode(code).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).status).toBe(401)
    expect((err as ApiError).message).toContain('already used or has expired')
    expect(again.signedIn).toBe(false)
    expect(localStorage.getItem(TOKEN_KEY)).toBeNull()
  })

  it('goes live on the event stream and hands resource events to listeners', async () => {
    const conn = useConnection()
    expect(conn.stream).toBe('off')
    await conn.signInWithToken(d.token)
    await until(() => conn.stream === 'live', 'the stream to go live')
    expect(conn.epoch).toBeGreaterThanOrEqual(1)
    const events: DaemonEvent[] = []
    const off = conn.onEvent((e) => events.push(e))
    const created = await d.api('POST', '/v1/schedules', { name: 'evented', when: 'daily at 5am' })
    expect(created.status).toBe(200)
    const uuid: string = created.body.uuid
    const seen = await until(
      () => events.find((e) => e.type === 'resource' && e.uuid === uuid),
      'the resource event',
    )
    expect(seen).toEqual({ type: 'resource', kind: 'schedule', uuid, action: 'created' })
    // A listener taken off hears no more.
    off()
    const count = events.length
    const still: DaemonEvent[] = []
    const offStill = conn.onEvent((e) => still.push(e))
    await d.api('DELETE', `/v1/schedule/${uuid}`)
    // A listener still on hears the deletion; by then the one taken off would have too.
    await until(
      () => still.find((e) => e.type === 'resource' && e.uuid === uuid),
      'the deletion event',
    )
    offStill()
    expect(events).toHaveLength(count)
    // Signing out closes the stream.
    conn.signOut()
    expect(conn.stream).toBe('off')
    expect(conn.signedIn).toBe(false)
  })

  it('signs out with a reason when the daemon answers 401 to a kept token', async () => {
    localStorage.setItem(TOKEN_KEY, 'a-token-the-daemon-never-issued')
    setActivePinia(createPinia())
    const conn = useConnection()
    expect(conn.signedIn).toBe(true) // until the daemon says otherwise
    const err = await conn.client.status().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).status).toBe(401)
    await until(() => !conn.signedIn, 'the sign-out')
    expect(conn.signedOutReason).toContain('did not accept this browser’s token')
    expect(conn.token).toBeNull()
    expect(localStorage.getItem(TOKEN_KEY)).toBeNull()
    expect(conn.stream).toBe('off')
  })
})

describe('useLiveTasks', () => {
  it('shows a running job’s task as active, then once as finished and done', async () => {
    const source = tempDir('bulwark-ui-src-')
    mkdirSync(join(source, 'sub'))
    writeFileSync(join(source, 'a.txt'), 'alpha\n')
    writeFileSync(join(source, 'b.txt'), 'bravo\n'.repeat(1000))
    writeFileSync(join(source, 'sub', 'c.txt'), 'charlie\n')
    const ids: string[] = []
    for (const [path, body] of [
      [
        '/v1/stores',
        {
          name: 'tasks-store',
          plugin: 'fs',
          endpoint: { path: tempDir(), vault_password: 'correct horse battery' },
        },
      ],
      ['/v1/targets', { name: 'tasks-target', plugin: 'files', endpoint: { path: source } }],
      ['/v1/schedules', { name: 'tasks-schedule', when: 'daily at 4am' }],
      ['/v1/retention', { name: 'tasks-retention', expires: 86400 }],
    ] as const) {
      const res = await d.api('POST', path, body)
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      ids.push(res.body.uuid)
    }
    const [store, target, schedule, retention] = ids
    const job = await d.api('POST', '/v1/jobs', {
      name: 'tasks-job',
      target,
      store,
      schedule,
      retention,
      paused: true, // runs only by hand
    })
    expect(job.status).toBe(200)

    const conn = useConnection()
    await conn.signInWithToken(d.token)
    const tasks = useLiveTasks()
    await until(() => conn.stream === 'live', 'the stream to go live')
    expect(tasks.active).toEqual([])
    // Every state of the active list, as the pages would render it.
    const activeSeen: { uuid: string; status: string }[][] = []
    watch(
      () => tasks.active.map((t) => ({ uuid: t.uuid, status: t.status })),
      (now) => activeSeen.push(now),
      { flush: 'sync' },
    )

    const run = await d.api('POST', `/v1/job/${job.body.uuid}/run`)
    expect(run.status, JSON.stringify(run.body)).toBe(200)
    const uuid: string = run.body.task_uuid
    expect(uuid).toBeTruthy()

    await until(
      () => tasks.finished.some((t) => t.uuid === uuid),
      'the task among the finished',
      60_000,
    )
    expect(activeSeen.some((list) => list.some((t) => t.uuid === uuid))).toBe(true)
    expect(tasks.active.some((t) => t.uuid === uuid)).toBe(false)
    expect(tasks.get(uuid)).toBeUndefined()
    const finished = tasks.finished.filter((t) => t.uuid === uuid)
    expect(finished).toHaveLength(1)
    expect(finished[0]!.status).toBe('done')
    // The daemon agrees, and later events do not add it again.
    const stored = (await d.api<Task>('GET', `/v1/task/${uuid}`)).body
    expect(stored.status).toBe('done')
    // An event made now reaches the page after any the task sent: once it has, they are all in.
    const marker: DaemonEvent[] = []
    const off = conn.onEvent((e) => marker.push(e))
    const later = await d.api('POST', '/v1/schedules', { name: 'later', when: 'daily at 6am' })
    await until(
      () => marker.find((e) => e.type === 'resource' && e.uuid === later.body.uuid),
      'an event made after the task ended',
    )
    off()
    await flushPromises()
    expect(tasks.finished.filter((t) => t.uuid === uuid)).toHaveLength(1)
    expect(tasks.active).toEqual([])
  })
})
