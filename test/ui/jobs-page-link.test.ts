// @vitest-environment happy-dom
// The Jobs page opened on `?job=<uuid>` (the desktop tray's job links) against
// a real daemon with two jobs: only the linked job's row, a chip naming it,
// and "Show all jobs" back to both (the query gone); a link to a job that no
// longer exists says so.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import JobsPage from '../../src-renderer/src/pages/JobsPage.vue'
import { tempDir, type RunningDaemon } from '../helpers/daemon'
import { byTestId, startUiDaemon, text, until } from '../helpers/ui'
import { mountPage, unmountPages } from '../helpers/ui-page'

let d: RunningDaemon
const jobs: Record<string, string> = {}

async function create(path: string, body: unknown): Promise<string> {
  const res = await d.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid as string
}

beforeAll(async () => {
  d = await startUiDaemon()
  const target = await create('/v1/targets', {
    name: 'docs',
    plugin: 'files',
    endpoint: { path: tempDir() },
  })
  const store = await create('/v1/stores', {
    name: 'local',
    plugin: 'fs',
    endpoint: { path: tempDir(), vault_password: 'correct horse battery' },
  })
  const schedule = await create('/v1/schedules', { name: 'nightly', when: 'daily at 3am' })
  const retention = await create('/v1/retention', { name: 'month', expires: 30 * 86400 })
  for (const name of ['ledger', 'photos']) {
    jobs[name] = await create('/v1/jobs', { name, target, store, schedule, retention })
  }
})
afterAll(async () => {
  await d?.stop()
})
afterEach(unmountPages)

const mountJobs = (path: string) => mountPage(d, path, [{ path: '/jobs', component: JobsPage }])

const row = (name: string) => byTestId(`job-row-${name}`)

describe('Jobs page ?job=', () => {
  it('shows only the linked job, says so, and shows all again', async () => {
    const router = await mountJobs(`/jobs?job=${jobs.photos}`)
    await until(() => row('photos'), 'the linked job')
    expect(row('ledger')).toBeNull()
    expect(text('only-job')).toContain('Showing one job: photos')

    byTestId('only-job-show-all')!.click()
    await until(() => row('ledger'), 'every job')
    expect(row('photos')).not.toBeNull()
    expect(byTestId('only-job')).toBeNull()
    expect(router.currentRoute.value.query).toEqual({})
  })

  it('says when the linked job no longer exists', async () => {
    await mountJobs('/jobs?job=00000000-0000-4000-8000-000000000000')
    await until(() => byTestId('only-job'), 'the chip')
    expect(text('only-job')).toContain('The job this link points to no longer exists')
    expect(row('ledger')).toBeNull()
    expect(row('photos')).toBeNull()
  })
})
