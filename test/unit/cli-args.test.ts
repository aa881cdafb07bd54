// The CLI's command-line parsing: tokens, flags, command matching, help text.
import { describe, expect, it } from 'vitest'
import { bindFlags, tokenize, valueFlagNames } from '../../src-daemon/cli/args'
import { COMMANDS } from '../../src-daemon/cli/commands'
import { checkArgs, matchCommand } from '../../src-daemon/cli/dispatch'
import { UsageError, closest } from '../../src-daemon/cli/errors'
import { commandHelp, generalHelp, usageLine } from '../../src-daemon/cli/help'
import { Output } from '../../src-daemon/cli/output'
import { NO_STDIN } from '../../src-daemon/cli/stdin'

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

describe('typed flags', () => {
  it('reads whole numbers, days, durations and choices as their specs declare', () => {
    const tasks = parse(['list', 'tasks', '--limit', '7', '--status', 'failed', '--type', 'gc'])
    expect(tasks.flags.int('limit')).toBe(7)
    expect(tasks.flags.choice('status')).toBe('failed')
    const archives = parse(['list', 'archives', '--after', '2025-01-31'])
    expect(archives.flags.day('after')).toBe('20250131')
    expect(archives.flags.day('before')).toBeUndefined()
    const policy = parse(['create', 'retention', '--name', 'p', '--expires', '2h'])
    expect(policy.flags.duration('expires')).toBe(7200)
  })

  it('names the flag, its bounds or its choices when a value is wrong', () => {
    expect(usage(() => parse(['list', 'tasks', '--limit', '0']).flags.int('limit'))).toBe(
      '--limit must be at least 1 (got 0)',
    )
    expect(
      usage(() => parse(['edit', 'job', 'j', '--priority', '101']).flags.int('priority')),
    ).toBe('--priority must be between 0 and 100 (got 101)')
    expect(usage(() => parse(['list', 'tasks', '--type', 'x']).flags.choice('type'))).toMatch(
      /^--type must be one of backup, .* \(got "x"\)$/,
    )
    expect(
      usage(() =>
        parse([
          'create',
          'job',
          '--name',
          'j',
          '--target',
          't',
          '--store',
          's',
          '--schedule',
          'd',
          '--retention',
          'r',
          '--rpo',
          'soon',
        ]).flags.duration('rpo'),
      ),
    ).toMatch(/^--rpo "soon" is not a duration/)
  })
})

describe('noun tables', () => {
  it('every edit refuses a line that changes nothing, naming all its flags, before asking the daemon', async () => {
    const edits = COMMANDS.filter((c) => c.verb === 'edit' && !c.flags?.some((f) => f.required))
    expect(edits.map((c) => c.noun).sort()).toEqual(
      ['channel', 'job', 'retention', 'schedule', 'store', 'target'].sort(),
    )
    for (const c of edits) {
      const name = `edit ${c.noun}`
      const run = c.run({
        args: ['x'],
        flags: bindFlags([], c.flags ?? [], name),
        json: false,
        out: new Output({ stdout: () => undefined, stderr: () => undefined }),
        get client(): never {
          throw new Error('asked the daemon')
        },
        env: {},
        stdin: NO_STDIN,
        command: name,
        onInterrupt: () => () => undefined,
      })
      const names = (c.flags ?? []).map((f) => `--${f.name}`).join(', ')
      await expect(run).rejects.toThrow(`nothing to change: give at least one of ${names}`)
    }
  })
})
