// @vitest-environment happy-dom
// The schedule form against a real daemon: the live preview is the daemon's
// own answer, an invalid `when` shows the daemon's error with its suggestions
// as buttons, and what is saved is what the daemon stores.
import { flushPromises } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Schedule, SchedulePreviewResult } from '../../src-daemon/contract'
import ScheduleEditor from '../../src-renderer/src/components/ScheduleEditor.vue'
import { fmtInZone } from '../../src-renderer/src/composables/schedules'
import type { RunningDaemon } from '../helpers/daemon'
import {
  allByTestId,
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

const mountScheduleEditor = (existing: Schedule | null = null) =>
  mountEditor(d, ScheduleEditor, { existing })

/**
 * Picks a timezone as a person does with the keyboard: open the select, type
 * into its filter, press Enter. (Its options are a virtual list that renders
 * none without layout, so they cannot be clicked here.)
 */
async function chooseTimezone(zone: string) {
  const select = byTestId('schedule-timezone')!
  select.querySelector<HTMLElement>('.n-base-selection')!.click()
  await flushPromises()
  const filter = select.querySelector<HTMLInputElement>('input[aria-label="Timezone"]')!
  filter.value = zone
  filter.dispatchEvent(new Event('input', { bubbles: true }))
  await flushPromises()
  filter.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }))
  await flushPromises()
  await until(() => select.textContent?.includes(zone), `${zone} chosen`)
}

async function preview(when: string, timezone: string) {
  const res = await d.api<SchedulePreviewResult>('POST', '/v1/schedules/preview', {
    when,
    timezone,
    count: 5,
  })
  expect(res.status).toBe(200)
  return res.body
}

describe('ScheduleEditor', () => {
  it('shows the daemon’s preview of a valid schedule after the debounce', async () => {
    await mountScheduleEditor()
    expect(text('schedule-preview')).toContain('The next runs show here as you type.')
    await type('when', 'every 4 hours')
    // Not asked yet: the preview waits for the typing to pause.
    expect(allByTestId('schedule-next-run')).toHaveLength(0)
    await until(() => allByTestId('schedule-next-run').length === 5, 'five next runs')
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone
    const expected = await preview('every 4 hours', tz)
    expect(text('schedule-description')).toBe(expected.description)
    expect(text('schedule-cron')).toBe(expected.cron)
    // The first run shown is the daemon's first run, on the schedule's wall clock.
    expect(allByTestId('schedule-next-run')[0]!.textContent).toContain(
      fmtInZone(expected.next[0]!, tz),
    )
    expect(byTestId('schedule-when-error')).toBeNull()
  })

  it('shows the daemon’s error for an invalid schedule, and a suggestion fixes it', async () => {
    await mountScheduleEditor()
    await type('when', 'dayly at 3am')
    const error = await until(() => byTestId('schedule-when-error'), 'the when error')
    // The daemon's own words, without the "; try …" tail that became buttons.
    const res = await d.api('POST', '/v1/schedules/preview', { when: 'dayly at 3am' })
    expect(res.status).toBe(400)
    expect(res.body.error.field).toBe('when')
    const message: string = res.body.error.message
    expect(error.textContent!.trim()).toBe(message.slice(0, message.lastIndexOf('; try ')))
    expect(error.textContent).toContain('did you mean "daily"?')
    expect(text('schedule-preview')).toContain('No preview until the schedule is valid.')
    expect(allByTestId('schedule-next-run')).toHaveLength(0)

    const suggestions = allByTestId('schedule-suggestion')
    // The buttons are the error's structured examples, not words read out of its message.
    const examples: string[] = res.body.error.details.examples
    expect(res.body.error.details.problem).toBe(message.slice(0, message.lastIndexOf('; try ')))
    expect(suggestions.map((b) => b.textContent!.trim())).toEqual(examples.slice(0, 4))
    expect(suggestions.map((b) => b.textContent!.trim())).toContain('daily at 4am')
    const pick = suggestions.find((b) => b.textContent!.trim() === 'daily at 4am')!
    pick.click()
    await flushPromises()
    expect(input('when').value).toBe('daily at 4am')
    await until(() => allByTestId('schedule-next-run').length === 5, 'the preview')
    // The feedback leaves through a transition (a frame or two): wait for it to go.
    await until(() => byTestId('schedule-when-error') === null, 'the error to go')
    expect(text('schedule-cron')).toBe('0 4 * * *')
  })

  it('creates the schedule with the chosen timezone', async () => {
    const { saved, show } = await mountScheduleEditor()
    await type('name', 'tokyo-nightly')
    await type('when', 'daily at 2:30am')
    await chooseTimezone('Asia/Tokyo')
    await type('summary', 'quiet hours in Tokyo')
    // The preview follows the timezone: runs at 02:30 Tokyo time (17:30 UTC).
    await until(
      () => text('schedule-preview').includes('Next runs (Asia/Tokyo)'),
      'the preview in Tokyo time',
    )
    expect(allByTestId('schedule-next-run')).toHaveLength(5)
    const expected = await preview('daily at 2:30am', 'Asia/Tokyo')
    expect(new Date(expected.next[0]!).getUTCHours()).toBe(17)
    await save()
    expect(saved).toHaveLength(1)
    expect(show.value).toBe(false)
    const all = (await d.api<Schedule[]>('GET', '/v1/schedules')).body
    const stored = all.find((s) => s.uuid === saved[0])
    expect(stored).toMatchObject({
      name: 'tokyo-nightly',
      when: 'daily at 2:30am',
      timezone: 'Asia/Tokyo',
      summary: 'quiet hours in Tokyo',
    })
  })

  it('refuses an empty form before sending anything', async () => {
    const { saved, show } = await mountScheduleEditor()
    const before = (await d.api<Schedule[]>('GET', '/v1/schedules')).body.length
    await save()
    expect(saved).toHaveLength(0)
    expect(show.value).toBe(true)
    expect(document.querySelector('[data-testid="schedule-editor"]')!.textContent).toContain(
      'Give it a name',
    )
    expect(text('schedule-when-error')).toContain('Say when it runs')
    expect((await d.api<Schedule[]>('GET', '/v1/schedules')).body).toHaveLength(before)
  })

  it('edits an existing schedule: shows its values and PUTs the change', async () => {
    const created = await d.api('POST', '/v1/schedules', {
      name: 'weekly',
      when: 'weekly on sunday at 2:30',
      timezone: 'Europe/Paris',
      summary: 'before the week starts',
    })
    expect(created.status).toBe(200)
    const uuid: string = created.body.uuid
    const existing = (await d.api<Schedule[]>('GET', '/v1/schedules')).body.find(
      (s) => s.uuid === uuid,
    )!
    const { saved } = await mountScheduleEditor(existing)
    expect(document.body.textContent).toContain('Edit schedule weekly')
    expect(input('name').value).toBe('weekly')
    expect(input('when').value).toBe('weekly on sunday at 2:30')
    expect(input('summary').value).toBe('before the week starts')
    expect(byTestId('schedule-timezone')!.textContent).toContain('Europe/Paris')
    await until(() => allByTestId('schedule-next-run').length === 5, 'the preview')
    expect(byTestId('schedule-preview')!.textContent).toContain('Next runs (Europe/Paris)')
    expect(text('editor-save')).toBe('Save')

    await type('when', '0 4 * * 1-5')
    await save()
    expect(saved).toEqual([uuid])
    const all = (await d.api<Schedule[]>('GET', '/v1/schedules')).body
    expect(all.filter((s) => s.name === 'weekly')).toHaveLength(1) // updated, not added
    expect(all.find((s) => s.uuid === uuid)).toMatchObject({
      name: 'weekly',
      when: '0 4 * * 1-5',
      timezone: 'Europe/Paris',
      summary: 'before the week starts',
    })
  })

  it('shows the daemon’s error on the field when saving fails', async () => {
    const { saved, show } = await mountScheduleEditor()
    await type('name', 'x'.repeat(201))
    await type('when', 'daily at 3am')
    await save()
    expect(saved).toHaveLength(0)
    expect(show.value).toBe(true)
    const feedback =
      document.querySelector('[data-testid="schedule-editor"] .n-form-item-feedback')
        ?.textContent ?? ''
    expect(feedback).toContain('name must be a non-empty string of at most 200 characters')
    const all = (await d.api<Schedule[]>('GET', '/v1/schedules')).body
    expect(all.some((s) => s.name.startsWith('xxx'))).toBe(false)
  })
})
