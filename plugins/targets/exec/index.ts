// Target `exec`: whatever a shell command writes to stdout is the backup, and a
// second command restores by reading it from stdin. Both run through a POSIX
// shell in their own process group (abort kills the whole pipeline); a
// non-zero exit fails the task with the exit code and the tail of stderr,
// whose lines also go to the task log.
import type { Readable } from 'node:stream'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import { runTool, spawnInput, spawnOutput, type ToolOptions } from '../../sdk/process'
import { defineTarget, type Endpoint, type PluginContext } from '../../sdk/types'

type Which = 'backup' | 'restore'

interface ExecConfig {
  commands: Record<Which, string>
  shell: string
  env: Record<string, string>
}

const ENV_ENTRY = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s

function configOf(endpoint: Endpoint): ExecConfig {
  const command = (which: Which): string => {
    const value = endpoint[`${which}_command`]
    if (typeof value !== 'string' || !value.trim()) {
      throw new PluginError(`the ${which} command is missing; set ${which}_command`)
    }
    return value
  }
  const shell = endpoint.shell ?? '/bin/sh'
  if (typeof shell !== 'string' || !shell.trim()) {
    throw new PluginError('the shell must be the path of a POSIX shell, such as /bin/sh')
  }
  const env: Record<string, string> = {}
  const entries = endpoint.env ?? []
  if (!Array.isArray(entries)) throw new PluginError('env must be a list of NAME=value entries')
  entries.forEach((entry: unknown, i) => {
    const m = typeof entry === 'string' ? ENV_ENTRY.exec(entry) : null
    // The value is not repeated: someone may have put a password there after all.
    if (!m) throw new PluginError(`env entry ${i + 1} is not of the form NAME=value`)
    env[m[1]!] = m[2]!
  })
  return { commands: { backup: command('backup'), restore: command('restore') }, shell, env }
}

/**
 * A pipeline fails when any part of it fails, not only the last one: a dump
 * that dies half-way into `| gzip` must not look like a whole backup. The
 * option is tried in a subshell first, because in a shell without it a
 * failing `set` ends the shell.
 */
const PIPEFAIL = '(set -o pipefail) 2>/dev/null && set -o pipefail; '

const tailOf = (stderr: string) => stderr.trim().split('\n').slice(-3).join(' / ')

function toolOptions(cfg: ExecConfig, which: Which): ToolOptions {
  return {
    env: cfg.env,
    explain: (stderr, code) => {
      const how = code === null ? 'was killed by a signal' : `exited with code ${code}`
      const tail = tailOf(stderr)
      return `the ${which} command ${how}${tail ? `: ${tail}` : ' (it wrote nothing to stderr)'}`
    },
  }
}

/**
 * Debian's dash has no pipefail. Without it only the last command of a
 * pipeline decides the exit status, so say so where a person will see it.
 */
async function pipefailWarning(
  cfg: ExecConfig,
  which: Which,
  ctx: PluginContext,
): Promise<string | undefined> {
  if (!cfg.commands[which].includes('|')) return undefined
  const supported = await runTool(cfg.shell, ['-c', 'set -o pipefail 2>/dev/null'], ctx, {
    env: cfg.env,
  }).then(
    () => true,
    (err: unknown) => {
      if (err instanceof PluginAbortedError) throw err
      return false
    },
  )
  if (supported) return undefined
  return `warning: ${cfg.shell} has no pipefail, so only the last command of the ${which} pipeline decides whether it succeeded; set the shell to /bin/bash to catch a failure anywhere in it`
}

async function backup(endpoint: Endpoint, ctx: PluginContext): Promise<Readable> {
  const cfg = configOf(endpoint)
  const warning = await pipefailWarning(cfg, 'backup', ctx)
  if (warning) ctx.log(warning)
  return spawnOutput(
    cfg.shell,
    ['-c', PIPEFAIL + cfg.commands.backup],
    ctx,
    toolOptions(cfg, 'backup'),
  )
}

async function restore(endpoint: Endpoint, data: Readable, ctx: PluginContext): Promise<void> {
  const cfg = configOf(endpoint)
  const warning = await pipefailWarning(cfg, 'restore', ctx)
  if (warning) ctx.log(warning)
  const args = ['-c', PIPEFAIL + cfg.commands.restore]
  await spawnInput(cfg.shell, args, data, ctx, toolOptions(cfg, 'restore'))
}

const KEYWORDS = new Set(['if', 'for', 'while', 'until', 'case', 'exec', 'time'])

/**
 * The program a command starts with, skipping `NAME=value` prefixes and an
 * opening `(`, `{` or `!`; undefined when it can't be told without running
 * the shell (quotes, expansions, compound commands).
 */
export function firstProgram(command: string): string | undefined {
  for (const raw of command.trim().split(/\s+/)) {
    const word = raw.replace(/^[({!]+/, '').replace(/;+$/, '')
    if (!word || /^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) continue
    if (/[$`'"\\*?[\]<>|&;(){}]/.test(word) || word.startsWith('-') || KEYWORDS.has(word)) {
      return undefined
    }
    return word
  }
  return undefined
}

async function check(cfg: ExecConfig, which: Which, ctx: PluginContext): Promise<string> {
  const command = cfg.commands[which]
  await runTool(cfg.shell, ['-n', '-c', command], ctx, {
    env: cfg.env,
    explain: (stderr, code) =>
      `the ${which} command does not parse: ${tailOf(stderr) || `${cfg.shell} -n exited with code ${code}`}`,
  })
  const program = firstProgram(command)
  if (program === undefined) return `${which}: not checked`
  const found = await runTool(cfg.shell, ['-c', 'command -v "$1"', 'sh', program], ctx, {
    env: cfg.env,
    explain: () =>
      `the ${which} command runs ${program}, which is not installed or not on the PATH (${cfg.env.PATH ?? process.env.PATH ?? ''})`,
  })
  return `${which}: ${found.trim() || program}`
}

async function test(endpoint: Endpoint, ctx: PluginContext): Promise<string> {
  const cfg = configOf(endpoint)
  const backupFound = await check(cfg, 'backup', ctx)
  const restoreFound = await check(cfg, 'restore', ctx)
  const warnings = [
    await pipefailWarning(cfg, 'backup', ctx),
    await pipefailWarning(cfg, 'restore', ctx),
  ].filter(Boolean)
  return [`commands parse OK (${backupFound}, ${restoreFound})`, ...warnings].join('; ')
}

export default defineTarget({ backup, restore, test })
