// The hook flags of create job and edit job (docs/hooks.md): --hook-before,
// --hook-after and --hook-on-failure CMD, each repeatable and run in the order
// given, with their phase's defaults (before: essential; after, on_failure:
// optional) and --hook-timeout SECONDS; --hooks-file FILE for anything else
// (the API's JSON: per-hook essential and timeout_seconds); --no-hooks on edit.
import { readFileSync } from 'node:fs'
import type { Hook, HookPhase, Job, JobHooksInput } from '../../contract'
import { HOOK_PHASES, MAX_HOOK_TIMEOUT_SECONDS } from '../../contract'
import type { FlagSpec } from '../args'
import type { Context } from '../command'
import { CliError, UsageError } from '../errors'

const PHASE_FLAGS: Record<HookPhase, string> = {
  before: 'hook-before',
  after: 'hook-after',
  on_failure: 'hook-on-failure',
}

export const hookFlags = (editing: boolean): FlagSpec[] => [
  {
    name: 'hook-before',
    value: 'CMD',
    multi: true,
    help: `run CMD (with /bin/sh -c) before each backup; if it fails, the backup fails (repeatable, in order${editing ? "; replaces the job's before hooks" : ''})`,
  },
  {
    name: 'hook-after',
    value: 'CMD',
    multi: true,
    help: `run CMD after each successful backup; a failure is logged (repeatable${editing ? "; replaces the job's after hooks" : ''})`,
  },
  {
    name: 'hook-on-failure',
    value: 'CMD',
    multi: true,
    help: `run CMD when a backup fails or is canceled; a failure is logged (repeatable${editing ? "; replaces the job's on_failure hooks" : ''})`,
  },
  {
    name: 'hook-timeout',
    value: 'SECONDS',
    type: 'int',
    min: 1,
    max: MAX_HOOK_TIMEOUT_SECONDS,
    help: 'how long each --hook-* command may run before it is killed (default 300)',
  },
  {
    name: 'hooks-file',
    value: 'FILE',
    help: `every hook, as JSON: {"before": [{"command": "...", "essential": true, "timeout_seconds": 60}], "after": [...], "on_failure": [...]}${editing ? "; replaces all the job's hooks" : ''}`,
  },
  ...(editing ? [{ name: 'no-hooks', help: 'remove all its hooks' }] : []),
]

/**
 * The hooks the command line gives, or undefined when it gives none (an edit
 * then keeps the job's hooks). On edit, a --hook-PHASE flag replaces that
 * phase's hooks and keeps the others (`current`).
 */
export function hooksFromFlags(ctx: Context, current?: Job['hooks']): JobHooksInput | undefined {
  const given = HOOK_PHASES.filter((p) => ctx.flags.has(PHASE_FLAGS[p]))
  const file = ctx.flags.str('hooks-file')
  const exclusive = [
    given.length > 0 ? '--hook-*' : '',
    file !== undefined ? '--hooks-file' : '',
    ctx.flags.has('no-hooks') ? '--no-hooks' : '',
  ].filter(Boolean)
  if (exclusive.length > 1)
    throw new UsageError(`${exclusive.join(' and ')} cannot be used together`, ctx.command)
  if (ctx.flags.has('hook-timeout') && given.length === 0)
    throw new UsageError(
      '--hook-timeout applies to the commands given with --hook-before, --hook-after or --hook-on-failure; give one, or set timeout_seconds in a --hooks-file',
      ctx.command,
    )
  if (ctx.flags.has('no-hooks')) return {}
  if (file !== undefined) return readHooksFile(file)
  if (given.length === 0) return undefined
  const timeout = ctx.flags.int('hook-timeout')
  const hooks: JobHooksInput = {}
  for (const phase of HOOK_PHASES) {
    if (given.includes(phase)) {
      hooks[phase] = ctx.flags
        .all(PHASE_FLAGS[phase])
        .map((command) =>
          timeout === undefined ? { command } : { command, timeout_seconds: timeout },
        )
    } else if (current && current[phase].length > 0) {
      hooks[phase] = current[phase]
    }
  }
  return hooks
}

function readHooksFile(file: string): JobHooksInput {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new CliError(`cannot read the hooks file: ${(err as Error).message}`)
  }
  try {
    const parsed = JSON.parse(text) as unknown
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error()
    // The daemon checks the rest and names the field at fault.
    return parsed as JobHooksInput
  } catch {
    throw new CliError(
      `${file} is not a JSON object such as {"before": [{"command": "docker stop app"}], "after": [{"command": "docker start app"}]}`,
    )
  }
}

/** For show job: one line per hook, in the order they run. */
export function describeHooks(hooks: Job['hooks'] | undefined): string {
  const lines = HOOK_PHASES.flatMap((phase) =>
    (hooks?.[phase] ?? []).map(
      (h: Hook, i) => `${phase}[${i}]: ${h.command}  (${describeHook(h)})`,
    ),
  )
  return lines.length > 0 ? lines.join('\n') : 'none'
}

const describeHook = (h: Hook) =>
  `${h.essential ? 'essential' : 'optional'}, timeout ${h.timeout_seconds} s`
