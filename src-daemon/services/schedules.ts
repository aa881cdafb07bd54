// Schedules: when jobs run, in the timespec language or cron, in a timezone.
import { randomUUID } from 'node:crypto'
import {
  BulwarkError,
  ErrorCode,
  invalid,
  notFound,
  type Schedule,
  type ScheduleInput,
  type SchedulePreviewInput,
  type SchedulePreviewResult,
} from '../contract'
import type { ScheduleRow } from '../catalog/rows'
import { toIso } from '../platform/clock'
import {
  TimespecError,
  compileSchedule,
  isValidTimezone,
  nextRuns,
  type CompiledSchedule,
} from '../scheduler/timespec'
import type { ServiceContext } from './context'
import { assertUnused } from './usage'

export class ScheduleService {
  constructor(private readonly ctx: ServiceContext) {}

  list(filter: { unused?: boolean } = {}): Schedule[] {
    return this.ctx.catalog.listUsage<ScheduleRow>('schedules', filter).map((r) => this.view(r))
  }

  get(uuid: string): Schedule {
    return this.view(this.row(uuid))
  }

  row(uuid: string): ScheduleRow {
    const row = this.ctx.catalog.schedules.get(uuid)
    if (!row) throw notFound('schedule', uuid)
    return row
  }

  create(input: ScheduleInput): string {
    const timezone = this.timezone(input.timezone)
    this.compile(input.when)
    const now = this.ctx.clock.now()
    const uuid = randomUUID()
    this.ctx.catalog.schedules.insert({
      uuid,
      name: input.name,
      summary: input.summary ?? '',
      timespec: input.when.trim(),
      timezone,
      created_at: now,
      updated_at: now,
    })
    this.ctx.events.emit({ type: 'resource', kind: 'schedule', uuid, action: 'created' })
    return uuid
  }

  update(uuid: string, input: ScheduleInput): void {
    const existing = this.row(uuid)
    const timezone =
      input.timezone === undefined ? existing.timezone : this.timezone(input.timezone)
    this.compile(input.when)
    this.ctx.catalog.schedules.update(uuid, {
      name: input.name,
      summary: input.summary ?? '',
      timespec: input.when.trim(),
      timezone,
      updated_at: this.ctx.clock.now(),
    })
    this.ctx.events.emit({ type: 'resource', kind: 'schedule', uuid, action: 'updated' })
  }

  delete(uuid: string): void {
    this.row(uuid)
    this.ctx.catalog.transaction(() => {
      assertUnused(this.ctx.catalog, 'schedules', 'schedule', uuid)
      this.ctx.catalog.schedules.delete(uuid)
    })
    this.ctx.events.emit({ type: 'resource', kind: 'schedule', uuid, action: 'deleted' })
  }

  preview(input: SchedulePreviewInput): SchedulePreviewResult {
    const timezone = this.timezone(input.timezone)
    const compiled = this.compile(input.when)
    let from = this.ctx.clock.now()
    if (input.from !== undefined) {
      from = Date.parse(input.from)
      if (Number.isNaN(from)) {
        throw invalid('from', `from must be an ISO 8601 time such as 2026-01-31T04:00:00Z`)
      }
    }
    const next = this.runs(input.when, timezone, from, input.count ?? 5)
    return {
      when: compiled.when,
      timezone,
      cron: compiled.cron,
      description: compiled.description,
      next: next.map((d) => d.toISOString()),
    }
  }

  /** The next run of a schedule after `from`, or null if it never runs again. */
  nextRun(when: string, timezone: string, from = this.ctx.clock.now()): number | null {
    try {
      return this.runs(when, timezone, from, 1)[0]?.getTime() ?? null
    } catch {
      return null
    }
  }

  private runs(when: string, timezone: string, from: number, count: number): Date[] {
    try {
      return nextRuns(when, timezone, new Date(from), count)
    } catch (err) {
      throw this.scheduleError(err)
    }
  }

  private compile(when: string): CompiledSchedule {
    try {
      return compileSchedule(when)
    } catch (err) {
      throw this.scheduleError(err)
    }
  }

  private scheduleError(err: unknown): unknown {
    if (err instanceof TimespecError) {
      return new BulwarkError(ErrorCode.InvalidSchedule, err.message, 'when', {
        problem: err.problem,
        examples: [...err.examples],
      })
    }
    return err
  }

  private timezone(tz: string | undefined): string {
    if (tz === undefined) return this.ctx.timezone
    if (!isValidTimezone(tz)) {
      throw invalid(
        'timezone',
        `unknown timezone "${tz}"; use an IANA name such as "UTC", "Europe/Paris" or "America/New_York"`,
      )
    }
    return tz
  }

  view(row: ScheduleRow): Schedule {
    let description = row.timespec
    try {
      description = compileSchedule(row.timespec).description
    } catch {
      // a schedule the current parser rejects still lists; it just never runs
    }
    const next = this.nextRun(row.timespec, row.timezone)
    return {
      uuid: row.uuid,
      name: row.name,
      summary: row.summary,
      when: row.timespec,
      timezone: row.timezone,
      description,
      next_run: next === null ? null : toIso(next),
    }
  }
}
