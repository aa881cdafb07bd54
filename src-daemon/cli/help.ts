// Help text, generated from the command specs so it cannot drift from them.
import { GLOBAL_FLAGS, type FlagSpec } from './args'
import { NOUN_PLURAL, type Command, type Noun } from './command'
import type { PartialMatch } from './dispatch'
import { formatTable } from './output'

const SECTIONS: [Noun | undefined, string][] = [
  ['target', 'Targets: the data to back up'],
  ['agent', 'Agents: Bulwark on the hosts where data lives, running the backups of their targets'],
  ['store', 'Stores: where archives are kept'],
  ['vault', "Vaults: a store's encrypted, deduplicated archives, and the keys to them"],
  ['lock', 'Locks: what holds a store now, and breaking a lock its holder left behind'],
  ['schedule', 'Schedules: when jobs run'],
  ['retention', 'Retention policies: how long archives are kept'],
  ['job', 'Jobs: a target, a store, a schedule and a retention policy'],
  ['archive', 'Archives: the backups taken'],
  ['task', 'Tasks: backups and restores, queued, running or finished'],
  ['plugin', 'Plugins: the kinds of targets and stores'],
  ['channel', 'Channels: where notifications of failures (and more) are sent'],
  [undefined, 'The daemon'],
]

/** The noun as written in usage lines: plural after list, singular otherwise. */
function nounWords(c: Command): string {
  if (!c.noun) return ''
  if (c.verb === 'list') return NOUN_PLURAL[c.noun]
  return c.noun === 'retention' ? 'retention policy' : c.noun
}

function flagSynopsis(f: FlagSpec): string {
  const text = f.value ? `--${f.name} ${f.value}` : `--${f.name}`
  const many = f.multi ? ' ...' : ''
  return f.required ? `${text}${many}` : `[${text}${many}]`
}

/** "vault change-password" or "create target": the words that name the command. */
function commandWords(c: Command): string[] {
  return c.nounFirst ? [nounWords(c), c.verb] : [c.verb, nounWords(c)]
}

const argSynopsis = (c: Command) => (c.args ?? []).map((a) => (a.optional ? `[${a.name}]` : a.name))

/** The usage line; a command with several forms has one line for each. */
export function usageLine(c: Command): string {
  const head = ['bulwark', ...commandWords(c)].filter(Boolean).join(' ')
  if (c.usages) return c.usages.map((u) => `${head} ${u}`).join('\n')
  const flags = c.synopsis ?? (c.flags ?? []).map(flagSynopsis).join(' ')
  return [head, ...argSynopsis(c), flags].filter(Boolean).join(' ')
}

const indent = (text: string, by = '  ') => text.trimEnd().replace(/^/gm, by)

function twoColumns(rows: [string, string][]): string {
  const table = formatTable(['', ''], rows)
  return indent(table.split('\n').slice(1).join('\n'))
}

const globalFlagRows = (): [string, string][] =>
  GLOBAL_FLAGS.map((f) => [
    f.name === 'help' ? '-h, --help' : `--${f.name}${f.value ? ` ${f.value}` : ''}`,
    f.help,
  ])

export function generalHelp(commands: readonly Command[]): string {
  const parts = [
    'bulwark: back up and restore data services through a Bulwark daemon.',
    '',
    'Usage:  bulwark COMMAND [ARGUMENTS] [FLAGS]        (bulwark COMMAND --help for its flags)',
  ]
  for (const [noun, title] of SECTIONS) {
    const rows: [string, string][] = commands
      .filter((c) => c.noun === noun)
      .map((c) => [[...commandWords(c), ...argSynopsis(c)].filter(Boolean).join(' '), c.summary])
    if (noun === undefined) {
      rows.unshift([
        'daemon [--data-dir DIR]',
        'run the daemon in the foreground (bulwark daemon --help)',
      ])
      rows.push(
        ['help [COMMAND]', "this help, or one command's"],
        ['--version', 'print the version'],
      )
    }
    parts.push('', `${title}`, twoColumns(rows))
  }
  parts.push(
    '',
    'REF is a uuid, a unique uuid prefix (4+ characters) or an exact name. Nouns may be singular',
    'or plural; "retention", "retention policy", "retention policies" and "policy" are the same.',
    '',
    'Global flags, anywhere on the line:',
    twoColumns(globalFlagRows()),
    '',
    'Finding the daemon: --url or BULWARK_URL, else DIR/daemon.json, written by the running daemon.',
    'The API token: --token or BULWARK_TOKEN, else DIR/token. DIR is --data-dir, else BULWARK_HOME,',
    'else the platform data directory (~/.local/share/bulwark on Linux).',
    '',
    'Exit status: 0 success; 1 the request failed (an API error, no daemon, a rejected token),',
    '`paused job` found the job not paused, `test` found a problem, or a task followed with',
    '--follow failed or was canceled; 2 the command line is wrong; 130 Ctrl-C stopped --follow.',
  )
  return `${parts.join('\n')}\n`
}

export function commandHelp(c: Command): string {
  const parts = [
    `Usage:  ${usageLine(c).replace(/\n/g, '\n        ')}`,
    '',
    `${c.summary[0]?.toUpperCase() ?? ''}${c.summary.slice(1)}.`,
  ]
  if (c.args?.length) {
    parts.push('', 'Arguments:', twoColumns(c.args.map((a) => [a.name, a.help])))
  }
  if (c.flags?.length) {
    const rows = c.flags.map((f): [string, string] => {
      const aliases = (f.aliases ?? []).map((a) => (a.length === 1 ? `-${a}` : `--${a}`))
      const name = `--${f.name}${f.value ? ` ${f.value}` : ''}`
      const help = `${f.help}${f.required ? ' (required)' : ''}${f.multi ? ' (repeatable)' : ''}`
      return [name, aliases.length ? `${help}; also ${aliases.join(', ')}` : help]
    })
    parts.push('', 'Flags:', twoColumns(rows))
  }
  if (c.details) parts.push('', c.details)
  parts.push(
    '',
    'Global flags: --json, --data-dir DIR, --url URL, --token TOKEN (see: bulwark help)',
  )
  return `${parts.join('\n')}\n`
}

/** Help for a partial line: all of a noun's commands, or all of a verb's. */
export function partialHelp(m: PartialMatch, commands: readonly Command[]): string | undefined {
  const matching = commands.filter(
    (c) =>
      (m.verb === undefined || c.verb === m.verb) && (m.noun === undefined || c.noun === m.noun),
  )
  if (matching.length === 0 || (m.verb === undefined && m.noun === undefined)) return undefined
  if (matching.length === 1 && matching[0]) return commandHelp(matching[0])
  const rows = matching.map((c): [string, string] => [usageLine(c), c.summary])
  return `${rows.map(([u, s]) => `${u}\n    ${s}`).join('\n')}\n\n(bulwark COMMAND --help for a command's flags)\n`
}

export const helpHint = (command: string | undefined) =>
  command && command.includes(' ')
    ? `Run "bulwark ${command} --help" for its usage.`
    : `Run "bulwark help${command ? ` ${command}` : ''}" for the list of commands.`
