// The `bulwark` command line: parse, find the command, connect, run, and turn
// every failure into one clear stderr message and an exit code
// (0 ok, 1 the request failed, 2 the command line is wrong).
import { ApiError, BulwarkClient, DaemonUnreachableError } from '../client'
import { bindFlags, tokenize, valueFlagNames, type Flags } from './args'
import { commandName } from './command'
import { COMMANDS } from './commands'
import { findDaemon, unauthorizedMessage, unreachableMessage, type Connection } from './connect'
import { checkArgs, matchCommand, partialMatch } from './dispatch'
import { CliError, EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './errors'
import { commandHelp, generalHelp, helpHint, partialHelp } from './help'
import { Output, type Writer } from './output'
import { NO_STDIN, type Stdin } from './stdin'
import { cliVersion } from './version'

export interface CliIo extends Writer {
  env: NodeJS.ProcessEnv
  /** For tests; the global fetch otherwise. */
  fetch?: typeof fetch
  /** Ctrl-C handling for commands that wait (see Context.onInterrupt); none by default. */
  onInterrupt?: (fn: () => void) => () => void
  /** Where passwords are read from (--password-stdin, prompts); no input by default. */
  stdin?: Stdin
}

const VALUE_FLAGS = valueFlagNames(COMMANDS.map((c) => c.flags ?? []))

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const state: { conn?: Connection } = {}
  try {
    return await dispatch(argv, io, state)
  } catch (err) {
    io.stderr(`${describe(err, state.conn)}\n`)
    if (err instanceof UsageError) return EXIT_USAGE
    if (err instanceof CliError) return err.exitCode
    return EXIT_FAILED
  }
}

async function dispatch(argv: readonly string[], io: CliIo, state: { conn?: Connection }) {
  const out = new Output(io)
  const tokens = tokenize(argv, (name) => VALUE_FLAGS.has(name))
  const words = tokens.positionals
  const asked = (name: string) => tokens.flags.some((f) => f.name === name)
  const wantsHelp = asked('help') || asked('h')

  if (words[0] === 'help' || (wantsHelp && words.length > 0)) {
    const topic = words[0] === 'help' ? words.slice(1) : words
    io.stdout(helpFor(topic))
    return EXIT_OK
  }
  if (words.length === 0) {
    bindFlags(tokens.flags, [], '')
    if (asked('version')) {
      out.line(`bulwark ${cliVersion()}`)
      return EXIT_OK
    }
    if (wantsHelp) {
      io.stdout(generalHelp(COMMANDS))
      return EXIT_OK
    }
    io.stderr(generalHelp(COMMANDS))
    return EXIT_USAGE
  }
  if (words[0] === 'version') {
    out.line(`bulwark ${cliVersion()}`)
    return EXIT_OK
  }
  if (words[0] === 'daemon') {
    throw new UsageError('"bulwark daemon" is started through bin/bulwark.js, not this entry')
  }

  const { command, args } = matchCommand(words, COMMANDS)
  const name = commandName(command)
  const flags = bindFlags(tokens.flags, command.flags ?? [], name)
  checkArgs(command, args)
  if (command.flags?.some((f) => f.multi !== true && flags.all(f.name).length > 1)) {
    const repeated = command.flags.find((f) => !f.multi && flags.all(f.name).length > 1)
    throw new UsageError(`--${repeated?.name} is given more than once`, name)
  }

  // Connect on first use, so a command checks its own flags before it looks for a daemon.
  let client: BulwarkClient | undefined
  const code = await command.run({
    args,
    flags,
    json: flags.has('json'),
    out,
    get client() {
      if (!client) {
        const conn = connect(flags, io.env)
        state.conn = conn
        const opts = { url: conn.url, token: conn.token }
        client = new BulwarkClient(io.fetch ? { ...opts, fetch: io.fetch } : opts)
      }
      return client
    },
    env: io.env,
    stdin: io.stdin ?? NO_STDIN,
    command: name,
    onInterrupt: (fn) => io.onInterrupt?.(fn) ?? (() => undefined),
  })
  return code ?? EXIT_OK
}

function connect(flags: Flags, env: NodeJS.ProcessEnv): Connection {
  return findDaemon({
    dataDir: flags.str('data-dir'),
    url: flags.str('url'),
    token: flags.str('token'),
    env,
  })
}

function helpFor(words: readonly string[]): string {
  if (words.length === 0) return generalHelp(COMMANDS)
  try {
    return commandHelp(matchCommand(words, COMMANDS).command)
  } catch {
    const text = partialHelp(partialMatch(words, COMMANDS), COMMANDS)
    if (text) return text
    throw new UsageError(`no help for "${words.join(' ')}": no such command`)
  }
}

function describe(err: unknown, conn: Connection | undefined): string {
  if (err instanceof UsageError) return `bulwark: ${err.message}\n${helpHint(err.command)}`
  if (err instanceof CliError) return `bulwark: ${err.message}`
  if (err instanceof DaemonUnreachableError) {
    return `bulwark: ${conn ? unreachableMessage(conn, err.reason) : err.message}`
  }
  if (err instanceof ApiError) {
    if (err.status === 401 && conn) return `bulwark: ${unauthorizedMessage(conn)}`
    // A 404 or 409 is about the thing the REF named, not a request field: older
    // daemons said "field: uuid" there, which only confuses someone who typed a name.
    const aboutField = err.field && err.field !== 'uuid' && err.status !== 404 && err.status !== 409
    const field = aboutField ? ` (field: ${err.field})` : ''
    return `bulwark: ${err.message}${field}${conflictDetails(err)}`
  }
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err)
  return `bulwark: unexpected error: ${text}`
}

/** A delete blocked by jobs lists them (details.jobs = [{uuid,name}]). */
function conflictDetails(err: ApiError): string {
  const jobs = err.details?.jobs
  if (!Array.isArray(jobs) || jobs.length === 0) return ''
  const named = (j: unknown) => typeof j === 'object' && j !== null && 'uuid' in j
  if (jobs.every((j) => named(j) && err.message.includes(String(j.uuid)))) return ''
  const lines = jobs.map((j: { uuid?: unknown; name?: unknown }) => {
    const uuid = typeof j.uuid === 'string' ? j.uuid : '?'
    return `  job "${typeof j.name === 'string' ? j.name : '?'}" (${uuid})`
  })
  return `\nUsed by:\n${lines.join('\n')}\nDelete those jobs, or edit them to use something else, first.`
}
