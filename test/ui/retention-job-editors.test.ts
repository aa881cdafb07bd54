// @vitest-environment happy-dom
// The retention and job forms against a real daemon: a period typed as a
// number and a unit is stored in seconds, a job's choices become the uuids it
// is stored with, the first-time shortcuts create real resources, and the
// daemon's refusals land on the field they name.
import { flushPromises } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Job, Retention, Schedule, Store, Target } from '../../src-daemon/contract'
import JobEditor from '../../src-renderer/src/components/JobEditor.vue'
import RetentionEditor from '../../src-renderer/src/components/RetentionEditor.vue'
import { tempDir, type RunningDaemon } from '../helpers/daemon'
import {
  byTestId,
  input,
  mountEditor,
  save,
  startUiDaemon,
  text,
  type,
  unmountAll,
  until,
} from '../helpers/ui'

let d: RunningDaemon
beforeAll(async () => {
  d = await startUiDaemon()
})
afterAll(async () => {
  await d.stop()
})
afterEach(unmountAll)

/** The feedback under the form item labelled `label`. */
function feedback(label: string): string {
  const item = [...document.querySelectorAll('.n-form-item')].find((el) =>
    el.querySelector('.n-form-item-label')?.textContent?.includes(label),
  )
  if (!item) throw new Error(`no form item labelled ${label}`)
  return item.querySelector('.n-form-item-feedback')?.textContent?.trim() ?? ''
}
/** What a select shows as chosen. */
const chosen = (testid: string) =>
  byTestId(testid)!.querySelector('.n-base-selection-label')?.textContent?.trim() ?? ''

/** Opens a select, moves down `steps` options from the chosen one, presses Enter. */
async function pickByKeys(testid: string, steps: number) {
  const selection = byTestId(testid)!.querySelector<HTMLElement>('.n-base-selection')!
  selection.click()
  await flushPromises()
  for (let i = 0; i < steps; i++) {
    selection.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }))
    await flushPromises()
  }
  selection.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }))
  await flushPromises()
}

const list = async <T>(path: string) => (await d.api<T[]>('GET', path)).body

describe('RetentionEditor', () => {
  it('stores 2 weeks as 1209600 seconds', async () => {
    const { saved, show } = await mountEditor(d, RetentionEditor, { existing: null })
    expect(input('amount').value).toBe('30') // the default: 30 days
    expect(chosen('retention-unit')).toBe('days')
    await type('name', 'fortnight')
    await type('amount', '2')
    await pickByKeys('retention-unit', 1) // days → weeks
    await until(() => chosen('retention-unit') === 'weeks', 'weeks chosen')
    expect(text('retention-hint')).toContain('kept 2 weeks after it is taken')
    await save()
    // The first save after the daemon started can take longer than save() waits.
    await until(() => saved.length > 0, 'the policy saved')
    expect(saved).toHaveLength(1)
    expect(show.value).toBe(false)
    const stored = (await d.api<Retention>('GET', `/v1/retention/${saved[0]}`)).body
    expect(stored).toMatchObject({ name: 'fortnight', expires: 1209600 })
  })

  it('refuses less than 1 hour before sending anything', async () => {
    const { saved, show } = await mountEditor(d, RetentionEditor, { existing: null })
    const before = await list<Retention>('/v1/retention')
    await type('name', 'too-short')
    await pickByKeys('retention-unit', 2) // days → weeks → hours (wraps round)
    await until(() => chosen('retention-unit') === 'hours', 'hours chosen')
    await type('amount', '0.5')
    expect(text('retention-hint')).toContain('Keep archives at least 1 hour')
    await save()
    expect(saved).toHaveLength(0)
    expect(show.value).toBe(true)
    expect(text('retention-hint')).toBe('Keep archives at least 1 hour')
    expect(await list<Retention>('/v1/retention')).toEqual(before)
  })

  it('edits a 36-hour policy as 36 hours and saves the same seconds', async () => {
    const created = await d.api('POST', '/v1/retention', {
      name: 'day-and-a-half',
      expires: 129600,
    })
    expect(created.status).toBe(200)
    const existing = (await d.api<Retention>('GET', `/v1/retention/${created.body.uuid}`)).body
    const { saved } = await mountEditor(d, RetentionEditor, { existing })
    expect(document.body.textContent).toContain('Edit retention policy day-and-a-half')
    expect(input('name').value).toBe('day-and-a-half')
    // 36 hours is not a whole number of days, so it is shown in hours.
    expect(input('amount').value).toBe('36')
    expect(chosen('retention-unit')).toBe('hours')
    expect(text('retention-hint')).toContain('kept 36 hours after it is taken')
    await type('name', 'thirty-six-hours')
    await save()
    expect(saved).toEqual([existing.uuid])
    const after = (await d.api<Retention>('GET', `/v1/retention/${existing.uuid}`)).body
    expect(after).toMatchObject({ name: 'thirty-six-hours', expires: 129600 })
  })

  it('keeps the newest archive of each job by default, and sends what is typed', async () => {
    const { saved } = await mountEditor(d, RetentionEditor, { existing: null })
    expect(feedback('Always keep the newest N archives of each job')).toContain(
      'The newest archive of each job is kept even after it expires',
    )
    expect(input('keep_min').value).toBe('1')
    await type('name', 'keep-three')
    await type('keep_min', '3')
    expect(text('retention-keep-min-hint')).toContain('The newest 3 archives of each job are kept')
    await save()
    await until(() => saved.length > 0, 'the policy saved')
    expect(saved).toHaveLength(1)
    const stored = (await d.api<Retention>('GET', `/v1/retention/${saved[0]}`)).body
    expect(stored).toMatchObject({ name: 'keep-three', expires: 30 * 86400, keep_min: 3 })
  })

  it('edits keep_min, 0 meaning every archive goes at its expiry', async () => {
    const created = await d.api('POST', '/v1/retention', {
      name: 'keeps-two',
      expires: 86400,
      keep_min: 2,
    })
    expect(created.status).toBe(200)
    const existing = (await d.api<Retention>('GET', `/v1/retention/${created.body.uuid}`)).body
    const { saved } = await mountEditor(d, RetentionEditor, { existing })
    expect(input('keep_min').value).toBe('2')
    await type('keep_min', '0')
    expect(text('retention-keep-min-hint')).toContain('even a job’s last one')
    await save()
    await until(() => saved.length > 0, 'the policy saved')
    expect(saved).toEqual([existing.uuid])
    const after = (await d.api<Retention>('GET', `/v1/retention/${existing.uuid}`)).body
    expect(after).toMatchObject({ name: 'keeps-two', expires: 86400, keep_min: 0 })
  })

  it('refuses an empty keep_min before sending anything', async () => {
    const { saved, show } = await mountEditor(d, RetentionEditor, { existing: null })
    const before = await list<Retention>('/v1/retention')
    await type('name', 'no-keep')
    await type('keep_min', '')
    await save()
    expect(saved).toHaveLength(0)
    expect(show.value).toBe(true)
    expect(text('retention-keep-min-hint')).toContain('a whole number, 0 or more')
    expect(await list<Retention>('/v1/retention')).toEqual(before)
  })

  it('shows the daemon’s refusal on the name field', async () => {
    const { saved } = await mountEditor(d, RetentionEditor, { existing: null })
    const before = await list<Retention>('/v1/retention')
    await type('name', 'r'.repeat(201))
    await save()
    expect(saved).toHaveLength(0)
    expect(feedback('Name')).toContain('name must be a non-empty string of at most 200 characters')
    expect(await list<Retention>('/v1/retention')).toEqual(before)
  })
})

describe('JobEditor', () => {
  let target: Target
  let store: Store
  let schedule: Schedule
  let retention: Retention
  beforeAll(async () => {
    const t = await d.api('POST', '/v1/targets', {
      name: 'www',
      plugin: 'files',
      endpoint: { path: tempDir() },
    })
    const s = await d.api('POST', '/v1/stores', {
      name: 'local',
      plugin: 'fs',
      endpoint: { path: tempDir(), vault_password: 'correct horse battery' },
    })
    const sc = await d.api('POST', '/v1/schedules', {
      name: 'nightly',
      when: 'daily at 1am',
      timezone: 'UTC',
    })
    const r = await d.api('POST', '/v1/retention', { name: 'week', expires: 7 * 86400 })
    for (const res of [t, s, sc, r]) expect(res.status).toBe(200)
    target = (await d.api<Target>('GET', `/v1/target/${t.body.uuid}`)).body
    store = (await d.api<Store>('GET', `/v1/store/${s.body.uuid}`)).body
    schedule = (await list<Schedule>('/v1/schedules')).find((x) => x.uuid === sc.body.uuid)!
    retention = (await d.api<Retention>('GET', `/v1/retention/${r.body.uuid}`)).body
  })

  it('preselects the only target, store, schedule and retention, and creates the job', async () => {
    const { saved, show } = await mountEditor(d, JobEditor, {
      existing: null,
      targets: [target],
      stores: [store],
      schedules: [schedule],
      retention: [retention],
    })
    expect(chosen('job-target')).toBe('www (files)')
    expect(chosen('job-store')).toBe('local (fs)')
    expect(chosen('job-schedule')).toBe(`nightly — ${schedule.description} (UTC)`)
    expect(chosen('job-retention')).toBe('week — 1 week')
    expect(byTestId('quick-schedule')).toBeNull() // only offered when there are none
    expect(byTestId('quick-retention')).toBeNull()
    await type('name', 'www-nightly')
    await type('summary', 'the web root')
    await save()
    expect(saved).toHaveLength(1)
    expect(show.value).toBe(false)
    const job = (await d.api<Job>('GET', `/v1/job/${saved[0]}`)).body
    expect(job).toMatchObject({
      name: 'www-nightly',
      summary: 'the web root',
      target_uuid: target.uuid,
      store_uuid: store.uuid,
      schedule_uuid: schedule.uuid,
      retention_uuid: retention.uuid,
      verify_schedule_uuid: null,
      priority: 50,
      paused: false,
    })
  })

  it('creates “daily at 3am” and “keep 30 days” in one click each when there are none', async () => {
    const { saved } = await mountEditor(d, JobEditor, {
      existing: null,
      targets: [target],
      stores: [store],
      schedules: [],
      retention: [],
    })
    const schedulesBefore = await list<Schedule>('/v1/schedules')
    const retentionBefore = await list<Retention>('/v1/retention')
    expect(text('job-no-schedules')).toContain('No schedules yet')
    expect(text('job-no-retention')).toContain('No retention policies yet')

    byTestId('quick-schedule')!.click()
    const newSchedule = await until(async () => {
      const now = await list<Schedule>('/v1/schedules')
      return now.length > schedulesBefore.length ? now : null
    }, 'the schedule')
    byTestId('quick-retention')!.click()
    const newRetention = await until(async () => {
      const now = await list<Retention>('/v1/retention')
      return now.length > retentionBefore.length ? now : null
    }, 'the retention policy')
    // Both answers are back in the form (the buttons stop spinning).
    await until(
      () => !document.querySelector('[data-testid^="quick-"].n-button--loading'),
      'the shortcuts to finish',
    )

    const madeSchedule = newSchedule.filter((s) => !schedulesBefore.some((b) => b.uuid === s.uuid))
    expect(madeSchedule).toHaveLength(1)
    expect(madeSchedule[0]).toMatchObject({
      name: 'daily',
      when: 'daily at 3am',
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    })
    const madeRetention = newRetention.filter(
      (r) => !retentionBefore.some((b) => b.uuid === r.uuid),
    )
    expect(madeRetention).toHaveLength(1)
    expect(madeRetention[0]).toMatchObject({ name: 'keep 30 days', expires: 30 * 86400 })

    // They are chosen for the job too.
    await type('name', 'with-shortcuts')
    await save()
    expect(saved).toHaveLength(1)
    const job = (await d.api<Job>('GET', `/v1/job/${saved[0]}`)).body
    expect(job.schedule_uuid).toBe(madeSchedule[0]!.uuid)
    expect(job.retention_uuid).toBe(madeRetention[0]!.uuid)
  })

  it('refuses a job with nothing chosen before sending anything', async () => {
    const { saved, show } = await mountEditor(d, JobEditor, {
      existing: null,
      targets: [],
      stores: [],
      schedules: [],
      retention: [],
    })
    const before = await list<Job>('/v1/jobs')
    await type('name', 'nothing-chosen')
    await save()
    expect(saved).toHaveLength(0)
    expect(show.value).toBe(true)
    expect(feedback('Target')).toContain('Choose what to back up')
    expect(feedback('Store')).toContain('Choose where archives go')
    expect(feedback('Schedule')).toContain('Choose when it runs')
    expect(feedback('Retention')).toContain('Choose how long archives are kept')
    expect(await list<Job>('/v1/jobs')).toHaveLength(before.length)
  })

  it('shows the daemon’s refusal on the field it names', async () => {
    // A name too long for the daemon, and a target deleted since the list was loaded.
    const gone = await d.api('POST', '/v1/targets', {
      name: 'gone',
      plugin: 'files',
      endpoint: { path: tempDir() },
    })
    const goneTarget = (await d.api<Target>('GET', `/v1/target/${gone.body.uuid}`)).body
    expect((await d.api('DELETE', `/v1/target/${goneTarget.uuid}`)).status).toBe(200)
    const { saved, show } = await mountEditor(d, JobEditor, {
      existing: null,
      targets: [goneTarget],
      stores: [store],
      schedules: [schedule],
      retention: [retention],
    })
    const before = await list<Job>('/v1/jobs')
    await type('name', 'j'.repeat(201))
    await save()
    expect(saved).toHaveLength(0)
    expect(show.value).toBe(true)
    expect(feedback('Name')).toContain('name must be a non-empty string of at most 200 characters')
    expect(byTestId('editor-error')).toBeNull()

    await type('name', 'orphan')
    await until(() => feedback('Name') === '', 'the name error to go as the user types')
    await save()
    expect(saved).toHaveLength(0)
    expect(feedback('Target')).toContain(`no target with uuid ${goneTarget.uuid}`)
    expect(await list<Job>('/v1/jobs')).toHaveLength(before.length)
  })

  it('edits a job: shows its choices and PUTs the change', async () => {
    const created = await d.api('POST', '/v1/jobs', {
      name: 'to-edit',
      target: target.uuid,
      store: store.uuid,
      schedule: schedule.uuid,
      retention: retention.uuid,
      priority: 20,
    })
    expect(created.status).toBe(200)
    const existing = (await d.api<Job>('GET', `/v1/job/${created.body.uuid}`)).body
    const other = await d.api('POST', '/v1/retention', { name: 'quarter', expires: 90 * 86400 })
    const quarter = (await d.api<Retention>('GET', `/v1/retention/${other.body.uuid}`)).body
    const { saved } = await mountEditor(d, JobEditor, {
      existing,
      targets: [target],
      stores: [store],
      schedules: [schedule],
      retention: [retention, quarter],
    })
    expect(document.body.textContent).toContain('Edit job to-edit')
    expect(input('name').value).toBe('to-edit')
    expect(input('priority').value).toBe('20')
    expect(chosen('job-retention')).toBe('week — 1 week')
    await pickByKeys('job-retention', 1)
    await until(() => chosen('job-retention') === 'quarter — 90 days', 'quarter chosen')
    await save()
    expect(saved).toEqual([existing.uuid])
    const after = (await d.api<Job>('GET', `/v1/job/${existing.uuid}`)).body
    expect(after).toMatchObject({
      name: 'to-edit',
      priority: 20,
      target_uuid: target.uuid,
      retention_uuid: quarter.uuid,
    })
  })
})
