// The daemon's logger: pino (the structured logger fastify ships), one event
// per line on stderr, with every known secret masked in the message and in
// every field. The daemon's stdout is kept for its ready message.
//
// Two renderings of the same events (BULWARK_LOG_FORMAT):
//   text (default)  `2026-12-08T01:02:03.456Z INFO  message key=value`, for a
//                   person at a terminal or reading daemon.log;
//   json            pino's own line, `{"level":"info","time":"…","msg":"…"}`,
//                   for log shippers and journald.
// Both are written synchronously: a line logged just before a crash is on
// disk, and lines keep their order with the ready message.
import pino, { type DestinationStream } from 'pino'
import { redactor } from './redact'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogFormat = 'text' | 'json'
/** Structured context of one event (a request's method, path, status, ...). */
export type LogFields = Record<string, string | number | boolean | null | undefined>

export interface Logger {
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
}

/** pino's line → the text rendering (level padded, fields as key=value after the message). */
function textLine(json: string): string {
  const { level, time, msg, ...fields } = JSON.parse(json) as Record<string, unknown>
  const rest = Object.entries(fields)
    .map(([k, v]) => ` ${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : v}`)
    .join('')
  return `${time} ${String(level).toUpperCase().padEnd(5)} ${msg}${rest}\n`
}

const masked = (fields: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(fields))
    out[k] = typeof v === 'string' ? redactor.redact(v) : v
  return out
}

/**
 * A logger at `level`. `write` receives each finished line (tests collect
 * them); without it lines go to stderr.
 */
export function createLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (line) => process.stderr.write(line),
  format: LogFormat = parseLogFormat(process.env.BULWARK_LOG_FORMAT),
): Logger {
  const dest: DestinationStream = {
    write: (line: string) => write(format === 'json' ? line : textLine(line)),
  }
  const p = pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: masked },
      hooks: {
        // The message is masked here, before pino serializes it.
        logMethod(args, method) {
          const [first, second] = args as unknown[]
          if (typeof second === 'string') args[1] = redactor.redact(second)
          else if (typeof first === 'string') args[0] = redactor.redact(first)
          method.apply(this, args)
        },
      },
    },
    dest,
  )
  const at =
    (l: LogLevel) =>
    (msg: string, fields?: LogFields): void =>
      fields ? p[l](fields, msg) : p[l](msg)
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

export function parseLogLevel(value: string | undefined): LogLevel {
  return value === 'debug' || value === 'warn' || value === 'error' ? value : 'info'
}

export function parseLogFormat(value: string | undefined): LogFormat {
  return value === 'json' ? 'json' : 'text'
}
