// Running native tools (pg_dump, tar, mysqldump, ...) as streams. The tool's
// stdout ends cleanly only if it exits 0; otherwise the stream errors with the
// tail of its stderr. Abort kills the tool's whole process group. Secrets go
// in through `env`, never argv.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { PassThrough, type Readable } from 'node:stream'
import { PluginAbortedError, PluginError } from './errors'
import type { PluginContext } from './types'

export interface ToolOptions {
  /** Extra environment (merged over the daemon's). */
  env?: Record<string, string | undefined>
  cwd?: string
  /**
   * Turns a failed exit into a message a person can act on; gets the stderr
   * tail. Return a PluginError to choose its kind (e.g. transient for a
   * connection refused); a string becomes a permanent one.
   */
  explain?: (stderr: string, code: number | null) => string | PluginError
  /**
   * For tools whose own connect timeout does not cover a server that accepts
   * the connection and then never answers: unless `connected` recognises a
   * stderr line within `ms`, the tool's group is killed and the run fails
   * with `error()` instead of hanging forever.
   */
  connectWatchdog?: {
    ms: number
    connected: (stderrLine: string) => boolean
    error: () => PluginError
  }
}

const STDERR_TAIL = 4000

function start(
  cmd: string,
  args: string[],
  ctx: PluginContext,
  opts: ToolOptions,
  stdin: 'pipe' | 'ignore',
) {
  if (ctx.signal.aborted) throw new PluginAbortedError()
  const child = spawn(cmd, args, {
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
    stdio: [stdin, 'pipe', 'pipe'],
    detached: true, // its own process group, so abort can kill what it started too
  })
  let stderr = ''
  child.stderr?.setEncoding('utf8')
  let partial = ''
  const watchdog = opts.connectWatchdog
  let silent = false
  let waiting: NodeJS.Timeout | undefined
  if (watchdog) {
    waiting = setTimeout(() => {
      silent = true
      killGroup(child)
    }, watchdog.ms)
  }
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL)
    const lines = (partial + chunk).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      if (waiting && watchdog?.connected(line)) {
        clearTimeout(waiting)
        waiting = undefined
      }
      if (line.trim()) ctx.log(`${cmd}: ${line}`)
    }
  })
  const kill = () => killGroup(child)
  ctx.signal.addEventListener('abort', kill, { once: true })
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      ctx.signal.removeEventListener('abort', kill)
      clearTimeout(waiting)
      // spawn reports a missing working directory as ENOENT too; don't blame the tool for it.
      const noCwd = err.code === 'ENOENT' && opts.cwd !== undefined && !existsSync(opts.cwd)
      reject(
        noCwd
          ? new PluginError(`could not run ${cmd}: the directory ${opts.cwd} does not exist`)
          : err.code === 'ENOENT'
            ? new PluginError(
                `${cmd} is not installed or not on the PATH; install it on the machine that runs the daemon`,
              )
            : new PluginError(`could not run ${cmd}: ${err.message}`),
      )
    })
    child.once('close', (code, signal) => {
      ctx.signal.removeEventListener('abort', kill)
      if (partial.trim()) ctx.log(`${cmd}: ${partial}`)
      clearTimeout(waiting)
      if (ctx.signal.aborted) return reject(new PluginAbortedError())
      if (silent && watchdog) return reject(watchdog.error())
      if (code === 0) return resolve()
      const why = opts.explain?.(stderr, code) ?? defaultExplain(cmd, stderr, code, signal)
      reject(why instanceof PluginError ? why : new PluginError(why))
    })
  })
  exited.catch(() => undefined) // observed by callers; avoid unhandled rejections
  return { child, exited }
}

function defaultExplain(
  cmd: string,
  stderr: string,
  code: number | null,
  signal: NodeJS.Signals | null,
): string {
  const last = stderr.trim().split('\n').slice(-3).join(' / ')
  const how = code === null ? `was killed by ${signal}` : `exited with code ${code}`
  return `${cmd} ${how}${last ? `: ${last}` : ''}`
}

/**
 * Stops the tool and everything it started. The group is signalled even when
 * the tool itself has already exited: a background helper it left behind can
 * still hold its stdout open (no pid is reused while its group has members, so
 * an empty group only yields ESRCH).
 */
export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, 'SIGTERM')
  } catch {
    child.kill('SIGTERM')
  }
  const hard = setTimeout(() => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }, 3000)
  hard.unref()
}

/** Runs a tool and returns its stdout; the stream ends only if the tool exits 0. */
export function spawnOutput(
  cmd: string,
  args: string[],
  ctx: PluginContext,
  opts: ToolOptions = {},
): Readable {
  const { child, exited } = start(cmd, args, ctx, opts, 'ignore')
  const out = new PassThrough({ highWaterMark: 1024 * 1024 })
  child.stdout!.pipe(out, { end: false })
  let stdoutDone = false
  child.stdout!.once('end', () => (stdoutDone = true))
  exited.then(
    () => {
      if (stdoutDone) out.end()
      else child.stdout!.once('end', () => out.end())
    },
    (err: Error) => out.destroy(err),
  )
  // If the consumer gives up, stop the tool.
  out.once('close', () => {
    if (out.writableFinished) return
    killGroup(child)
    // pipe() stopped reading when out closed; keep draining so the child's stdout
    // reaches EOF, 'close' fires and `exited` settles instead of hanging forever.
    child.stdout!.unpipe(out)
    child.stdout!.resume()
  })
  return out
}

/** Runs a tool feeding `input` to its stdin; resolves when it exits 0. */
export async function spawnInput(
  cmd: string,
  args: string[],
  input: Readable,
  ctx: PluginContext,
  opts: ToolOptions = {},
): Promise<void> {
  const { child, exited } = start(cmd, args, ctx, opts, 'pipe')
  child.stdout!.resume()
  const inputFailed = await feed(input, child, cmd)
  // Wait for the tool to be gone in every case, so a caller that cleans up
  // after a failure does not race a tool still writing.
  const status = await exited.then(
    () => undefined,
    (err: unknown) => ({ err }),
  )
  child.stdin!.destroy()
  if (ctx.signal.aborted) throw new PluginAbortedError()
  if (inputFailed) throw inputFailed.err
  if (status) throw status.err
}

/**
 * Pipes input into the tool's stdin. If the input fails or ends early, the
 * tool is killed while its stdin is still open: closing stdin first would
 * show it an ordinary end of input, and it could accept truncated data as a
 * whole restore. Resolves with the input's failure, if any.
 */
function feed(
  input: Readable,
  child: ChildProcess,
  cmd: string,
): Promise<{ err: unknown } | undefined> {
  const stdin = child.stdin!
  return new Promise((resolve) => {
    let settled = false
    const done = (result: { err: unknown } | undefined) => {
      if (settled) return
      settled = true
      input.unpipe(stdin)
      resolve(result)
    }
    const fail = (err: unknown) => {
      killGroup(child)
      done({ err })
    }
    // The tool closing its stdin early (EPIPE) is reported by its exit status.
    stdin.on('error', () => done(undefined))
    child.once('close', () => done(undefined))
    // The input may have failed before the tool started (a caller that was still preparing).
    if (input.errored) return fail(input.errored)
    if (input.destroyed && !input.readableEnded) {
      return fail(new PluginError(`the data for ${cmd} ended before it was complete`, 'transient'))
    }
    input.once('error', fail)
    input.once('end', () => stdin.end(() => done(undefined)))
    input.once('close', () => {
      if (!input.readableEnded) {
        fail(new PluginError(`the data for ${cmd} ended before it was complete`, 'transient'))
      }
    })
    input.pipe(stdin, { end: false })
  })
}

/** Runs a tool to completion and returns its stdout as text (for tests and probes). */
export async function runTool(
  cmd: string,
  args: string[],
  ctx: PluginContext,
  opts: ToolOptions = {},
): Promise<string> {
  const out = spawnOutput(cmd, args, ctx, opts)
  // Decode once at the end: a multi-byte character can straddle two chunks.
  const chunks: Buffer[] = []
  for await (const chunk of out) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
