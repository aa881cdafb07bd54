// The start the daemon's and the agent's entries share (bulwark daemon,
// bulwark agent): their arguments parsed strictly, with --data-dir,
// --log-level and -h/--help common to both; a mistake prints the error and
// the help (exit 2), --help the help (exit 0); then the logger at
// --log-level (else $BULWARK_LOG_LEVEL) and the data directory.
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { createLogger, parseLogLevel, type Logger } from './logger'
import { resolveDataDir } from './paths'

const COMMON = {
  'data-dir': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

type Options = NonNullable<ParseArgsConfig['options']>

type Values<O extends Options> = ReturnType<
  typeof parseArgs<{ options: O & typeof COMMON; strict: true }>
>['values']

export interface EntryStart<O extends Options> {
  args: Values<O>
  log: Logger
  /** --data-dir, else $BULWARK_HOME, else the platform data directory. */
  dataDir: string
}

/** Reads the command line (`options` besides the common ones); a number is the exit code to end with now. */
export function startEntry<const O extends Options>(
  command: string,
  help: string,
  options: O,
): EntryStart<O> | number {
  let args: Values<O>
  try {
    args = parseArgs({ options: { ...options, ...COMMON }, strict: true }).values as Values<O>
  } catch (err) {
    process.stderr.write(`${command}: ${(err as Error).message}\n\n${help}`)
    return 2
  }
  const common = args as { 'data-dir'?: string; 'log-level'?: string; help?: boolean }
  if (common.help) {
    process.stdout.write(help)
    return 0
  }
  const log = createLogger(parseLogLevel(common['log-level'] ?? process.env.BULWARK_LOG_LEVEL))
  return { args, log, dataDir: resolveDataDir(common['data-dir']) }
}
