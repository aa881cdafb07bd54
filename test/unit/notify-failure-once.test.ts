// The failure-once rule on its own: a job's backups failing, failing again,
// hours later, and succeeding, as one channel sees them.
import { describe, expect, it } from 'vitest'
import { DEFAULT_NOTIFY_EVENTS } from '../../src-daemon/contract'
import { decideBackup, type ChannelRule, type JobState } from '../../src-daemon/notify/failure-once'

const HOUR = 3_600_000
const failuresOnly: ChannelRule = {
  events: DEFAULT_NOTIFY_EVENTS,
  reminderHours: 24,
  monitor: false,
}

/** Runs outcomes (true: failed) at the given hours, keeping the state; what was sent at each. */
function story(rule: ChannelRule, runs: [hour: number, failed: boolean][]): string[] {
  let state: JobState | undefined
  return runs.map(([hour, failed]) => {
    const d = decideBackup(rule, state, failed, hour * HOUR)
    state = d.next ?? state
    return d.send ? `${d.send}${d.reminder ? ' (reminder)' : ''}` : '-'
  })
}

describe('failure once', () => {
  it('tells the first failure, a reminder after reminder_hours, and the recovery', () => {
    expect(
      story(failuresOnly, [
        [0, false],
        [1, true],
        [2, true],
        [24, true],
        [25, true],
        [26, false],
        [27, false],
        [28, true],
      ]),
    ).toEqual([
      '-',
      'backup.failed',
      '-',
      '-',
      'backup.failed (reminder)',
      'backup.recovered',
      '-',
      'backup.failed',
    ])
  })

  it('never reminds with reminder_hours 0', () => {
    const rule = { ...failuresOnly, reminderHours: 0 }
    expect(
      story(rule, [
        [0, true],
        [100, true],
        [1000, true],
        [1001, false],
      ]),
    ).toEqual(['backup.failed', '-', '-', 'backup.recovered'])
  })

  it('tells a monitor every run, and a channel that asks for successes each one', () => {
    const monitor: ChannelRule = {
      events: ['backup.started', 'backup.succeeded', 'backup.failed', 'backup.recovered'],
      reminderHours: 24,
      monitor: true,
    }
    expect(
      story(monitor, [
        [0, true],
        [1, true],
        [2, false],
        [3, false],
      ]),
    ).toEqual(['backup.failed', 'backup.failed', 'backup.recovered', 'backup.succeeded'])
  })

  it('keeps when the failing began, and says why it stayed quiet', () => {
    const first = decideBackup(failuresOnly, undefined, true, 5 * HOUR)
    expect(first.next).toEqual({ failing: true, since: 5 * HOUR, notifiedAt: 5 * HOUR })
    const again = decideBackup(failuresOnly, first.next, true, 6 * HOUR)
    expect(again.send).toBeNull()
    expect(again.next).toEqual({ failing: true, since: 5 * HOUR, notifiedAt: 5 * HOUR })
    expect(again.quiet).toContain('again after 1970-01-02T05:00:00.000Z')
    const deaf = decideBackup({ ...failuresOnly, events: ['backup.succeeded'] }, undefined, true, 0)
    expect(deaf.send).toBeNull()
    expect(deaf.quiet).toBe('it does not ask for backup.failed')
  })
})
