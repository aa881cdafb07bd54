// Schedule language for Bulwark jobs. Compiles SHIELD-style timespecs ("daily at 4am",
// "every 4 hours from 12:15am", "3rd tuesday at 2:05") and plain 5-field cron expressions
// to croner patterns, and lists upcoming run times in a timezone. See docs/timespec.md.

import { Cron } from 'croner'
import { parseTimespec, type Spec } from './timespec-grammar.js'
import { SpecProblem, WEEKDAY_NAMES } from './timespec-lexicon.js'

/**
 * A schedule (or timezone) that cannot be used. The message says what is wrong and lists valid
 * alternatives; `examples` are those alternatives (the API sends them as structured details, so
 * clients need not read them out of the message), `example` the first of them.
 */
export class TimespecError extends Error {
  readonly example: string
  readonly examples: readonly string[]
  /** What is wrong, without the alternatives (for a client that shows `examples` on its own). */
  readonly problem: string

  constructor(
    message: string,
    example: string,
    examples: readonly string[] = [example],
    problem: string = message,
  ) {
    super(message)
    this.name = 'TimespecError'
    this.example = example
    this.examples = examples
    this.problem = problem
  }
}

export interface CompiledSchedule {
  /** The input, trimmed. */
  when: string
  kind: 'timespec' | 'cron'
  /** 5-field croner pattern: minute hour day-of-month month day-of-week. */
  cron: string
  /** Canonical English, e.g. "daily at 04:00". Timespec descriptions parse back to the same cron. */
  description: string
}

export const TIMESPEC_EXAMPLES: readonly string[] = Object.freeze([
  'daily at 4am',
  'weekly at 2:30am on sundays',
  'every 4 hours from 12:15am',
  'every 30 minutes',
  'hourly at :15',
  'thursdays at 23:35',
  'monthly on the 14th at 2:05',
  '3rd tuesday at 2:05',
  '30 2 * * *',
])

const GENERIC_EXAMPLES = [
  'daily at 4am',
  'weekly at 2:30am on sundays',
  'every 4 hours from 12:15am',
]
const CRON_EXAMPLE = '30 2 * * *'
const CRON_FIELDS = 'minute hour day-of-month month day-of-week'
// Only the minute and hour fields are checked to tell cron from a timespec ("2nd tuesday at 1am").
const CRON_TIME_FIELD = /^[\d*,/-]+$/
// A fixed instant for checking that a cron pattern ever matches (no clock reads in this module).
const REFERENCE_INSTANT = new Date(Date.UTC(2000, 0, 1))

/** Compile a timespec or 5-field cron expression. Throws TimespecError. */
export function compileSchedule(when: string): CompiledSchedule {
  const text = typeof when === 'string' ? when.trim() : ''
  if (!text) throw scheduleError('empty schedule')
  return looksLikeCron(text) ? compileCron(text) : compileTimespec(text)
}

/** The next `count` run times strictly after `from`, in `timezone`. Throws TimespecError. */
export function nextRuns(when: string, timezone: string, from: Date, count: number): Date[] {
  const { cron } = compileSchedule(when)
  if (!isValidTimezone(timezone)) {
    const problem = `unknown timezone "${String(timezone)}" (use an IANA name)`
    throw scheduleError(problem, ['UTC', 'Europe/London', 'America/New_York'], false)
  }
  if (!(from instanceof Date) || Number.isNaN(from.getTime())) {
    throw new RangeError('nextRuns: `from` must be a valid Date')
  }
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError('nextRuns: `count` must be a non-negative integer')
  }
  if (count === 0) return []
  return new Cron(cron, { timezone, mode: '5-part', paused: true }).nextRuns(count, from)
}

/** True for IANA timezone names the runtime knows (via Intl), including 'UTC'. */
export function isValidTimezone(tz: string): boolean {
  if (typeof tz !== 'string' || tz.trim() === '') return false
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

/** The host's timezone, or 'UTC' when it cannot be determined. */
export function defaultTimezone(): string {
  try {
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone
    return tz && isValidTimezone(tz) ? tz : 'UTC'
  } catch {
    return 'UTC'
  }
}

// ---------------------------------------------------------------- timespecs

function compileTimespec(text: string): CompiledSchedule {
  let spec: Spec
  try {
    spec = parseTimespec(text)
  } catch (error) {
    if (!(error instanceof SpecProblem)) throw error
    const lead = error.kind === 'invalid' ? 'invalid schedule' : 'unrecognised schedule'
    const examples = error.examples.length > 0 ? error.examples : GENERIC_EXAMPLES
    throw scheduleError(`${lead} "${text}": ${error.problem}`, examples)
  }
  return { when: text, kind: 'timespec', ...specToCron(spec) }
}

type CronAndDescription = Pick<CompiledSchedule, 'cron' | 'description'>

function specToCron(spec: Spec): CronAndDescription {
  switch (spec.type) {
    case 'minutes':
      return minutesToCron(spec.every, spec.offset)
    case 'hours':
      return hoursToCron(spec.every, spec.offset)
    case 'daily':
      return { cron: `${atTime(spec.time)} * * *`, description: `daily at ${hhmm(spec.time)}` }
    case 'weekly': {
      const description = `${WEEKDAY_NAMES[spec.weekday]}s at ${hhmm(spec.time)}`
      return { cron: `${atTime(spec.time)} * * ${spec.weekday}`, description }
    }
    case 'monthly-day': {
      const description = `monthly on the ${ordinal(spec.day)} at ${hhmm(spec.time)}`
      return { cron: `${atTime(spec.time)} ${spec.day} * *`, description }
    }
    case 'monthly-nth': {
      const which = `${ordinal(spec.nth)} ${WEEKDAY_NAMES[spec.weekday]}`
      const description = `monthly on the ${which} at ${hhmm(spec.time)}`
      return { cron: `${atTime(spec.time)} * * ${spec.weekday}#${spec.nth}`, description }
    }
  }
}

function minutesToCron(every: number, offset: number): CronAndDescription {
  if (every === 1) return { cron: '* * * * *', description: 'every minute' }
  if (offset === 0) return { cron: `*/${every} * * * *`, description: `every ${every} minutes` }
  const description = `every ${every} minutes from ${hhmm(offset)}`
  return { cron: `${offset}-59/${every} * * * *`, description }
}

function hoursToCron(every: number, offset: number): CronAndDescription {
  const [hour, minute] = [Math.floor(offset / 60), offset % 60]
  if (every === 1) return { cron: `${minute} * * * *`, description: `hourly at :${pad(minute)}` }
  const hours = hour === 0 ? `*/${every}` : `${hour}-23/${every}`
  const from = offset === 0 ? '' : ` from ${hhmm(offset)}`
  return { cron: `${minute} ${hours} * * *`, description: `every ${every} hours${from}` }
}

/** "M H" cron fields for a time of day in minutes. */
function atTime(time: number): string {
  return `${time % 60} ${Math.floor(time / 60)}`
}

function hhmm(time: number): string {
  return `${pad(Math.floor(time / 60))}:${pad(time % 60)}`
}

function pad(n: number): string {
  return String(n).padStart(2, '0')
}

function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13
  const suffix = teen ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10]
  return `${n}${suffix ?? 'th'}`
}

// ---------------------------------------------------------------- cron

function looksLikeCron(text: string): boolean {
  const [minute = '', hour] = text.split(/\s+/)
  if (!CRON_TIME_FIELD.test(minute)) return false
  return hour === undefined ? /[*,/-]/.test(minute) : CRON_TIME_FIELD.test(hour)
}

function compileCron(text: string): CompiledSchedule {
  const fields = text.split(/\s+/)
  if (fields.length !== 5) throw fieldCountError(text, fields)
  const cron = fields.join(' ')
  let job: Cron
  try {
    job = new Cron(cron, { mode: '5-part', timezone: 'UTC', paused: true })
  } catch (error) {
    const reason =
      error instanceof Error ? error.message.replace(/^Cron\w*:\s*/, '') : String(error)
    throw scheduleError(
      `invalid cron expression "${text}": ${reason}`,
      [CRON_EXAMPLE, '0 */4 * * *'],
      false,
    )
  }
  if (job.nextRun(REFERENCE_INSTANT) === null) {
    const problem = `invalid cron expression "${text}": it never matches a real date`
    throw scheduleError(problem, [CRON_EXAMPLE, '0 3 1 * *'], false)
  }
  return { when: text, kind: 'cron', cron, description: `cron "${cron}"` }
}

function fieldCountError(text: string, fields: string[]): TimespecError {
  const count = fields.length === 1 ? '1 field' : `${fields.length} fields`
  const found = `invalid cron expression "${text}": it has ${count}, but cron here has exactly 5 (${CRON_FIELDS})`
  if (fields.length === 6 || fields.length === 7) {
    const withoutSeconds = fields.slice(1, 6).join(' ')
    return scheduleError(`${found}; seconds and years are not supported`, [withoutSeconds], false)
  }
  return scheduleError(found, [CRON_EXAMPLE, '0 */4 * * *'], false)
}

// ---------------------------------------------------------------- errors

/** Build a TimespecError: "<headline>; try "a", "b" or a cron expression like "30 2 * * *"". */
function scheduleError(
  headline: string,
  examples: readonly string[] = GENERIC_EXAMPLES,
  mentionCron = true,
): TimespecError {
  const options = examples.map((e) => `"${e}"`)
  if (mentionCron) options.push(`a cron expression like "${CRON_EXAMPLE}"`)
  const last = options.pop() ?? ''
  const list = options.length > 0 ? `${options.join(', ')} or ${last}` : last
  const offered = [...new Set(mentionCron ? [...examples, CRON_EXAMPLE] : examples)]
  return new TimespecError(
    `${headline}; try ${list}`,
    examples[0] ?? CRON_EXAMPLE,
    offered,
    headline,
  )
}
