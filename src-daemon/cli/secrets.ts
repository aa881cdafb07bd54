// Vault passwords never travel on the command line, where other users can read
// them (ps, /proc): a `--…-stdin` flag reads the first line of stdin, and
// without one a terminal is asked, with echo off. Where it can be neither
// (stdin is a pipe, no flag), the command line is wrong, and the error says
// how to pass the password.
import { ApiError } from '../client'
import type { PluginInfo } from '../contract'
import type { FlagSpec } from './args'
import type { Context } from './command'
import { CliError, UsageError } from './errors'

export const passwordStdinFlag = (help: string, name = 'password-stdin'): FlagSpec => ({
  name,
  help: `${help}, read from the first line of stdin (without one: asked on the terminal)`,
})

const shellQuote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)

export interface PasswordRequest {
  /** The flag that reads it from stdin, without dashes. */
  flag: string
  /** "New vault password". */
  prompt: string
  /** Ask twice on a terminal (a new password). */
  confirm?: boolean
}

/**
 * Throws the usage error now, before the daemon is contacted, when the
 * password could be read neither from stdin (no flag) nor from a terminal.
 */
export function checkPasswordSource(ctx: Context, req: PasswordRequest): void {
  if (ctx.flags.has(req.flag) || ctx.stdin.isTTY) return
  const line = ['bulwark', ctx.command, ...ctx.args.map(shellQuote), `--${req.flag}`].join(' ')
  throw new UsageError(
    `"bulwark ${ctx.command}" asks for the password on a terminal, but stdin is not one; ` +
      `give it on stdin with --${req.flag}, like:\n` +
      `  printf '%s\\n' "$PASSWORD" | ${line}\n` +
      `(never as an argument: other users can see a command's arguments)`,
    ctx.command,
  )
}

/** The password, from stdin (--flag) or the terminal; never empty. */
export async function readPassword(ctx: Context, req: PasswordRequest): Promise<string> {
  checkPasswordSource(ctx, req)
  if (ctx.flags.has(req.flag) && !ctx.stdin.isTTY) {
    const line = await ctx.stdin.readLine()
    if (line === '') {
      throw new UsageError(
        `--${req.flag} found no password: it reads the first line of stdin, which was empty`,
        ctx.command,
      )
    }
    return line
  }
  // A terminal on stdin: ask, echo off, rather than read a line that would be shown.
  const first = await ctx.stdin.askHidden(`${req.prompt}: `)
  if (first === '') throw new CliError('no password given; nothing was changed')
  if (req.confirm) {
    const again = await ctx.stdin.askHidden(`${req.prompt} again: `)
    if (again !== first) throw new CliError('the two passwords differ; nothing was changed')
  }
  return first
}

/** How a person knows a secret the API names by its field. */
export interface SecretField {
  /** "the new password" */
  name: string
  /** "read from --password-stdin" */
  from: string
}

/**
 * Runs a request that carries a secret; an API error about one of its fields
 * is said in terms of what the person gave, not the API field they never typed.
 */
export async function withSecretFields<T>(
  fields: Record<string, SecretField>,
  request: () => Promise<T>,
): Promise<T> {
  try {
    return await request()
  } catch (err) {
    const field = err instanceof ApiError && err.field ? fields[err.field] : undefined
    if (!field || !(err instanceof ApiError) || !err.field) throw err
    const message = err.message.includes(err.field)
      ? err.message.split(err.field).join(field.name)
      : err.message
    throw new CliError(`${message} (${field.from})`)
  }
}

/** "read from --password-stdin" or "typed at the prompt", for messages about a password. */
export const passwordFrom = (ctx: Context, flag: string) =>
  ctx.flags.has(flag) && !ctx.stdin.isTTY ? `read from --${flag}` : 'typed at the prompt'

/** --set-secret NAME (create/edit target and store): a secret endpoint field, never on argv. */
export const setSecretFlag: FlagSpec = {
  name: 'set-secret',
  value: 'NAME',
  multi: true,
  help:
    'set the secret endpoint field NAME (like password) from one line of stdin, or asked on the ' +
    'terminal without echo; repeat for several, read one line each, in order',
}

/**
 * Refuses, before the daemon is asked anything, a --set-secret that carries
 * a value, is repeated, or names a field --set also gives.
 */
export function checkSetSecretFlags(ctx: Context, setKeys: readonly string[]): void {
  const names = ctx.flags.all(setSecretFlag.name)
  const seen = new Set<string>()
  for (const name of names) {
    if (name.trim() === '' || name.includes('=')) {
      throw new UsageError(
        `--set-secret takes only the field's NAME (got "${name}"); its value is read from stdin ` +
          'or asked on the terminal, never given as an argument',
        ctx.command,
      )
    }
    if (seen.has(name)) throw new UsageError(`--set-secret ${name} is given twice`, ctx.command)
    seen.add(name)
    if (setKeys.includes(name)) {
      throw new UsageError(
        `--set ${name}=… and --set-secret ${name} cannot be used together; keep --set-secret ` +
          '(arguments are visible to other users)',
        ctx.command,
      )
    }
  }
}

/**
 * The values of the --set-secret fields, in the order given: one line of
 * stdin each when stdin is not a terminal, else asked with echo off. A name
 * that is not a secret field of the plugin is refused, listing those that are.
 */
export async function readSetSecrets(
  ctx: Context,
  plugin: PluginInfo | null,
  pluginName: string,
): Promise<Record<string, string>> {
  const names = ctx.flags.all(setSecretFlag.name)
  if (names.length === 0) return {}
  if (!plugin) {
    throw new UsageError(
      `--set-secret: plugin "${pluginName}" is not installed, so its secret fields are unknown ` +
        '(see: bulwark list plugins)',
      ctx.command,
    )
  }
  const secretFields = plugin.fields.filter((f) => f.secret).map((f) => f.name)
  for (const name of names) {
    if (secretFields.includes(name)) continue
    const known = plugin.fields.some((f) => f.name === name)
    const list = secretFields.length
      ? `its secret fields: ${secretFields.join(', ')}`
      : 'it has no secret fields'
    throw new UsageError(
      `--set-secret ${name}: ${
        known ? `"${name}" is not a secret field` : `there is no field "${name}"`
      } of plugin "${plugin.name}" (${list}); give other fields with --set ${name}=VALUE`,
      ctx.command,
    )
  }
  const values: Record<string, string> = {}
  for (const name of names) {
    if (ctx.stdin.isTTY) {
      const value = await ctx.stdin.askHidden(`${plugin.name} ${name}: `)
      if (value === '') throw new CliError(`no value given for ${name}; nothing was changed`)
      values[name] = value
      continue
    }
    const line = await ctx.stdin.readLine()
    if (line === '') {
      throw new UsageError(
        `--set-secret ${name} found no value: it reads one line of stdin per --set-secret, ` +
          `in order, and line ${Object.keys(values).length + 1} was empty or missing`,
        ctx.command,
      )
    }
    values[name] = line
  }
  return values
}
