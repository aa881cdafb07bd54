// @vitest-environment happy-dom
// What a newcomer sees of archives, against a real daemon: an archive's own
// page (what was backed up and where it pointed, when, sizes, the task that
// made it, verify), also for an archive whose target was deleted; a restore
// into a new files target that suggests a fresh directory beside the
// original, and says what it does to it; the targets list saying where each
// target points and when it was last backed up; the dashboard counting
// invalid archives, and a job whose newest archive is invalid as a problem.
import { flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Component } from 'vue'
import type { Archive, PluginInfo, Task } from '../../src-daemon/contract'
import ArchivePage from '../../src-renderer/src/pages/ArchivePage.vue'
import ArchivesPage from '../../src-renderer/src/pages/ArchivesPage.vue'
import TargetsPage from '../../src-renderer/src/pages/TargetsPage.vue'
import StoresPage from '../../src-renderer/src/pages/StoresPage.vue'
import EndpointEditor from '../../src-renderer/src/components/EndpointEditor.vue'
import DashboardPage from '../../src-renderer/src/pages/DashboardPage.vue'
import JobsPage from '../../src-renderer/src/pages/JobsPage.vue'
import { chunkPaths } from '../helpers/vault-bench'
import RestoreDialog from '../../src-renderer/src/components/RestoreDialog.vue'
import { freshEndpoint } from '../../src-renderer/src/composables/archives'
import { tempDir, type RunningDaemon } from '../helpers/daemon'
import { runTask, waitForTask } from '../helpers/tasks'
import { byTestId, input, mountEditor, save, startUiDaemon, text, type, until } from '../helpers/ui'
import { mountPage, unmountPages } from '../helpers/ui-page'

let d: RunningDaemon
const source = tempDir('bulwark-ui-archive-src-')
let target: string
let job: string
let archive: Archive
let backup: Task
/** An archive whose target (and job) were deleted since. */
let orphan: Archive

async function created(path: string, body: unknown): Promise<string> {
  const res = await d.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid
}

/** Mounts the app's pages at `path` (signed in), with the message and dialog providers. */
const mountAt = (path: string, routes: { path: string; component: Component }[]) =>
  mountPage(d, path, routes)

beforeAll(async () => {
  d = await startUiDaemon({ BULWARK_WORKERS: '1' })
  mkdirSync(join(source, 'sub'))
  writeFileSync(join(source, 'data.txt'), 'archive page\n'.repeat(5000))
  writeFileSync(join(source, 'sub', 'more.txt'), 'more\n')
  const store = await created('/v1/stores', {
    name: 'ui-archive-store',
    plugin: 'fs',
    endpoint: { path: tempDir('bulwark-ui-archive-store-'), vault_password: 'archive page pw' },
  })
  const schedule = await created('/v1/schedules', { name: 'daily', when: 'daily at 4am' })
  const retention = await created('/v1/retention', { name: 'week', expires: 7 * 86400 })
  target = await created('/v1/targets', {
    name: 'ui-archive-src',
    plugin: 'files',
    endpoint: { path: source },
  })
  job = await created('/v1/jobs', {
    name: 'ui-archive-job',
    target,
    store,
    schedule,
    retention,
    paused: true,
  })
  backup = await runTask(d, `/v1/job/${job}/run`)
  expect(backup.status, backup.log).toBe('done')
  archive = (await d.api<Archive>('GET', `/v1/archive/${backup.archive_uuid}`)).body

  // A second target, backed up, then its job and the target deleted.
  const goneSource = tempDir('bulwark-ui-archive-gone-')
  writeFileSync(join(goneSource, 'x.txt'), 'gone\n')
  const goneTarget = await created('/v1/targets', {
    name: 'ui-gone-src',
    plugin: 'files',
    endpoint: { path: goneSource },
  })
  const goneJob = await created('/v1/jobs', {
    name: 'ui-gone-job',
    target: goneTarget,
    store,
    schedule,
    retention,
    paused: true,
  })
  const goneBackup = await runTask(d, `/v1/job/${goneJob}/run`)
  expect(goneBackup.status, goneBackup.log).toBe('done')
  expect((await d.api('DELETE', `/v1/job/${goneJob}`)).status).toBe(200)
  const del = await d.api('DELETE', `/v1/target/${goneTarget}`)
  expect(del.status, JSON.stringify(del.body)).toBe(200)
  orphan = (await d.api<Archive>('GET', `/v1/archive/${goneBackup.archive_uuid}`)).body
}, 90_000)
afterAll(async () => {
  await d.stop()
})
afterEach(unmountPages)

const ARCHIVE_ROUTES = [
  { path: '/archives', component: ArchivesPage },
  { path: '/archives/:uuid', component: ArchivePage },
]

describe('ArchivePage', () => {
  it('opens from a click on an archive’s row in Archives', async () => {
    const router = await mountAt('/archives', ARCHIVE_ROUTES)
    const row = await until(
      () =>
        document.querySelector<HTMLElement>(
          `[data-testid="archive-row"][data-uuid="${archive.uuid}"]`,
        ),
      'the archive row',
    )
    row.querySelector<HTMLElement>('td:nth-child(3)')!.click()
    await until(
      () => router.currentRoute.value.path === `/archives/${archive.uuid}`,
      'the archive page',
    )
    await until(() => byTestId('archive-details'), 'the archive to load')
    expect(text('archive-target')).toBe('ui-archive-src (files)')
  })

  it('shows what was backed up, where it pointed, when, its sizes and the task that made it', async () => {
    await mountAt(`/archives/${archive.uuid}`, ARCHIVE_ROUTES)
    await until(() => byTestId('archive-details'), 'the archive to load')
    expect(text('archive-target')).toBe('ui-archive-src (files)')
    await until(() => text('archive-where') === `directory ${source}`, 'where it pointed')
    expect(text('archive-page-status')).toBe('valid')
    expect(text('archive-chunks')).toBe(String(archive.chunk_count))
    expect(archive.chunk_count).toBeGreaterThan(0)
    expect(text('archive-size')).not.toBe('—')
    expect(text('archive-stored')).not.toBe('—')
    expect(text('archive-new-bytes')).not.toBe('—')
    expect(text('archive-taken')).not.toBe('')
    expect(text('archive-expires')).toContain('(in 7 d)')
    expect(text('archive-store')).toContain('ui-archive-store (fs)')
    await until(() => byTestId('archive-task-link'), 'the backup task link')
    expect(byTestId('archive-task-link')!.getAttribute('href')).toContain(`/tasks/${backup.uuid}`)
    expect(byTestId('archive-target-deleted')).toBeNull()
    expect((byTestId('archive-restore') as HTMLButtonElement).disabled).toBe(false)
    expect((byTestId('archive-download') as HTMLButtonElement).disabled).toBe(false)
  })

  it('verifies from the page, linking the verify task', async () => {
    await mountAt(`/archives/${archive.uuid}`, ARCHIVE_ROUTES)
    await until(() => byTestId('archive-verify'), 'the verify button')
    byTestId('archive-verify')!.click()
    const link = await until(
      () => document.querySelector<HTMLAnchorElement>('[data-testid="toast-task-link"]'),
      'the toast linking the verify task',
    )
    const taskUuid = link.getAttribute('href')!.split('/tasks/')[1]!
    const task = await waitForTask(d, taskUuid)
    expect(task.type).toBe('verify')
    expect(task.archive_uuid).toBe(archive.uuid)
    expect(task.status, task.log).toBe('done')
    // The "follow the task" toast gives way to one saying how it ended.
    const ended = await until(() => byTestId('toast-task-ended'), 'the toast saying it ended')
    expect(ended.textContent).toMatch(/^Verifying ui-archive-src of .*: done\. Follow the task$/)
    await until(
      () => document.querySelectorAll('[data-testid="toast-task-link"]').length === 1,
      'the queued toast gone',
    )
  })

  it('opens the restore dialog from the page', async () => {
    await mountAt(`/archives/${archive.uuid}`, ARCHIVE_ROUTES)
    await until(() => byTestId('archive-restore'), 'the restore button')
    byTestId('archive-restore')!.click()
    await until(() => byTestId('restore-dialog'), 'the restore dialog')
    expect(document.body.textContent).toContain('Restore ui-archive-src of')
    // A new target made there stays chosen though the page reads the archive
    // again on the target's creation event.
    await until(() => byTestId('restore-new-target'), 'the new-target button')
    byTestId('restore-new-target')!.click()
    await until(() => input('path'), 'the new target form')
    await type('name', 'ui-archive-page-copy')
    await save()
    await until(
      () => text('restore-warning').includes('(new target ui-archive-page-copy)'),
      'the new target chosen',
      30_000,
    )
  })

  it('says when the archive’s target was deleted, and shows what the archive recorded', async () => {
    await mountAt(`/archives/${orphan.uuid}`, ARCHIVE_ROUTES)
    await until(() => byTestId('archive-target-deleted'), 'the deleted-target note')
    // The target's name and where it pointed, as the archive recorded them when it was made.
    expect(text('archive-target')).toContain(`${orphan.origin_target_name} (files)`)
    expect(orphan.origin_target_location).toMatch(/^path \/.*bulwark-ui-archive-gone-/)
    expect(text('archive-where')).toBe(orphan.origin_target_location)
    expect(text('archive-page-status')).toBe('valid')
    expect(text('archive-chunks')).toBe(String(orphan.chunk_count))
  })

  it('says so for an archive that does not exist', async () => {
    await mountAt('/archives/00000000-0000-4000-8000-000000000000', ARCHIVE_ROUTES)
    await until(() => document.body.textContent?.includes('No such archive'), 'not found')
  })
})

describe('RestoreDialog', () => {
  it('restores into a new files target at a suggested fresh directory, saying it must be empty or absent', async () => {
    await mountEditor(d, RestoreDialog, { archive })
    await until(() => byTestId('restore-new-target'), 'the new-target button')
    // Its own target is chosen first. A directory archive asks what to do with
    // files already there: by default nothing is overwritten.
    await until(() => byTestId('restore-warning'), 'the warning for the own target')
    const own = `this archive’s own target, ui-archive-src (files: directory ${source})`
    expect(text('restore-warning')).toContain('Restores beside what is there')
    expect(text('restore-warning')).toContain(
      `Restores the whole archive into ${own}; if any file already exists there, nothing is written.`,
    )
    byTestId('restore-conflict-overwrite')!.querySelector('input')!.click()
    await until(() => text('restore-warning').includes('This overwrites data'), 'overwrite named')
    expect(text('restore-warning')).toContain('existing files are overwritten')
    byTestId('restore-new-target')!.click()
    await until(() => input('path'), 'the new target form')
    const suggested = input('path').value
    expect(suggested).toMatch(new RegExp(`^${source}-restored-\\d{8}-\\d{4}$`))
    expect(existsSync(suggested)).toBe(false)
    // Accepting the defaults works.
    await save()
    await until(
      () => text('restore-warning').includes('Restores into a new target'),
      'the new target chosen',
      30_000,
    )
    expect(text('restore-warning')).toContain(
      `Restores into directory ${suggested}, which must be empty or absent (new target ui-archive-src-restored).`,
    )
    expect(text('restore-warning')).not.toContain('overwrites')
    byTestId('restore-confirm')!.click()
    const tasks = await until(async () => {
      const res = await d.api<Task[]>(
        'GET',
        `/v1/tasks?type=restore&archive=${archive.uuid}&status=all`,
      )
      return res.body.length ? res.body : null
    }, 'the restore task')
    const task = await waitForTask(d, tasks[0]!.uuid)
    expect(task.status, task.log).toBe('done')
    expect(readFileSync(join(suggested, 'data.txt'), 'utf8')).toBe(
      readFileSync(join(source, 'data.txt'), 'utf8'),
    )
    expect(readFileSync(join(suggested, 'sub', 'more.txt'), 'utf8')).toBe('more\n')
  })
})

describe('freshEndpoint', () => {
  const at = new Date(2026, 11, 7, 9, 5)
  it('names a fresh place beside the original', () => {
    setActivePinia(createPinia()) // for the afterEach's sign-out
    expect(JSON.parse(freshEndpoint('files', '{"path":"/srv/data/"}', at)!)).toEqual({
      path: '/srv/data-restored-20261207-0905',
    })
    expect(JSON.parse(freshEndpoint('sqlite', '{"path":"/var/app.db"}', at)!).path).toBe(
      '/var/app-restored-20261207-0905.db',
    )
    expect(
      JSON.parse(
        freshEndpoint('postgres', '{"host":"h","database":"orders","password":"<redacted>"}', at)!,
      ),
    ).toEqual({ host: 'h', database: 'orders_restored_20261207_0905', password: '<redacted>' })
    expect(freshEndpoint('postgres', '{"all_databases":true}', at)).toBeNull()
    expect(freshEndpoint('redis', '{"host":"h"}', at)).toBeNull()
  })
})

describe('TargetsPage', () => {
  it('shows where each target points and its last backup, linked to the archive', async () => {
    const idle = tempDir('bulwark-ui-idle-')
    await created('/v1/targets', { name: 'ui-idle', plugin: 'files', endpoint: { path: idle } })
    await mountAt('/targets', [{ path: '/targets', component: TargetsPage }])
    const row = (name: string) =>
      document.querySelector<HTMLElement>(`[data-testid="target-list-row"][data-name="${name}"]`)
    const cell = (name: string, id: string) =>
      row(name)?.querySelector<HTMLElement>(`[data-testid="${id}"]`)?.textContent?.trim() ?? ''
    await until(() => cell('ui-archive-src', 'target-where') === `directory ${source}`, 'where')
    await until(
      () => row('ui-archive-src')?.querySelector('a[data-testid="target-last-backup"]'),
      'last backup',
    )
    const newest = (await d.api<Archive[]>('GET', `/v1/archives?target=${target}`)).body[0]!
    expect(
      row('ui-archive-src')!
        .querySelector('a[data-testid="target-last-backup"]')!
        .getAttribute('href'),
    ).toContain(`/archives/${newest.uuid}`)
    expect(cell('ui-idle', 'target-where')).toBe(`directory ${idle}`)
    expect(cell('ui-idle', 'target-last-backup')).toBe('never (no job backs it up)')
  })
})

describe('DashboardPage', () => {
  it('shows invalid archives, and a job whose newest archive is invalid, as problems', async () => {
    // A job of its own, in a store of its own, whose archive a verify finds damaged.
    const badStoreDir = tempDir('bulwark-ui-bad-store-')
    const badSource = tempDir('bulwark-ui-bad-src-')
    writeFileSync(join(badSource, 'a.txt'), 'soon damaged\n'.repeat(100))
    const badJob = await created('/v1/jobs', {
      name: 'ui-bad-job',
      target: await created('/v1/targets', {
        name: 'ui-bad-src',
        plugin: 'files',
        endpoint: { path: badSource },
      }),
      store: await created('/v1/stores', {
        name: 'ui-bad-store',
        plugin: 'fs',
        endpoint: { path: badStoreDir, vault_password: 'bad store password' },
      }),
      schedule: await created('/v1/schedules', { name: 'bad-daily', when: 'daily at 5am' }),
      retention: await created('/v1/retention', { name: 'bad-week', expires: 7 * 86400 }),
      paused: true,
    })
    const b = await runTask(d, `/v1/job/${badJob}/run`)
    expect(b.status, b.log).toBe('done')
    for (const c of chunkPaths(badStoreDir)) rmSync(c)
    const v = await runTask(d, `/v1/archive/${b.archive_uuid}/verify`)
    expect(v.status).toBe('failed')
    expect((await d.api<Archive>('GET', `/v1/archive/${b.archive_uuid}`)).body.status).toBe(
      'invalid',
    )

    await mountAt('/', [{ path: '/', component: DashboardPage }])
    const row = await until(
      () =>
        document.querySelector<HTMLElement>(
          '[data-testid="job-row"][data-job="ui-bad-job"][data-state="invalid"]',
        ),
      'the job shown with an invalid archive',
    )
    expect(row.querySelector('[data-testid="job-state"]')!.textContent!.trim()).toBe(
      'archive invalid',
    )
    expect(row.querySelector('[data-testid="job-archive-link"]')!.getAttribute('href')).toContain(
      `/archives/${b.archive_uuid}`,
    )
    // Problems first.
    expect(document.querySelector('[data-testid="job-row"]')!.getAttribute('data-job')).toBe(
      'ui-bad-job',
    )
    expect(
      document
        .querySelector('[data-testid="job-row"][data-job="ui-archive-job"]')!
        .getAttribute('data-state'),
    ).toBe('done')
    await until(() => text('count-invalid').includes('1'), 'the invalid archives count')
    expect(text('count-invalid')).toContain('Invalid archives')
    expect(byTestId('count-invalid')!.querySelector('.bad')).toBeTruthy()
    expect(byTestId('count-invalid')!.getAttribute('href')).toContain('status=invalid')
    expect(text('job-health-summary')).toBe('1 of 2 with an invalid newest archive')

    // The Jobs page says so too, beside the last run's status.
    unmountPages()
    await mountAt('/jobs', [{ path: '/jobs', component: JobsPage }])
    const tag = await until(() => byTestId('job-invalid-ui-bad-job'), 'the invalid tag on Jobs')
    expect(tag.textContent?.trim()).toBe('archive invalid')
    expect(tag.closest('a')!.getAttribute('href')).toContain(`/archives/${b.archive_uuid}`)
    expect(text('job-status-ui-bad-job')).toBe('done')
    expect(byTestId('job-invalid-ui-archive-job')).toBeNull()
  })
})

describe('StoresPage', () => {
  it('says "1 archive", not "1 archives"', async () => {
    const src = tempDir('bulwark-ui-one-src-')
    writeFileSync(join(src, 'one.txt'), 'one\n')
    const oneJob = await created('/v1/jobs', {
      name: 'ui-one-job',
      target: await created('/v1/targets', {
        name: 'ui-one-src',
        plugin: 'files',
        endpoint: { path: src },
      }),
      store: await created('/v1/stores', {
        name: 'ui-one-store',
        plugin: 'fs',
        endpoint: { path: tempDir('bulwark-ui-one-store-'), vault_password: 'one store password' },
      }),
      schedule: await created('/v1/schedules', { name: 'one-daily', when: 'daily at 6am' }),
      retention: await created('/v1/retention', { name: 'one-week', expires: 7 * 86400 }),
      paused: true,
    })
    const b = await runTask(d, `/v1/job/${oneJob}/run`)
    expect(b.status, b.log).toBe('done')
    await mountAt('/stores', [{ path: '/stores', component: StoresPage }])
    const stored = await until(
      () =>
        document.querySelector<HTMLElement>(
          '[data-testid="store-list-row"][data-name="ui-one-store"] [data-testid="store-stored"]',
        ),
      'the store’s usage',
    )
    expect(stored.textContent).toMatch(/\(1 archive\)$/)
  })
})

describe('EndpointEditor plugin picker', () => {
  for (const kind of ['target', 'store'] as const) {
    it(`lists the built-in ${kind} plugins before the external ones`, async () => {
      const plugins = (await d.api<PluginInfo[]>('GET', `/v1/plugins?kind=${kind}`)).body
      const external = plugins.filter((p) => p.source === 'external').map((p) => p.name)
      expect(external.length, 'the example external plugins are installed').toBeGreaterThan(0)
      await mountEditor(d, EndpointEditor, { kind, mode: 'create', plugins })
      // The options are a virtual list that renders none without layout: walk
      // them with the keyboard, reading what each step chooses.
      const selection = byTestId('plugin-select')!.querySelector<HTMLElement>('.n-base-selection')!
      const key = async (k: string) => {
        selection.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true }))
        await flushPromises()
      }
      const chosen = () =>
        byTestId('plugin-select')!.querySelector('.n-base-selection-label')?.textContent?.trim() ??
        ''
      const labels: string[] = []
      for (let i = 0; i < plugins.length; i++) {
        selection.click()
        await flushPromises()
        if (i > 0) await key('ArrowDown')
        await key('Enter')
        await until(() => chosen() && chosen() !== labels.at(-1), `option ${i + 1}`)
        labels.push(chosen())
      }
      const firstExternal = labels.findIndex((l) => l.endsWith(', external)'))
      expect(firstExternal).toBe(plugins.length - external.length)
      for (const name of external)
        expect(labels.slice(firstExternal).some((l) => l.includes(`(${name}, external)`))).toBe(
          true,
        )
    })
  }
})
