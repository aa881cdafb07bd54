// @vitest-environment happy-dom
// The job editor's Hooks section against a real daemon: collapsed by default
// with a count of the job's hooks, commands added per phase with essential
// and timeout are stored as typed (blank rows left out), and an edit shows the
// job's hooks and removes one.
import { flushPromises } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import type { Job, Retention, Schedule, Store, Target } from '../../src-daemon/contract'
import JobEditor from '../../src-renderer/src/components/JobEditor.vue'
import { tempDir, type RunningDaemon } from '../helpers/daemon'
import {
  allByTestId,
  byTestId,
  input,
  mountEditor,
  save,
  startUiDaemon,
  type,
  unmountAll,
} from '../helpers/ui'

let d: RunningDaemon
const lists = {} as {
  targets: Target[]
  stores: Store[]
  schedules: Schedule[]
  retention: Retention[]
}

beforeAll(async () => {
  d = await startUiDaemon()
  const made = async (path: string, body: unknown) => {
    const res = await d.api('POST', path, body)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
  }
  await made('/v1/targets', { name: 'www', plugin: 'files', endpoint: { path: tempDir() } })
  await made('/v1/stores', {
    name: 'local',
    plugin: 'fs',
    endpoint: { path: tempDir(), vault_password: 'correct horse battery' },
  })
  await made('/v1/schedules', { name: 'nightly', when: 'daily at 1am', timezone: 'UTC' })
  await made('/v1/retention', { name: 'week', expires: 7 * 86400 })
  lists.targets = (await d.api('GET', '/v1/targets')).body
  lists.stores = (await d.api('GET', '/v1/stores')).body
  lists.schedules = (await d.api('GET', '/v1/schedules')).body
  lists.retention = (await d.api('GET', '/v1/retention')).body
})
afterAll(async () => {
  await d.stop()
})
afterEach(unmountAll)

const toggle = () => byTestId('job-hooks-toggle')!
async function click(el: HTMLElement) {
  el.click()
  await flushPromises()
}

it('is collapsed at first, and stores the commands added per phase as typed', async () => {
  const { saved } = await mountEditor(d, JobEditor, { existing: null, ...lists })
  expect(toggle().textContent).toContain('Hooks')
  expect(toggle().textContent).toContain('(none)')
  expect(byTestId('hook-add-before')).toBeNull()

  await click(toggle())
  await click(byTestId('hook-add-before')!)
  await type('hook-before-0-command', 'docker stop app')
  await click(byTestId('hook-add-after')!)
  await type('hook-after-0-command', 'docker start app')
  await type('hook-after-0-timeout', '30')
  // After hooks are optional unless ticked.
  await click(allByTestId('hook-after')[0]!.querySelector<HTMLElement>('.n-checkbox')!)
  await click(byTestId('hook-add-on_failure')!) // left blank: not stored
  expect(toggle().textContent).toContain('(1 before, 1 after)')

  await type('name', 'hooked')
  await save()
  expect(saved).toHaveLength(1)
  const job = (await d.api<Job>('GET', `/v1/job/${saved[0]}`)).body
  expect(job.hooks).toEqual({
    before: [{ command: 'docker stop app', essential: true, timeout_seconds: 300 }],
    after: [{ command: 'docker start app', essential: true, timeout_seconds: 30 }],
    on_failure: [],
  })
})

it("shows an edited job's hooks and removes one", async () => {
  const res = await d.api('POST', '/v1/jobs', {
    name: 'has-hooks',
    target: lists.targets[0]!.uuid,
    store: lists.stores[0]!.uuid,
    schedule: lists.schedules[0]!.uuid,
    retention: lists.retention[0]!.uuid,
    hooks: {
      before: [{ command: 'pg_ctl stop', timeout_seconds: 60 }],
      on_failure: [{ command: 'pg_ctl start' }],
    },
  })
  expect(res.status).toBe(200)
  const existing = (await d.api<Job>('GET', `/v1/job/${res.body.uuid}`)).body
  const { saved } = await mountEditor(d, JobEditor, { existing, ...lists })
  expect(toggle().textContent).toContain('(1 before, 1 on failure)')
  await click(toggle())
  expect(input('hook-before-0-command').value).toBe('pg_ctl stop')
  expect(input('hook-before-0-timeout').value).toBe('60')
  expect(input('hook-on_failure-0-command').value).toBe('pg_ctl start')

  await click(byTestId('hook-remove-before')!)
  expect(byTestId('hook-before')).toBeNull()
  await save()
  expect(saved).toEqual([existing.uuid])
  const after = (await d.api<Job>('GET', `/v1/job/${existing.uuid}`)).body
  expect(after.hooks).toEqual({
    before: [],
    after: [],
    on_failure: [{ command: 'pg_ctl start', essential: false, timeout_seconds: 300 }],
  })
})
