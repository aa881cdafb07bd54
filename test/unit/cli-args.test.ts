// The CLI's command-line parsing: tokens, flags, command matching, help text.
import { describe, expect, it } from 'vitest'
import { bindFlags, tokenize, valueFlagNames } from '../../src-daemon/cli/args'
import { COMMANDS } from '../../src-daemon/cli/commands'
import { checkArgs, matchCommand } from '../../src-daemon/cli/dispatch'
import { UsageError, closest } from '../../src-daemon/cli/errors'
import { commandHelp, generalHelp, usageLine } from '../../src-daemon/cli/help'

const VALUE = valueFlagNames(COMMANDS.map((c) => c.flags ?? []))
const tok = (argv: string[]) => tokenize(argv, (n) => VALUE.has(n))

function parse(argv: string[]) {
  const t = tok(argv)
  const { command, args } = matchCommand(t.positionals, COMMANDS)
  const name = command.noun ? `${command.verb} ${command.noun}` : command.verb
  const flags = bindFlags(t.flags, command.flags ?? [], name)
  checkArgs(command, args)
  return { name, args, flags }
}

const usage = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError)
    return (err as Error).message
  }
  throw new Error('expected a UsageError')
}

describe('tokenize', () => {
  it('puts flags anywhere and knows which take values', () => {
    const t = tok(['--json', 'create', 'target', '--name', 'db', '--set=a=b', 'x', '--', '--raw'])
    expect(t.positionals).toEqual(['create', 'target', 'x', '--raw'])
    expect(t.flags.map((f) => [f.name, f.value])).toEqual([
      ['json', undefined],
      ['name', 'db'],
      ['set', 'a=b'],
    ])
  })

  it('marks a value flag followed by another flag as missing its value', () => {
    const t = tok(['list', 'jobs', '--target', '--json'])
    expect(t.flags[0]).toMatchObject({ name: 'target', missingValue: true })
    expect(t.flags[1]).toMatchObject({ name: 'json' })
  })

  it('reads -h as a short flag and -5 as a value', () => {
    const t = tok(['list', '-h', '--priority', '-5'])
    expect(t.flags.map((f) => f.name)).toEqual(['h', 'priority'])
    expect(t.flags[1]?.value).toBe('-5')
  })
})

describe('command matching', () => {
  it('accepts singular, plural and multi-word nouns', () => {
    expect(parse(['list', 'targets']).name).toBe('list target')
    expect(parse(['list', 'target']).name).toBe('list target')
    for (const noun of [
      ['retention'],
      ['retention', 'policy'],
      ['retention', 'policies'],
      ['policy'],
    ]) {
      expect(parse(['list', ...noun]).name).toBe('list retention')
    }
    expect(parse(['show', 'retention', 'policy', 'daily']).args).toEqual(['daily'])
    expect(parse(['update', 'schedule', 'x', '--when', 'daily 4am']).name).toBe('edit schedule')
  })

  it('binds repeated --set and global flags', () => {
    const { flags } = parse([
      'create',
      'store',
      '--name',
      'n',
      '--plugin',
      'fs',
      '--set',
      'a=1',
      '--set',
      'b=2',
      '--json',
    ])
    expect(flags.all('set')).toEqual(['a=1', 'b=2'])
    expect(flags.has('json')).toBe(true)
    expect(flags.str('name')).toBe('n')
  })

  it('accepts --retention-policy for --retention on jobs', () => {
    expect(parse(['list', 'jobs', '--retention-policy', 'x']).flags.str('retention')).toBe('x')
  })

  it('names the fix for typos', () => {
    expect(usage(() => parse(['create', 'target', '--nmae', 'x', '--plugin', 'p']))).toBe(
      'unknown flag --nmae for "create target"; did you mean --name?',
    )
    expect(usage(() => parse(['lsit', 'targets']))).toBe(
      'unknown command "lsit"; did you mean "list"?',
    )
    expect(usage(() => parse(['list', 'tragets']))).toMatch(/did you mean "targets"/)
    expect(usage(() => parse(['create', 'archive']))).toMatch(/no "create archive"/)
    expect(usage(() => parse(['targets']))).toMatch(/bulwark list targets/)
  })

  it('checks required flags, arguments and values', () => {
    expect(usage(() => parse(['create', 'store', '--plugin', 'fs']))).toMatch(/missing --name/)
    expect(usage(() => parse(['show', 'target']))).toBe('missing REF for "show target"')
    expect(usage(() => parse(['show', 'target', 'a', 'b']))).toMatch(/unexpected argument "b"/)
    expect(usage(() => parse(['list', 'jobs', '--paused=yes']))).toMatch(/takes no value/)
    expect(usage(() => parse(['list', 'jobs', '--target']))).toMatch(/--target needs a value/)
    expect(usage(() => parse(['list']))).toMatch(/needs a noun/)
  })
})

describe('closest', () => {
  it('counts a swap as one edit and ignores far-off words', () => {
    expect(closest('nmae', ['name', 'summary'])).toBe('name')
    expect(closest('xyz', ['name', 'summary'])).toBeUndefined()
    expect(closest('sum', ['name', 'summary'])).toBe('summary')
  })
})

describe('help', () => {
  it('lists every command and the exit codes', () => {
    const text = generalHelp(COMMANDS)
    for (const c of COMMANDS) expect(text).toContain(c.summary)
    expect(text).toContain('bulwark daemon --help')
    expect(text).toContain('BULWARK_TOKEN')
    expect(text).toMatch(/Exit status: 0 success; 1 .* 2 the command line is wrong/s)
  })

  it('shows a command usage with required and optional flags', () => {
    const c = matchCommand(['edit', 'schedule'], COMMANDS).command
    expect(usageLine(c)).toBe(
      'bulwark edit schedule REF [--name NAME] [--when TIMESPEC] [--timezone ZONE] [--summary TEXT]',
    )
    expect(commandHelp(c)).toContain('--when TIMESPEC')
  })
})
