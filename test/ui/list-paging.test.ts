// @vitest-environment happy-dom
// The Archives and Tasks pages page on the daemon, against a real one: five
// archives of a tiny command's output (and the five backups that made them),
// shown two at a time (the page size the test passes in), the total from the
// API, Next following the page's cursor, Previous going back, and no Next on
// the last page.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { h } from 'vue'
import type { Task } from '../../src-daemon/contract'
import ArchivesPage from '../../src-renderer/src/pages/ArchivesPage.vue'
import TasksPage from '../../src-renderer/src/pages/TasksPage.vue'
import { tempDir, type RunningDaemon } from '../helpers/daemon'
import { runTask } from '../helpers/tasks'
import { allByTestId, byTestId, startUiDaemon, text, until } from '../helpers/ui'
import { mountPage, unmountPages } from '../helpers/ui-page'

let d: RunningDaemon
/** The archives' uuids, newest first (the list's order). */
let made: string[] = []

async function created(path: string, body: unknown): Promise<string> {
  const res = await d.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid
}

beforeAll(async () => {
  d = await startUiDaemon({ BULWARK_WORKERS: '1' })
  const store = await created('/v1/stores', {
    name: 'ui-paging-store',
    plugin: 'fs',
    endpoint: { path: tempDir('bulwark-ui-paging-store-'), vault_password: 'paging pw' },
  })
  const target = await created('/v1/targets', {
    name: 'ui-paging-dump',
    plugin: 'exec',
    endpoint: { backup_command: 'head -c 1024 /dev/urandom', restore_command: 'cat >/dev/null' },
  })
  const schedule = await created('/v1/schedules', { name: 'daily', when: 'daily at 4am' })
  const retention = await created('/v1/retention', { name: 'week', expires: 7 * 86400 })
  const job = await created('/v1/jobs', {
    name: 'ui-paging-job',
    target,
    store,
    schedule,
    retention,
    paused: true,
  })
  for (let i = 0; i < 5; i++) {
    const task: Task = await runTask(d, `/v1/job/${job}/run`)
    expect(task.status, task.log).toBe('done')
  }
  const all = await d.api<{ uuid: string }[]>('GET', '/v1/archives')
  made = all.body.map((a) => a.uuid)
  expect(made).toHaveLength(5)
}, 120_000)
afterAll(async () => {
  await d.stop()
})
afterEach(() => {
  unmountPages()
  vi.restoreAllMocks()
})

const shown = () => allByTestId('archive-row').map((r) => r.dataset.uuid!)
const button = (id: string) => byTestId(id) as HTMLButtonElement | null

describe('ArchivesPage paging', () => {
  it('asks the daemon for one page at a time, shows the total, and pages with Next and Previous', async () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch')
    await mountPage(d, '/archives', [
      { path: '/archives', component: { render: () => h(ArchivesPage, { pageSize: 2 }) } },
    ])
    await until(() => shown().length === 2, 'the first page')
    const asked = fetchSpy.mock.calls
      .map(([url]) => new URL(String(url)))
      .filter((u) => u.pathname === '/v1/archives')
    expect(asked[0]?.searchParams.get('limit')).toBe('2')
    expect(asked[0]?.searchParams.get('cursor')).toBeNull()

    expect(shown()).toEqual(made.slice(0, 2))
    expect(text('archive-totals')).toMatch(/^5 archives\b/)
    expect(text('archive-totals')).toContain('by this page')
    expect(text('page-number')).toBe('Page 1')
    expect(button('page-previous')!.disabled).toBe(true)

    button('page-next')!.click()
    await until(() => shown()[0] === made[2], 'the second page')
    expect(shown()).toEqual(made.slice(2, 4))
    expect(text('page-number')).toBe('Page 2')
    expect(text('archive-totals')).toMatch(/^5 archives\b/)
    const second = fetchSpy.mock.calls
      .map(([url]) => new URL(String(url)))
      .filter((u) => u.pathname === '/v1/archives')
      .at(-1)!
    expect(second.searchParams.get('limit')).toBe('2')
    expect(second.searchParams.get('cursor')).toBeTruthy()

    button('page-previous')!.click()
    await until(() => shown()[0] === made[0], 'the first page again')
    expect(shown()).toEqual(made.slice(0, 2))
    expect(button('page-previous')!.disabled).toBe(true)

    button('page-next')!.click()
    await until(() => shown()[0] === made[2], 'the second page again')
    button('page-next')!.click()
    await until(() => shown()[0] === made[4], 'the last page')
    expect(shown()).toEqual([made[4]])
    expect(text('page-number')).toBe('Page 3')
    expect(button('page-next')!.disabled).toBe(true)
    expect(button('page-previous')!.disabled).toBe(false)
  })

  it('starts again at page one when a filter changes', async () => {
    // Named like the app's route, so a link's query sets the filters.
    const routes = [
      {
        path: '/archives',
        name: 'archives',
        component: { render: () => h(ArchivesPage, { pageSize: 2 }) },
      },
    ]
    const router = await mountPage(d, '/archives', routes)
    await until(() => shown().length === 2, 'the first page')
    button('page-next')!.click()
    await until(() => text('page-number') === 'Page 2' && shown()[0] === made[2], 'page 2')

    // No archive is invalid: nothing matches, and no pager.
    await router.push('/archives?status=invalid')
    await until(() => text('empty-state').includes('No archives match'), 'the empty state')
    expect(shown()).toEqual([])
    expect(byTestId('page-next')).toBeNull()

    // Valid ones: page one of the five again, not page 2.
    await router.push('/archives?status=valid')
    await until(() => shown()[0] === made[0], 'page one')
    expect(shown()).toEqual(made.slice(0, 2))
    expect(text('page-number')).toBe('Page 1')
    expect(text('archive-totals')).toMatch(/^5 archives\b/)
  })
})

describe('TasksPage paging', () => {
  it('asks the daemon for one page of tasks at a time, shows the total, and pages', async () => {
    const tasks = (await d.api<{ uuid: string }[]>('GET', '/v1/tasks?status=all')).body.map(
      (t) => t.uuid,
    )
    expect(tasks.length).toBeGreaterThanOrEqual(5)
    const fetchSpy = vi.spyOn(globalThis, 'fetch')
    await mountPage(d, '/tasks', [
      { path: '/tasks', component: { render: () => h(TasksPage, { pageSize: 2 }) } },
    ])
    const rows = () => allByTestId('task-row').map((r) => r.dataset.uuid!)
    await until(() => rows().length === 2, 'the first page')
    const first = fetchSpy.mock.calls
      .map(([url]) => new URL(String(url)))
      // The live store asks for the running and pending ones; the page, for all.
      .find((u) => u.pathname === '/v1/tasks' && u.searchParams.get('status') === 'all')!
    expect(first.searchParams.get('limit')).toBe('2')
    expect(first.searchParams.get('cursor')).toBeNull()
    expect(rows()).toEqual(tasks.slice(0, 2))
    expect(text('tasks-total')).toMatch(new RegExp(`^${tasks.length} tasks`))

    button('page-next')!.click()
    await until(() => rows()[0] === tasks[2], 'the second page')
    expect(rows()).toEqual(tasks.slice(2, 4))
    button('page-previous')!.click()
    await until(() => rows()[0] === tasks[0], 'the first page again')
    expect(button('page-previous')!.disabled).toBe(true)

    // On to the last page: no Next there.
    for (let page = 2; page <= Math.ceil(tasks.length / 2); page++) {
      button('page-next')!.click()
      await until(() => text('page-number') === `Page ${page}`, `page ${page}`)
      await until(() => rows()[0] === tasks[(page - 1) * 2], `page ${page}'s rows`)
    }
    expect(rows()).toEqual(tasks.slice(-(tasks.length % 2 || 2)))
    expect(button('page-next')!.disabled).toBe(true)
  })
})
