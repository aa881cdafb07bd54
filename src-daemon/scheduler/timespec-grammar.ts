// Recursive-descent parser for the timespec schedule language (after SHIELD's
// timespec grammar). Turns the tokens of text such as "daily at 4am" (from
// timespec-lexicon.ts) into a small Spec value; timespec.ts compiles Specs to cron patterns.
// Kept whole past ~300 lines: one recursive-descent parser, its rules read top to bottom.
import {
  lexTimespec,
  SpecProblem,
  weekdayNumber,
  type Token,
  type TokenKind,
} from './timespec-lexicon.js'

/** A parsed schedule. Times are minutes since midnight; weekdays are 0 (sunday) to 6. */
export type Spec =
  | { type: 'minutes'; every: number; offset: number } // every divides 60, offset < every
  | { type: 'hours'; every: number; offset: number } // every divides 24, offset < every * 60
  | { type: 'daily'; time: number }
  | { type: 'weekly'; weekday: number; time: number }
  | { type: 'monthly-day'; day: number; time: number }
  | { type: 'monthly-nth'; nth: number; weekday: number; time: number }

type MonthlySpec = Extract<Spec, { type: 'monthly-day' | 'monthly-nth' }>

const EX_DAILY = ['daily at 4am', 'daily at 16:00']
const EX_HOURLY = ['hourly at :15', 'hourly at 15']
const EX_WEEKLY = ['weekly at 2:30am on sundays', 'sundays at 2:30am']
const EX_MONTHLY = ['monthly at 2:05 on 14th', 'monthly on the 3rd tuesday at 2:05']
const EX_DAYS = ['daily at 4am', 'sundays at 2:30am', 'monthly at 2:05 on 14th']
const EX_EVERY = ['every 4 hours from 12:15am', 'every 30 minutes', 'every day at 4am']

// ---------------------------------------------------------------- parser

/** Parse a timespec. Throws SpecProblem. */
export function parseTimespec(input: string): Spec {
  const tokens = lexTimespec(input)
  if (tokens.length === 0) throw new SpecProblem('unrecognised', 'the schedule is empty')
  return new Parser(tokens).parse()
}

class Parser {
  private pos = 0

  constructor(private readonly tokens: readonly Token[]) {}

  parse(): Spec {
    const spec = this.spec()
    const extra = this.peek()
    if (extra) this.unexpected(extra, 'at the end', [])
    return spec
  }

  private spec(): Spec {
    const [first, second] = [this.peek(), this.peek(1)]
    const numeric = first?.kind === 'ordinal' || first?.kind === 'number'
    if (numeric && second && weekdayNumber(second.word) !== undefined) return this.nthWeekday()
    if (first && weekdayNumber(first.word) !== undefined) return this.weekdayAt()
    const word = this.next()?.word
    if (word === 'minutely') return { type: 'minutes', every: 1, offset: 0 }
    if (word === 'hourly') return this.hourlyTail()
    if (word === 'daily') return this.dailyTail()
    if (word === 'weekly') return this.weeklyTail()
    if (word === 'monthly') return this.monthlyTail()
    if (word === 'every') return this.everyTail()
    return this.unexpected(first, 'at the start', [])
  }

  // hourly [at] <minute>   (no minute means :00)
  private hourlyTail(): Spec {
    if (!this.peek()) return { type: 'hours', every: 1, offset: 0 }
    this.accept('at')
    return { type: 'hours', every: 1, offset: this.minuteOfHour(EX_HOURLY) }
  }

  private dailyTail(): Spec {
    this.accept('at')
    return { type: 'daily', time: this.timeOfDay(EX_DAILY) }
  }

  // weekly [at] <time> [on] <day>  |  weekly [on] <day> [at] <time>
  private weeklyTail(): Spec {
    const next = this.peek()
    if (next?.word === 'on' || (next && weekdayNumber(next.word) !== undefined)) {
      this.accept('on')
      const weekday = this.weekday(EX_WEEKLY)
      this.accept('at')
      return { type: 'weekly', weekday, time: this.timeOfDay(EX_WEEKLY) }
    }
    this.accept('at')
    const time = this.timeOfDay(EX_WEEKLY)
    this.accept('on')
    return { type: 'weekly', weekday: this.weekday(EX_WEEKLY), time }
  }

  // <day> [at] <time>
  private weekdayAt(): Spec {
    const weekday = this.weekday(EX_WEEKLY)
    this.accept('at')
    return { type: 'weekly', weekday, time: this.timeOfDay(EX_WEEKLY) }
  }

  // <nth> <day> [at] <time>
  private nthWeekday(): Spec {
    const nth = this.nth()
    const weekday = this.weekday(EX_MONTHLY)
    this.accept('at')
    return { type: 'monthly-nth', nth, weekday, time: this.timeOfDay(EX_MONTHLY) }
  }

  // monthly [at] <time> [on] <target>  |  monthly [on] <target> [at] <time>
  private monthlyTail(): Spec {
    if (this.peek()?.word === 'at' || this.startsTimeOfDay()) {
      this.accept('at')
      const time = this.timeOfDay(EX_MONTHLY)
      this.accept('on')
      return this.monthlyTarget(time)
    }
    this.accept('on')
    const target = this.monthlyTarget(0)
    this.accept('at')
    return { ...target, time: this.timeOfDay(EX_MONTHLY) }
  }

  // [the] <nth> <day>  |  [the] <day-of-month>
  private monthlyTarget(time: number): MonthlySpec {
    this.accept('the')
    const after = this.peek(1)
    if (after && weekdayNumber(after.word) !== undefined) {
      const nth = this.nth()
      return { type: 'monthly-nth', nth, weekday: this.weekday(EX_MONTHLY), time }
    }
    const token = this.number(['ordinal', 'number'], 'a day of the month like 14th', EX_MONTHLY)
    if (token.value < 1 || token.value > 31) {
      this.invalid(`day ${token.value} is out of range (days of the month run 1-31)`, EX_MONTHLY)
    }
    return { type: 'monthly-day', day: token.value, time }
  }

  private everyTail(): Spec {
    const token = this.next()
    if (token?.word === 'minute') return { type: 'minutes', every: 1, offset: 0 }
    if (token?.word === 'day') return this.dailyTail()
    if (token?.word === 'hour') return this.hourlyTail()
    if (token?.word === 'half' || token?.word === 'quarter') {
      this.expectWord('hour', `"hour" after "${token.text}"`, EX_EVERY)
      return this.interval(token.word === 'half' ? 30 : 15, 'minute')
    }
    if (token?.kind === 'number') {
      const unit = this.next()
      if (unit?.word === 'minute' || unit?.word === 'hour') {
        return this.interval(token.value, unit.word)
      }
      if (unit?.word === 'day') {
        this.invalid('intervals of several days are not supported', EX_DAYS)
      }
      const where = `after "every ${token.text}" (expected minutes or hours)`
      return this.unexpected(unit, where, EX_EVERY)
    }
    return this.unexpected(token, 'after "every"', EX_EVERY)
  }

  // every <n> minutes|hours [from <time>]
  private interval(count: number, unit: 'minute' | 'hour'): Spec {
    let anchor = 0
    if (this.accept('from')) {
      anchor =
        unit === 'hour' || this.startsTimeOfDay()
          ? this.timeOfDay(EX_EVERY)
          : this.minuteOfHour(EX_EVERY)
    }
    const minutes = unit === 'hour' ? count * 60 : count
    if (count < 1) this.invalid(`an interval of ${count} ${unit}s never runs`, EX_EVERY)
    if (minutes % 60 === 0) return this.hourInterval(minutes / 60, anchor)
    if (60 % minutes !== 0) {
      this.invalid(
        `every ${count} minutes does not divide evenly into an hour (use 1, 2, 3, 4, 5, 6, 10, 12, 15, 20 or 30 minutes)`,
        ['every 15 minutes', 'every 20 minutes from 0:05'],
      )
    }
    return { type: 'minutes', every: minutes, offset: anchor % minutes }
  }

  private hourInterval(hours: number, anchor: number): Spec {
    if (24 % hours !== 0 || hours > 12) {
      this.invalid(
        `every ${hours} hours does not divide evenly into a day (use 1, 2, 3, 4, 6, 8 or 12 hours, or "daily at ...")`,
        ['every 4 hours from 12:15am', 'every 6 hours', 'daily at 4am'],
      )
    }
    return { type: 'hours', every: hours, offset: anchor % (hours * 60) }
  }

  // ---------------------------------------------------------------- pieces

  // [h|x|*]:<mm>  |  <mm>  |  <mm|quarter|half> past|after|til|until
  private minuteOfHour(examples: readonly string[]): number {
    const token = this.peek()
    const any = token?.kind === 'star' || token?.word === 'h' || token?.word === 'x'
    if (any && this.peek(1)?.kind === 'colon') this.next()
    if (this.accept('colon')) return this.minutes(examples)
    if (token?.word === 'quarter' || token?.word === 'half') {
      this.next()
      return this.pastOrTil(token.word === 'half' ? 30 : 15, token.text, examples)
    }
    if (token?.kind === 'number' && this.peek(1)?.kind === 'colon') {
      this.invalid(
        `"${token.text}:..." is a time of day; give only the minute, like ":30"`,
        examples,
      )
    }
    const n = this.number(['number'], 'a minute like :15', examples)
    const minute = this.peek() ? this.pastOrTil(n.value, n.text, examples, true) : n.value
    if (minute > 59) this.invalid(`minute ${minute} is out of range (minutes run 0-59)`, examples)
    return minute
  }

  private pastOrTil(
    n: number,
    text: string,
    examples: readonly string[],
    optional = false,
  ): number {
    if (this.accept('after')) return n
    if (this.accept('until')) {
      if (n < 1 || n > 60) this.invalid(`"${text} until" is not a minute of the hour`, examples)
      return (60 - n) % 60
    }
    if (!optional) {
      this.unexpected(this.peek(), `after "${text}" (expected past or until)`, examples)
    }
    return n
  }

  private startsTimeOfDay(): boolean {
    const [first, second] = [this.peek(), this.peek(1)]
    if (first?.kind !== 'number') return false
    return second?.kind === 'colon' || second?.word === 'am' || second?.word === 'pm'
  }

  // <hh>:<mm> [am|pm]  |  <hh> am|pm
  private timeOfDay(examples: readonly string[]): number {
    const hour = this.number(['number'], 'a time like 4am or 16:00', examples)
    const minute = this.accept('colon') ? this.minutes(examples) : undefined
    const meridiem = this.peek()?.word
    if (meridiem === 'am' || meridiem === 'pm') {
      this.next()
      return this.twelveHour(hour, minute, meridiem, examples)
    }
    if (minute === undefined) {
      this.unexpected(this.peek(), `after "${hour.text}" (expected am, pm or :minutes)`, examples)
    }
    if (hour.value > 23) {
      this.invalid(`hour ${hour.text} is out of range (hours run 0-23)`, examples)
    }
    return hour.value * 60 + minute
  }

  private twelveHour(
    hour: Token,
    minute: number | undefined,
    meridiem: 'am' | 'pm',
    examples: readonly string[],
  ): number {
    if (hour.value < 1 || hour.value > 12) {
      const written = `${hour.text}${minute === undefined ? '' : `:${pad2(minute)}`}${meridiem}`
      this.invalid(`"${written}" is not a 12-hour time (use 1-12 with am/pm, or 0-23)`, examples)
    }
    const h = (hour.value % 12) + (meridiem === 'pm' ? 12 : 0) // 12am is 00:00, 12pm is 12:00
    return h * 60 + (minute ?? 0)
  }

  private minutes(examples: readonly string[]): number {
    const token = this.number(['number'], 'two-digit minutes', examples)
    if (token.text.length !== 2) {
      this.invalid(`minutes must have two digits, not "${token.text}"`, examples)
    }
    if (token.value > 59) {
      this.invalid(`minute ${token.text} is out of range (minutes run 0-59)`, examples)
    }
    return token.value
  }

  private nth(): number {
    const token = this.number(['ordinal', 'number'], 'an ordinal like 3rd', EX_MONTHLY)
    if (token.value < 1 || token.value > 5) {
      this.invalid(`there is no "${token.text}" weekday in a month (use 1st to 5th)`, EX_MONTHLY)
    }
    return token.value
  }

  private weekday(examples: readonly string[]): number {
    const token = this.next()
    const day = token ? weekdayNumber(token.word) : undefined
    return day ?? this.unexpected(token, '(expected a day of the week like sunday)', examples)
  }

  // ---------------------------------------------------------------- token helpers

  private peek(ahead = 0): Token | undefined {
    return this.tokens[this.pos + ahead]
  }

  private next(): Token | undefined {
    const token = this.peek()
    if (token) this.pos++
    return token
  }

  private accept(wordOrKind: string): boolean {
    const token = this.peek()
    const hit = token && (token.word === wordOrKind || token.kind === wordOrKind)
    if (hit) this.pos++
    return Boolean(hit)
  }

  private expectWord(word: string, what: string, examples: readonly string[]): void {
    if (!this.accept(word)) this.unexpected(this.peek(), `(expected ${what})`, examples)
  }

  private number(kinds: TokenKind[], what: string, examples: readonly string[]): Token {
    const token = this.next()
    if (token && kinds.includes(token.kind)) return token
    return this.unexpected(token, `(expected ${what})`, examples)
  }

  private unexpected(token: Token | undefined, where: string, examples: readonly string[]): never {
    const found = token ? `unexpected "${token.text}"` : 'unexpected end of schedule'
    throw new SpecProblem('unrecognised', `${found} ${where}`, examples)
  }

  private invalid(problem: string, examples: readonly string[]): never {
    throw new SpecProblem('invalid', problem, examples)
  }
}

function pad2(n: number): string {
  return String(n).padStart(2, '0')
}
