// Sleep and wake: the scheduler's own loop (start(), its real setTimeout
// chain, driven by fake timers) over the real services and catalog, with a
// clock moved by hand. A jump of the clock between two turns is a sleep: what
// came due meanwhile runs once (or not at all with catch-up off), and the log
// says so in one line.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createLogger } from '../../src-daemon/platform/logger'
import { CLOCK_JUMP_MARGIN_MS, Scheduler } from '../../src-daemon/scheduler/loop'
import { inProcess } from '../helpers/in-process'

type World = ReturnType<typeof inProcess>
let world: World | undefined
let scheduler: Scheduler | undefined
afterEach(() => {
  scheduler?.stop()
  world?.close()
  vi.useRealTimers()
})

function setup(opts: { catchUp?: boolean } = {}) {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
  world = inProcess('2026-01-01T00:00:00Z')
  const w = world
  const lines: string[] = []
  scheduler = new Scheduler({
    clock: w.clock,
    log: createLogger('info', (line) => lines.push(line)),
    jobs: () => w.services.jobs.schedulable(),
    fire: (job) => w.services.jobs.runScheduled(job.uuid),
    markFired: (uuid, at) => w.services.jobs.markFired(uuid, at),
    housekeeping: () => w.services.archives.expireDue(),
    ...opts,
  })
  const backups = (job: string) =>
    w.catalog.tasks.list({ job_uuid: job }).filter((t) => t.op === 'backup')
  /** The process runs for `ms`: the clock and the timers move together, turn by turn. */
  const run = (ms: number) => {
    for (let left = ms; left > 0; left -= 1000) {
      w.clock.advance(Math.min(1000, left))
      vi.advanceTimersByTime(Math.min(1000, left))
    }
  }
  /** The process is frozen for `ms` (the clock moves, no timer runs), then runs for a minute. */
  const sleep = (ms: number) => {
    w.clock.advance(ms)
    run(60_000)
  }
  const wakeLines = () => lines.filter((l) => l.includes('slept or was suspended'))
  return { w, scheduler: scheduler!, lines, backups, run, sleep, wakeLines }
}

describe('scheduler after a sleep', () => {
  it('runs a schedule missed while asleep once, and says so in one line', () => {
    const { w, scheduler, backups, run, sleep, wakeLines } = setup()
    const job = w.job('daily at 4am')
    scheduler.start()
    run(3 * 60_000)
    expect(wakeLines()).toEqual([])
    // Asleep from 00:03 to 10:00 two days later: two 4 am slots missed.
    sleep(Date.parse('2026-01-03T10:00:00Z') - w.clock.now())
    expect(backups(job)).toHaveLength(1)
    expect(wakeLines()).toHaveLength(1)
    expect(wakeLines()[0]).toMatch(/moved 5\d h \d+ min further .* runs once now/)
  })

  it('skips what came due while asleep when catch-up is off, then runs on time again', () => {
    const { w, scheduler, lines, backups, run, sleep, wakeLines } = setup({ catchUp: false })
    const job = w.job('daily at 4am')
    scheduler.start()
    run(60_000)
    sleep(Date.parse('2026-01-01T09:00:00Z') - w.clock.now())
    expect(backups(job)).toHaveLength(0)
    expect(wakeLines()[0]).toMatch(/catch-up is off/)
    expect(
      lines.some((l) => /missed a run at 2026-01-01T04:00:00.000Z while the machine slept/.test(l)),
    ).toBe(true)
    // Awake through the next 4 am: that run is not a missed one.
    w.clock.set('2026-01-02T03:59:00Z')
    run(2 * 60_000)
    expect(backups(job)).toHaveLength(1)
  })

  it('does not mistake a long quiet night for a sleep', () => {
    const { w, scheduler, backups, run, wakeLines } = setup({ catchUp: false })
    const job = w.job('daily at 4am')
    scheduler.start()
    // Awake from midnight to 04:01: the loop turns every 15 s, no jump.
    run(4 * 3600_000 + 60_000)
    expect(wakeLines()).toEqual([])
    expect(backups(job)).toHaveLength(1)
  })

  it('counts a short suspension within the margin as no sleep', () => {
    const { w, scheduler, run, wakeLines } = setup()
    w.job('daily at 4am')
    scheduler.start()
    run(30_000)
    w.clock.advance(CLOCK_JUMP_MARGIN_MS - 5_000)
    run(30_000)
    expect(wakeLines()).toEqual([])
    w.clock.advance(CLOCK_JUMP_MARGIN_MS + 20_000)
    run(30_000)
    expect(wakeLines()).toHaveLength(1)
  })
})
