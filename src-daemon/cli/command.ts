// What a command is: a verb, an optional noun, positional arguments, flags,
// and a run function that gets a connected client and an output.
import type { BulwarkClient } from '../client'
import type { FlagSpec, Flags } from './args'
import type { Output } from './output'
import type { Stdin } from './stdin'

export type Noun =
  | 'target'
  | 'store'
  | 'vault'
  | 'lock'
  | 'schedule'
  | 'retention'
  | 'job'
  | 'archive'
  | 'task'
  | 'plugin'
  | 'channel'
  | 'agent'

export interface ArgSpec {
  name: string
  help: string
  /** May be left out (only the last ones). */
  optional?: boolean
}

export interface Context {
  /** Positional arguments after the noun, one per ArgSpec. */
  args: string[]
  flags: Flags
  json: boolean
  out: Output
  client: BulwarkClient
  env: NodeJS.ProcessEnv
  /** Where secrets are read from: never argv (see secrets.ts). */
  stdin: Stdin
  /** "create target", for messages. */
  command: string
  /**
   * Calls `fn` on Ctrl-C instead of exiting, until the returned function is
   * called; a second Ctrl-C exits at once. For commands that wait (--follow).
   */
  onInterrupt(fn: () => void): () => void
}

export interface Command {
  verb: string
  noun?: Noun
  /**
   * Written noun first (`bulwark vault change-password STORE`). The commands of
   * such a noun can be written either way round (`vault show` = `show vault`).
   */
  nounFirst?: boolean
  args?: ArgSpec[]
  summary: string
  /** Hand-written flag synopsis, when the generated one would mislead. */
  synopsis?: string
  /** Whole usage forms after "bulwark VERB NOUN", for a command that has several. */
  usages?: string[]
  flags?: FlagSpec[]
  /** Extra paragraphs for `--help`. */
  details?: string
  /** false for commands that run without a daemon (help). */
  daemon?: boolean
  /** Returns the exit code; undefined means 0. */
  run(ctx: Context): Promise<number | void>
}

export const NOUN_PLURAL: Record<Noun, string> = {
  target: 'targets',
  store: 'stores',
  vault: 'vaults',
  lock: 'locks',
  schedule: 'schedules',
  retention: 'retention policies',
  job: 'jobs',
  archive: 'archives',
  task: 'tasks',
  plugin: 'plugins',
  channel: 'channels',
  agent: 'agents',
}

/** Every spelling of a noun, singular or plural. Multi-word forms are matched first. */
export const NOUN_WORDS: [string[], Noun][] = [
  [['retention', 'policy'], 'retention'],
  [['retention', 'policies'], 'retention'],
  [['retention-policy'], 'retention'],
  [['retention-policies'], 'retention'],
  [['retention'], 'retention'],
  [['retentions'], 'retention'],
  [['policy'], 'retention'],
  [['policies'], 'retention'],
  [['target'], 'target'],
  [['targets'], 'target'],
  [['store'], 'store'],
  [['stores'], 'store'],
  [['vault'], 'vault'],
  [['vaults'], 'vault'],
  [['lock'], 'lock'],
  [['locks'], 'lock'],
  [['schedule'], 'schedule'],
  [['schedules'], 'schedule'],
  [['job'], 'job'],
  [['jobs'], 'job'],
  [['archive'], 'archive'],
  [['archives'], 'archive'],
  [['backup'], 'archive'],
  [['backups'], 'archive'],
  [['task'], 'task'],
  [['tasks'], 'task'],
  [['plugin'], 'plugin'],
  [['plugins'], 'plugin'],
  [['channel'], 'channel'],
  [['channels'], 'channel'],
  [['agent'], 'agent'],
  [['agents'], 'agent'],
]

/** Other words for verbs (SHIELD says `update schedule`). */
export const VERB_ALIASES: Record<string, string> = {
  update: 'edit',
  ls: 'list',
  get: 'show',
  new: 'create',
  add: 'create',
  remove: 'delete',
  rm: 'delete',
}

export const commandName = (c: Pick<Command, 'verb' | 'noun' | 'nounFirst'>) =>
  c.noun ? (c.nounFirst ? `${c.noun} ${c.verb}` : `${c.verb} ${c.noun}`) : c.verb
