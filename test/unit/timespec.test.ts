import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  TIMESPEC_EXAMPLES,
  TimespecError,
  compileSchedule,
  defaultTimezone,
  isValidTimezone,
  nextRuns,
} from '../../src-daemon/scheduler/timespec.js'

// Saturday 7 March 2026, noon UTC: the day before US daylight saving time starts.
const FROM = new Date('2026-03-07T12:00:00Z')

/** "2026-03-07T12:01:00.000Z" -> "2026-03-07T12:01Z" */
const iso = (d: Date): string => d.toISOString().replace(':00.000Z', 'Z')
const runs = (when: string, tz: string, from: Date, count: number): string[] =>
  nextRuns(when, tz, from, count).map(iso)

function compileError(when: string): TimespecError {
  try {
    compileSchedule(when)
  } catch (error) {
    if (error instanceof TimespecError) return error
    throw error
  }
  throw new Error(`expected "${when}" to be rejected`)
}

describe('compileSchedule: phrases', () => {
  // [when, cron, description, next three runs after FROM in UTC]
  // prettier-ignore
  const table: [string, string, string, string[]][] = [
    // minutes
    ['minutely', '* * * * *', 'every minute', ['2026-03-07T12:01Z', '2026-03-07T12:02Z', '2026-03-07T12:03Z']],
    ['every minute', '* * * * *', 'every minute', ['2026-03-07T12:01Z', '2026-03-07T12:02Z', '2026-03-07T12:03Z']],
    ['every 15 minutes', '*/15 * * * *', 'every 15 minutes', ['2026-03-07T12:15Z', '2026-03-07T12:30Z', '2026-03-07T12:45Z']],
    ['every 5 minutes from 12:03am', '3-59/5 * * * *', 'every 5 minutes from 00:03', ['2026-03-07T12:03Z', '2026-03-07T12:08Z', '2026-03-07T12:13Z']],
    ['every half hour from 0:10', '10-59/30 * * * *', 'every 30 minutes from 00:10', ['2026-03-07T12:10Z', '2026-03-07T12:40Z', '2026-03-07T13:10Z']],
    ['every 30 minutes from 0:10', '10-59/30 * * * *', 'every 30 minutes from 00:10', ['2026-03-07T12:10Z', '2026-03-07T12:40Z', '2026-03-07T13:10Z']],
    ['every quarter hour from :03', '3-59/15 * * * *', 'every 15 minutes from 00:03', ['2026-03-07T12:03Z', '2026-03-07T12:18Z', '2026-03-07T12:33Z']],
    // hourly
    ['hourly', '0 * * * *', 'hourly at :00', ['2026-03-07T13:00Z', '2026-03-07T14:00Z', '2026-03-07T15:00Z']],
    ['every hour', '0 * * * *', 'hourly at :00', ['2026-03-07T13:00Z', '2026-03-07T14:00Z', '2026-03-07T15:00Z']],
    ['hourly at 15', '15 * * * *', 'hourly at :15', ['2026-03-07T12:15Z', '2026-03-07T13:15Z', '2026-03-07T14:15Z']],
    ['hourly at :15', '15 * * * *', 'hourly at :15', ['2026-03-07T12:15Z', '2026-03-07T13:15Z', '2026-03-07T14:15Z']],
    ['hourly 10', '10 * * * *', 'hourly at :10', ['2026-03-07T12:10Z', '2026-03-07T13:10Z', '2026-03-07T14:10Z']],
    ['hourly at x:30', '30 * * * *', 'hourly at :30', ['2026-03-07T12:30Z', '2026-03-07T13:30Z', '2026-03-07T14:30Z']],
    ['hourly at *:45', '45 * * * *', 'hourly at :45', ['2026-03-07T12:45Z', '2026-03-07T13:45Z', '2026-03-07T14:45Z']],
    ['every hour at h:05', '5 * * * *', 'hourly at :05', ['2026-03-07T12:05Z', '2026-03-07T13:05Z', '2026-03-07T14:05Z']],
    ['hourly at quarter after', '15 * * * *', 'hourly at :15', ['2026-03-07T12:15Z', '2026-03-07T13:15Z', '2026-03-07T14:15Z']],
    ['hourly at quarter til', '45 * * * *', 'hourly at :45', ['2026-03-07T12:45Z', '2026-03-07T13:45Z', '2026-03-07T14:45Z']],
    ['hourly at 23 past', '23 * * * *', 'hourly at :23', ['2026-03-07T12:23Z', '2026-03-07T13:23Z', '2026-03-07T14:23Z']],
    ['hourly at 10 until', '50 * * * *', 'hourly at :50', ['2026-03-07T12:50Z', '2026-03-07T13:50Z', '2026-03-07T14:50Z']],
    ['hourly at half past', '30 * * * *', 'hourly at :30', ['2026-03-07T12:30Z', '2026-03-07T13:30Z', '2026-03-07T14:30Z']],
    // every N hours
    ['every 4 hours from 12:15am', '15 */4 * * *', 'every 4 hours from 00:15', ['2026-03-07T12:15Z', '2026-03-07T16:15Z', '2026-03-07T20:15Z']],
    ['every 2 hours from 1:30', '30 1-23/2 * * *', 'every 2 hours from 01:30', ['2026-03-07T13:30Z', '2026-03-07T15:30Z', '2026-03-07T17:30Z']],
    ['every 6 hours', '0 */6 * * *', 'every 6 hours', ['2026-03-07T18:00Z', '2026-03-08T00:00Z', '2026-03-08T06:00Z']],
    ['every 8 hours from 5am', '0 5-23/8 * * *', 'every 8 hours from 05:00', ['2026-03-07T13:00Z', '2026-03-07T21:00Z', '2026-03-08T05:00Z']],
    ['every 12 hours from 3:30pm', '30 3-23/12 * * *', 'every 12 hours from 03:30', ['2026-03-07T15:30Z', '2026-03-08T03:30Z', '2026-03-08T15:30Z']],
    ['every 4 hours from 5:30', '30 1-23/4 * * *', 'every 4 hours from 01:30', ['2026-03-07T13:30Z', '2026-03-07T17:30Z', '2026-03-07T21:30Z']],
    ['every 120 minutes from 1:15', '15 1-23/2 * * *', 'every 2 hours from 01:15', ['2026-03-07T13:15Z', '2026-03-07T15:15Z', '2026-03-07T17:15Z']],
    // daily
    ['daily 4am', '0 4 * * *', 'daily at 04:00', ['2026-03-08T04:00Z', '2026-03-09T04:00Z', '2026-03-10T04:00Z']],
    ['daily at 4am', '0 4 * * *', 'daily at 04:00', ['2026-03-08T04:00Z', '2026-03-09T04:00Z', '2026-03-10T04:00Z']],
    ['daily at 16:00', '0 16 * * *', 'daily at 16:00', ['2026-03-07T16:00Z', '2026-03-08T16:00Z', '2026-03-09T16:00Z']],
    ['daily at 4:30pm', '30 16 * * *', 'daily at 16:30', ['2026-03-07T16:30Z', '2026-03-08T16:30Z', '2026-03-09T16:30Z']],
    ['daily at 2 pm', '0 14 * * *', 'daily at 14:00', ['2026-03-07T14:00Z', '2026-03-08T14:00Z', '2026-03-09T14:00Z']],
    ['daily at 12am', '0 0 * * *', 'daily at 00:00', ['2026-03-08T00:00Z', '2026-03-09T00:00Z', '2026-03-10T00:00Z']],
    ['daily at 12pm', '0 12 * * *', 'daily at 12:00', ['2026-03-08T12:00Z', '2026-03-09T12:00Z', '2026-03-10T12:00Z']],
    ['daily at 12:30am', '30 0 * * *', 'daily at 00:30', ['2026-03-08T00:30Z', '2026-03-09T00:30Z', '2026-03-10T00:30Z']],
    ['daily at 11:59pm', '59 23 * * *', 'daily at 23:59', ['2026-03-07T23:59Z', '2026-03-08T23:59Z', '2026-03-09T23:59Z']],
    ['every day at 2:30', '30 2 * * *', 'daily at 02:30', ['2026-03-08T02:30Z', '2026-03-09T02:30Z', '2026-03-10T02:30Z']],
    // weekly (7 March 2026 is a Saturday)
    ['weekly at 2:30am on sundays', '30 2 * * 0', 'sundays at 02:30', ['2026-03-08T02:30Z', '2026-03-15T02:30Z', '2026-03-22T02:30Z']],
    ['weekly on sunday at 2:30am', '30 2 * * 0', 'sundays at 02:30', ['2026-03-08T02:30Z', '2026-03-15T02:30Z', '2026-03-22T02:30Z']],
    ['sundays at 2:30am', '30 2 * * 0', 'sundays at 02:30', ['2026-03-08T02:30Z', '2026-03-15T02:30Z', '2026-03-22T02:30Z']],
    ['weekly 5:35pm sat', '35 17 * * 6', 'saturdays at 17:35', ['2026-03-07T17:35Z', '2026-03-14T17:35Z', '2026-03-21T17:35Z']],
    ['thursdays at 23:35', '35 23 * * 4', 'thursdays at 23:35', ['2026-03-12T23:35Z', '2026-03-19T23:35Z', '2026-03-26T23:35Z']],
    ['tues 9am', '0 9 * * 2', 'tuesdays at 09:00', ['2026-03-10T09:00Z', '2026-03-17T09:00Z', '2026-03-24T09:00Z']],
    // monthly, day of month
    ['monthly at 2:05 on 14th', '5 2 14 * *', 'monthly on the 14th at 02:05', ['2026-03-14T02:05Z', '2026-04-14T02:05Z', '2026-05-14T02:05Z']],
    ['monthly on the 14th at 2:05', '5 2 14 * *', 'monthly on the 14th at 02:05', ['2026-03-14T02:05Z', '2026-04-14T02:05Z', '2026-05-14T02:05Z']],
    ['monthly 11:01pm 19st', '1 23 19 * *', 'monthly on the 19th at 23:01', ['2026-03-19T23:01Z', '2026-04-19T23:01Z', '2026-05-19T23:01Z']],
    ['monthly at 3am on 31st', '0 3 31 * *', 'monthly on the 31st at 03:00', ['2026-03-31T03:00Z', '2026-05-31T03:00Z', '2026-07-31T03:00Z']],
    ['monthly on the 1st at 00:00', '0 0 1 * *', 'monthly on the 1st at 00:00', ['2026-04-01T00:00Z', '2026-05-01T00:00Z', '2026-06-01T00:00Z']],
    // monthly, nth weekday
    ['3rd tuesday at 2:05', '5 2 * * 2#3', 'monthly on the 3rd tuesday at 02:05', ['2026-03-17T02:05Z', '2026-04-21T02:05Z', '2026-05-19T02:05Z']],
    ['monthly at 2:05 on 3rd tuesday', '5 2 * * 2#3', 'monthly on the 3rd tuesday at 02:05', ['2026-03-17T02:05Z', '2026-04-21T02:05Z', '2026-05-19T02:05Z']],
    ['2nd tuesday at 23:15', '15 23 * * 2#2', 'monthly on the 2nd tuesday at 23:15', ['2026-03-10T23:15Z', '2026-04-14T23:15Z', '2026-05-12T23:15Z']],
    ['4th fridays 8am', '0 8 * * 5#4', 'monthly on the 4th friday at 08:00', ['2026-03-27T08:00Z', '2026-04-24T08:00Z', '2026-05-22T08:00Z']],
    ['5th tuesday at 2:05', '5 2 * * 2#5', 'monthly on the 5th tuesday at 02:05', ['2026-03-31T02:05Z', '2026-06-30T02:05Z', '2026-09-29T02:05Z']],
    ['monthly on the 1st monday at 6am', '0 6 * * 1#1', 'monthly on the 1st monday at 06:00', ['2026-04-06T06:00Z', '2026-05-04T06:00Z', '2026-06-01T06:00Z']],
    // cron
    ['30 2 * * *', '30 2 * * *', 'cron "30 2 * * *"', ['2026-03-08T02:30Z', '2026-03-09T02:30Z', '2026-03-10T02:30Z']],
    ['0 */4 * * *', '0 */4 * * *', 'cron "0 */4 * * *"', ['2026-03-07T16:00Z', '2026-03-07T20:00Z', '2026-03-08T00:00Z']],
    ['0 4 * * MON', '0 4 * * MON', 'cron "0 4 * * MON"', ['2026-03-09T04:00Z', '2026-03-16T04:00Z', '2026-03-23T04:00Z']],
    ['5 2 * * TUE#3', '5 2 * * TUE#3', 'cron "5 2 * * TUE#3"', ['2026-03-17T02:05Z', '2026-04-21T02:05Z', '2026-05-19T02:05Z']],
    ['0 4 L * *', '0 4 L * *', 'cron "0 4 L * *"', ['2026-03-31T04:00Z', '2026-04-30T04:00Z', '2026-05-31T04:00Z']],
    [' 0   4  *  * * ', '0 4 * * *', 'cron "0 4 * * *"', ['2026-03-08T04:00Z', '2026-03-09T04:00Z', '2026-03-10T04:00Z']],
  ]

  it.each(table)('%j compiles to %j', (when, cron, description, expected) => {
    const compiled = compileSchedule(when)
    expect(compiled).toEqual({
      when: when.trim(),
      kind: description.startsWith('cron') ? 'cron' : 'timespec',
      cron,
      description,
    })
    expect(runs(when, 'UTC', FROM, 3)).toEqual(expected)
  })

  it.each(table.filter(([, , description]) => !description.startsWith('cron')))(
    'the description of %j parses back to the same cron',
    (_when, cron, description) => {
      expect(compileSchedule(description).cron).toBe(cron)
    },
  )
})

describe('compileSchedule: details', () => {
  it('tells cron from timespecs that start with a number', () => {
    expect(compileSchedule('2 tue at 23:15').kind).toBe('timespec')
    expect(compileSchedule('2 tue at 23:15').cron).toBe('15 23 * * 2#2')
    expect(compileSchedule('3rd tuesday at 2:05').kind).toBe('timespec')
    expect(compileSchedule('15 23 * * 2#2').kind).toBe('cron')
  })

  it('trims the input it returns as `when`', () => {
    expect(compileSchedule('  daily at 4am \n').when).toBe('daily at 4am')
  })

  it('accepts extraneous whitespace anywhere, as SHIELD does', () => {
    expect(compileSchedule('     hourly\t\tat\n\n\n  \r\t\r\t16\t\t').cron).toBe('16 * * * *')
    expect(compileSchedule('     daily\t\tat\n\n\n  \r\t\r\t4    pm\t\t').cron).toBe('0 16 * * *')
    expect(compileSchedule('every         hour 45').cron).toBe('45 * * * *')
  })

  it.each([
    ['DAILY AT 4AM', 'daily at 4am'],
    ['Weekly At 2:30AM On SUNDAYS', 'weekly at 2:30am on sundays'],
    ['Every HOUR at H:30', 'every hour at h:30'],
    ['hoUrly At X:30', 'hourly at x:30'],
    ['3RD TUESDAY AT 2:05', '3rd tuesday at 2:05'],
    ['Monthly On The 14TH At 2:05', 'monthly on the 14th at 2:05'],
    ['Every 4 Hours From 12:15AM', 'every 4 hours from 12:15am'],
    ['MINUTELY', 'minutely'],
    ['Thursdays At 11:35 Pm', 'thursdays at 11:35 pm'],
    ['EVERY HALF HOUR FROM 0:10', 'every half hour from 0:10'],
  ])('is case-insensitive: %j equals %j', (upper, lower) => {
    const compiled = compileSchedule(upper)
    expect(compiled.cron).toBe(compileSchedule(lower).cron)
    expect(compiled.when).toBe(upper)
  })

  // prettier-ignore
  const weekdays: [string, number][] = [
    ['sun', 0], ['sunday', 0], ['sundays', 0],
    ['mon', 1], ['monday', 1], ['mondays', 1],
    ['tue', 2], ['tues', 2], ['tuesday', 2], ['tuesdays', 2],
    ['wed', 3], ['wednesday', 3], ['wednesdays', 3],
    ['thu', 4], ['thur', 4], ['thurs', 4], ['thursday', 4], ['thursdays', 4],
    ['fri', 5], ['friday', 5], ['fridays', 5],
    ['sat', 6], ['saturday', 6], ['saturdays', 6],
  ]

  it.each(weekdays)('reads the day name %j as weekday %i', (day, number) => {
    expect(compileSchedule(`${day} at 5:35pm`).cron).toBe(`35 17 * * ${number}`)
    expect(compileSchedule(`weekly at 5:35pm on ${day}`).cron).toBe(`35 17 * * ${number}`)
  })

  it('accepts any ordinal suffix, as SHIELD does', () => {
    for (const nth of ['2st', '2nd', '2rd', '2th', '2']) {
      expect(compileSchedule(`${nth} tuesday at 23:15`).cron).toBe('15 23 * * 2#2')
    }
  })

  it('maps 12am to midnight and 12pm to noon', () => {
    expect(compileSchedule('daily at 12:45am').cron).toBe('45 0 * * *')
    expect(compileSchedule('daily at 12:45pm').cron).toBe('45 12 * * *')
    expect(compileSchedule('daily at 1am').cron).toBe('0 1 * * *')
    expect(compileSchedule('daily at 1pm').cron).toBe('0 13 * * *')
  })

  it('exports examples that all compile', () => {
    expect(TIMESPEC_EXAMPLES.length).toBeGreaterThanOrEqual(5)
    expect(Object.isFrozen(TIMESPEC_EXAMPLES)).toBe(true)
    for (const example of TIMESPEC_EXAMPLES) expect(() => compileSchedule(example)).not.toThrow()
    expect(TIMESPEC_EXAMPLES.map((e) => compileSchedule(e).kind)).toContain('cron')
  })
})

describe('compileSchedule: invalid input', () => {
  // [input, fragments the message must contain, the error's `example`]
  // prettier-ignore
  const invalid: [string, string[], string][] = [
    ['', ['empty schedule', 'try "daily at 4am"'], 'daily at 4am'],
    ['   \t ', ['empty schedule'], 'daily at 4am'],
    ['dayly 4am', ['unrecognised schedule "dayly 4am"', 'unknown word "dayly"', 'did you mean "daily"', 'try "daily at 4am", "weekly at 2:30am on sundays", "every 4 hours from 12:15am" or a cron expression like "30 2 * * *"'], 'daily at 4am'],
    ['daily at 25:00', ['"daily at 25:00"', 'hour 25 is out of range', 'try "daily at 4am"'], 'daily at 4am'],
    ['daily at 4:60', ['minute 60 is out of range', 'try "daily at 4am"'], 'daily at 4am'],
    ['daily at 4:5', ['minutes must have two digits, not "5"'], 'daily at 4am'],
    ['daily at 13pm', ['"13pm" is not a 12-hour time'], 'daily at 4am'],
    ['daily at 14:30am', ['"14:30am" is not a 12-hour time'], 'daily at 4am'],
    ['daily at 0am', ['"0am" is not a 12-hour time'], 'daily at 4am'],
    ['daily at 4', ['after "4" (expected am, pm or :minutes)'], 'daily at 4am'],
    ['daily', ['unexpected end of schedule', 'expected a time like 4am'], 'daily at 4am'],
    ['hourly at 60', ['minute 60 is out of range', 'try "hourly at :15"'], 'hourly at :15'],
    ['hourly at 4:30', ['"4:..." is a time of day', 'like ":30"'], 'hourly at :15'],
    ['hourly at 0 til', ['"0 until" is not a minute of the hour'], 'hourly at :15'],
    ['every 7 hours', ['every 7 hours does not divide evenly into a day', '1, 2, 3, 4, 6, 8 or 12 hours', 'try "every 4 hours from 12:15am"'], 'every 4 hours from 12:15am'],
    ['every 24 hours from 4am', ['every 24 hours does not divide evenly into a day', '"daily at 4am"'], 'every 4 hours from 12:15am'],
    ['every 0 hours', ['an interval of 0 hours never runs'], 'every 4 hours from 12:15am'],
    ['every 7 minutes', ['every 7 minutes does not divide evenly into an hour', 'try "every 15 minutes"'], 'every 15 minutes'],
    ['every 90 minutes', ['every 90 minutes does not divide evenly into an hour'], 'every 15 minutes'],
    ['every 2 days', ['intervals of several days are not supported', 'try "daily at 4am"'], 'daily at 4am'],
    ['every 30 seconds', ['unknown word "seconds"', 'at most once a minute', 'try "every minute"'], 'every minute'],
    ['monthly on the 32nd at 2am', ['day 32 is out of range (days of the month run 1-31)', 'try "monthly at 2:05 on 14th"'], 'monthly at 2:05 on 14th'],
    ['monthly at 2:05 on 0th', ['day 0 is out of range'], 'monthly at 2:05 on 14th'],
    ['6th tuesday at 2am', ['no "6th" weekday in a month (use 1st to 5th)'], 'monthly at 2:05 on 14th'],
    ['weekly at 2am', ['"weekly at 2am"', 'expected a day of the week', 'try "weekly at 2:30am on sundays"'], 'weekly at 2:30am on sundays'],
    ['weekly on funday at 2am', ['unknown word "funday"', 'did you mean "sunday"'], 'daily at 4am'],
    ['daily at 4am please', ['unknown word "please"'], 'daily at 4am'],
    ['daily at 4am on sunday', ['unexpected "on" at the end'], 'daily at 4am'],
    ['last friday at 1am', ['unknown word "last"', 'try "0 1 * * 5L"'], '0 1 * * 5L'],
    ['noon', ['unknown word "noon"', 'write 12pm'], 'daily at 12pm'],
    ['30', ['unexpected "30" at the start', 'try "daily at 4am"'], 'daily at 4am'],
    ['4am daily', ['unexpected "4" at the start'], 'daily at 4am'],
    ['daily @ 4am', ['unexpected character "@"'], 'daily at 4am'],
    ['@daily', ['unexpected character "@"', 'a cron expression like "30 2 * * *"'], 'daily at 4am'],
    ['0 0 4 * * *', ['"0 0 4 * * *"', 'has 6 fields', 'exactly 5 (minute hour day-of-month month day-of-week)', 'seconds and years are not supported', 'try "0 4 * * *"'], '0 4 * * *'],
    ['0 0 4 * * * 2027', ['has 7 fields', 'try "0 4 * * *"'], '0 4 * * *'],
    ['0 4 * *', ['invalid cron expression "0 4 * *"', 'has 4 fields', 'try "30 2 * * *"'], '30 2 * * *'],
    ['*', ['has 1 field,'], '30 2 * * *'],
    ['61 * * * *', ['invalid cron expression "61 * * * *"', 'minute: 61', 'try "30 2 * * *"'], '30 2 * * *'],
    ['0 25 * * *', ['hour: 25'], '30 2 * * *'],
    ['0 0 31 2 *', ['"0 0 31 2 *"', 'never matches a real date'], '30 2 * * *'],
  ]

  it.each(invalid)('rejects %j', (when, fragments, example) => {
    const error = compileError(when)
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('TimespecError')
    for (const fragment of fragments) expect(error.message).toContain(fragment)
    expect(error.message).toContain(`try "${example}"`)
    expect(error.example).toBe(example)
  })

  it('suggests examples that are themselves valid', () => {
    for (const [when] of invalid) {
      const { example } = compileError(when)
      expect(() => compileSchedule(example), example).not.toThrow()
    }
  })
})

describe('nextRuns', () => {
  it('returns runs strictly after `from`', () => {
    expect(runs('daily at 12pm', 'UTC', new Date('2026-03-07T12:00:00.000Z'), 1)).toEqual([
      '2026-03-08T12:00Z',
    ])
    expect(runs('daily at 12pm', 'UTC', new Date('2026-03-07T11:59:59.999Z'), 1)).toEqual([
      '2026-03-07T12:00Z',
    ])
    expect(runs('daily at 12pm', 'UTC', new Date('2026-03-07T12:00:00.001Z'), 1)).toEqual([
      '2026-03-08T12:00Z',
    ])
  })

  it('returns exactly `count` runs, and none for 0', () => {
    expect(nextRuns('every minute', 'UTC', FROM, 10)).toHaveLength(10)
    expect(nextRuns('every minute', 'UTC', FROM, 0)).toEqual([])
  })

  it('does not change `from`', () => {
    const from = new Date(FROM)
    nextRuns('daily at 4am', 'UTC', from, 3)
    expect(from.toISOString()).toBe('2026-03-07T12:00:00.000Z')
  })

  it('rejects an invalid schedule, timezone, date or count', () => {
    expect(() => nextRuns('dayly 4am', 'UTC', FROM, 1)).toThrow(TimespecError)
    expect(() => nextRuns('daily at 4am', 'Mars/Olympus_Mons', FROM, 1)).toThrow(
      /unknown timezone "Mars\/Olympus_Mons".*try "UTC"/,
    )
    expect(() => nextRuns('daily at 4am', 'Mars/Olympus_Mons', FROM, 1)).toThrow(TimespecError)
    expect(() => nextRuns('daily at 4am', 'UTC', new Date('nonsense'), 1)).toThrow(RangeError)
    expect(() => nextRuns('daily at 4am', 'UTC', FROM, -1)).toThrow(RangeError)
    expect(() => nextRuns('daily at 4am', 'UTC', FROM, 1.5)).toThrow(RangeError)
  })
})

describe('nextRuns: timezones', () => {
  it('runs "daily at 4am" at 4am New York time across the DST switch', () => {
    expect(runs('daily at 4am', 'America/New_York', FROM, 2)).toEqual([
      '2026-03-08T08:00Z', // 4am EDT, DST started at 2am that morning
      '2026-03-09T08:00Z',
    ])
    expect(runs('daily at 4am', 'America/New_York', new Date('2026-03-06T12:00:00Z'), 2)).toEqual([
      '2026-03-07T09:00Z', // 4am EST (UTC-5)
      '2026-03-08T08:00Z', // 4am EDT (UTC-4)
    ])
  })

  it('runs a time that falls in the spring-forward gap at the end of the gap', () => {
    expect(runs('daily at 2:30am', 'America/New_York', FROM, 2)).toEqual([
      '2026-03-08T07:00Z', // 2:30am does not exist; runs at 3:00am EDT
      '2026-03-09T06:30Z',
    ])
  })

  it('runs a time that happens twice in the autumn only once', () => {
    const from = new Date('2026-10-31T12:00:00Z')
    expect(runs('daily at 1:30am', 'America/New_York', from, 2)).toEqual([
      '2026-11-01T05:30Z', // 1:30am EDT; not again at 1:30am EST
      '2026-11-02T06:30Z',
    ])
  })

  it('keeps intervals on the wall clock through DST changes', () => {
    const fallBack = new Date('2026-11-01T05:00:00Z')
    expect(runs('every 30 minutes', 'America/New_York', fallBack, 3)).toEqual([
      '2026-11-01T05:30Z', // 1:30 EDT
      '2026-11-01T06:00Z', // 1:00 EST
      '2026-11-01T06:30Z', // 1:30 EST
    ])
    const springForward = new Date('2026-03-08T00:00:00Z')
    expect(runs('every 4 hours from 12:15am', 'America/New_York', springForward, 4)).toEqual([
      '2026-03-08T01:15Z', // 20:15 EST on the 7th
      '2026-03-08T05:15Z', // 00:15 EST
      '2026-03-08T08:15Z', // 04:15 EDT, three real hours later
      '2026-03-08T12:15Z', // 08:15 EDT
    ])
  })

  it('handles other zones and offsets', () => {
    expect(runs('daily at 4am', 'Asia/Kolkata', FROM, 2)).toEqual([
      '2026-03-07T22:30Z',
      '2026-03-08T22:30Z',
    ])
    expect(runs('sundays at 1:30am', 'Europe/London', new Date('2026-03-27T12:00Z'), 2)).toEqual([
      '2026-03-29T01:00Z', // BST starts at 1am: 1:30am does not exist, runs at 2:00am BST
      '2026-04-05T00:30Z',
    ])
    expect(runs('monthly on the 1st at 00:00', 'Australia/Sydney', FROM, 2)).toEqual([
      '2026-03-31T13:00Z', // AEDT (UTC+11)
      '2026-04-30T14:00Z', // AEST (UTC+10) after DST ends on 5 April
    ])
    expect(runs('30 2 * * *', 'America/Los_Angeles', FROM, 2)).toEqual([
      '2026-03-08T10:00Z', // cron too: 2:30am PST is in the gap, runs at 3:00am PDT
      '2026-03-09T09:30Z', // 2:30am PDT
    ])
  })
})

describe('timezone helpers', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it.each([
    ['UTC', true],
    ['America/New_York', true],
    ['Europe/London', true],
    ['Asia/Kolkata', true],
    ['Mars/Olympus_Mons', false],
    ['', false],
    ['   ', false],
    ['New York', false],
  ])('isValidTimezone(%j) is %s', (tz, valid) => {
    expect(isValidTimezone(tz)).toBe(valid)
  })

  /** Make `Intl.DateTimeFormat()` report `hostZone`; calls with options still work for real. */
  function fakeHostZone(hostZone: string | undefined): void {
    const Real = Intl.DateTimeFormat
    const fake = { resolvedOptions: () => ({ timeZone: hostZone }) }
    vi.spyOn(Intl, 'DateTimeFormat').mockImplementation(function (
      locales?: Intl.LocalesArgument,
      options?: Intl.DateTimeFormatOptions,
    ) {
      return options ? new Real(locales, options) : (fake as unknown as Intl.DateTimeFormat)
    })
  }

  it('defaultTimezone returns the host zone', () => {
    expect(isValidTimezone(defaultTimezone())).toBe(true)
    fakeHostZone('Pacific/Chatham')
    expect(defaultTimezone()).toBe('Pacific/Chatham')
  })

  it('defaultTimezone falls back to UTC when the host zone is missing or unknown', () => {
    fakeHostZone(undefined)
    expect(defaultTimezone()).toBe('UTC')
    fakeHostZone('Not/AZone')
    expect(defaultTimezone()).toBe('UTC')
  })

  it('defaultTimezone falls back to UTC when Intl throws', () => {
    vi.spyOn(Intl, 'DateTimeFormat').mockImplementation(() => {
      throw new RangeError('no ICU data')
    })
    expect(defaultTimezone()).toBe('UTC')
  })
})

describe('TimespecError', () => {
  it('is an Error with a name, a message and an example', () => {
    const error = new TimespecError('bad schedule', 'daily at 4am')
    expect(error).toBeInstanceOf(Error)
    expect(error).toBeInstanceOf(TimespecError)
    expect(error.name).toBe('TimespecError')
    expect(error.message).toBe('bad schedule')
    expect(error.example).toBe('daily at 4am')
  })
})
