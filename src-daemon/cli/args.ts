// Command-line tokens → positionals and flags. Flags may appear anywhere
// (`bulwark --json list targets`, `bulwark list targets --json`), as
// `--flag value` or `--flag=value`; `--` ends flag parsing. Whether a flag
// takes a value is known from the specs, so `--name db list` is never misread.
// A flag's type (a whole number, a duration, a day, one of a set) is declared
// in its spec; the value is checked when the command reads it, so a command's
// errors come in the order its own checks run.
import { UsageError, didYouMean } from './errors'
import { parseDay, parseDuration, parseInteger } from './format'

export interface FlagSpec {
  name: string
  /** Placeholder for the value (`NAME`); absent for boolean flags. */
  value?: string
  /** May be given more than once (`--set a=1 --set b=2`). */
  multi?: boolean
  required?: boolean
  /** Other spellings accepted for this flag, without dashes. */
  aliases?: string[]
  help: string
  /** What the value is: read with Flags.int, .duration, .day (as text otherwise). */
  type?: 'int' | 'duration' | 'day'
  /** Bounds of an int. */
  min?: number
  max?: number
  /** The values a text flag may take: read with Flags.choice. */
  choices?: readonly string[]
}

export interface RawFlag {
  name: string
  value?: string
  /** The token as typed, for messages. */
  token: string
  /** A value flag at the end of the line or followed by another flag. */
  missingValue?: boolean
}

export interface Tokens {
  positionals: string[]
  flags: RawFlag[]
}

export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'json', help: "print the API's JSON instead of tables (for scripts)" },
  {
    name: 'data-dir',
    value: 'DIR',
    help: 'data directory of the daemon to talk to (default: $BULWARK_HOME or the platform data dir)',
  },
  { name: 'url', value: 'URL', help: 'daemon URL, instead of DIR/daemon.json (env: BULWARK_URL)' },
  {
    name: 'token',
    value: 'TOKEN',
    help: 'API token, instead of DIR/token; visible to other users in ps, prefer BULWARK_TOKEN',
  },
  { name: 'help', aliases: ['h'], help: 'show help for the command' },
  { name: 'version', help: 'print the version of bulwark' },
]

export function tokenize(argv: readonly string[], takesValue: (name: string) => boolean): Tokens {
  const positionals: string[] = []
  const flags: RawFlag[] = []
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] ?? ''
    if (token === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    const long = token.startsWith('--') && token.length > 2
    const short = !long && /^-[a-zA-Z]/.test(token)
    if (!long && !short) {
      positionals.push(token)
      continue
    }
    const body = token.slice(long ? 2 : 1)
    const eq = body.indexOf('=')
    const name = eq >= 0 ? body.slice(0, eq) : body
    if (eq >= 0) {
      flags.push({ name, value: body.slice(eq + 1), token })
    } else if (takesValue(name)) {
      const next = argv[i + 1]
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        flags.push({ name, token, missingValue: true })
      } else {
        flags.push({ name, value: next, token })
        i++
      }
    } else {
      flags.push({ name, token })
    }
  }
  return { positionals, flags }
}

/** Parsed flag values for one command, by canonical name. */
export class Flags {
  private readonly values = new Map<string, string[]>()
  private readonly present = new Set<string>()

  /** `specs`: the command's flags, for the typed readers; `command` names it in messages. */
  constructor(
    private readonly specs: readonly FlagSpec[] = [],
    private readonly command = '',
  ) {}

  set(name: string, value: string | undefined): void {
    this.present.add(name)
    if (value === undefined) return
    const list = this.values.get(name) ?? []
    list.push(value)
    this.values.set(name, list)
  }

  has(name: string): boolean {
    return this.present.has(name)
  }

  /** The last value given for a value flag. */
  str(name: string): string | undefined {
    const list = this.values.get(name)
    return list?.[list.length - 1]
  }

  all(name: string): string[] {
    return this.values.get(name) ?? []
  }

  private spec(name: string): FlagSpec {
    const spec = this.specs.find((s) => s.name === name)
    if (!spec) throw new Error(`no flag --${name} in the specs of "${this.command}"`)
    return spec
  }

  /** A whole number within the spec's min and max. */
  int(name: string): number | undefined {
    const { min, max } = this.spec(name)
    const text = this.str(name)
    return text === undefined ? undefined : parseInteger(text, `--${name}`, min, max)
  }

  /** Seconds, from "90m", "12h", "7d" or a number. */
  duration(name: string): number | undefined {
    this.spec(name)
    const text = this.str(name)
    return text === undefined ? undefined : parseDuration(text, `--${name}`)
  }

  /** YYYYMMDD. */
  day(name: string): string | undefined {
    this.spec(name)
    const text = this.str(name)
    return text === undefined ? undefined : parseDay(text, `--${name}`)
  }

  /** One of the spec's choices. */
  choice<T extends string>(name: string): T | undefined {
    const choices = this.spec(name).choices ?? []
    const text = this.str(name)
    if (text === undefined || choices.includes(text)) return text as T | undefined
    throw new UsageError(
      `--${name} must be one of ${choices.join(', ')} (got "${text}")`,
      this.command,
    )
  }
}

function lookup(specs: readonly FlagSpec[], name: string): FlagSpec | undefined {
  return specs.find((s) => s.name === name || s.aliases?.includes(name))
}

/**
 * Checks raw flags against a command's specs (plus the globals) and returns
 * the command's values. `command` names the command in messages ("create target").
 */
export function bindFlags(
  raw: readonly RawFlag[],
  specs: readonly FlagSpec[],
  command: string,
): Flags {
  const flags = new Flags(specs, command)
  const all = [...specs, ...GLOBAL_FLAGS]
  for (const f of raw) {
    const spec = lookup(all, f.name)
    if (!spec) {
      const names = all.flatMap((s) => [s.name, ...(s.aliases ?? []).filter((a) => a.length > 1)])
      const where = command ? ` for "${command}"` : ''
      throw new UsageError(
        `unknown flag ${f.token.split('=')[0]}${where}${didYouMean(f.name, names, '--')}`,
        command,
      )
    }
    if (spec.value === undefined && f.value !== undefined) {
      throw new UsageError(`--${spec.name} takes no value (got "${f.value}")`, command)
    }
    if (spec.value !== undefined && (f.missingValue || f.value === undefined)) {
      throw new UsageError(
        `--${spec.name} needs a value: --${spec.name} ${spec.value}` +
          ` (a value starting with "--" must be written --${spec.name}=VALUE)`,
        command,
      )
    }
    flags.set(spec.name, f.value)
  }
  for (const spec of specs) {
    if (spec.required && !flags.has(spec.name)) {
      throw new UsageError(
        `missing --${spec.name} ${spec.value ?? ''} for "${command}"`.trim(),
        command,
      )
    }
  }
  return flags
}

/** The value-taking flag names over every spec, for tokenize(). */
export function valueFlagNames(specs: Iterable<readonly FlagSpec[]>): Set<string> {
  const names = new Set<string>()
  for (const list of [GLOBAL_FLAGS, ...specs]) {
    for (const s of list) {
      if (s.value === undefined) continue
      names.add(s.name)
      for (const a of s.aliases ?? []) names.add(a)
    }
  }
  return names
}

/** Rejects two flags that exclude each other, returns which one was given. */
export function oneOf(flags: Flags, a: string, b: string, command: string): string | undefined {
  if (flags.has(a) && flags.has(b)) {
    throw new UsageError(`--${a} and --${b} cannot be used together`, command)
  }
  return flags.has(a) ? a : flags.has(b) ? b : undefined
}
