// Runs one action of an external plugin (an executable speaking the plugin
// calling protocol) to completion: stdin fed from a stream with its bytes
// counted, stdout collected up to a limit, stderr sent to the task log line by
// line, an optional timeout, and abort killing the whole process group.
// Streaming stdout (backup, retrieve) goes through the SDK's spawnOutput.
import { spawn, type ChildProcess } from 'node:child_process'
import type { Readable } from 'node:stream'
import { killGroup, PluginAbortedError, PluginError, type PluginContext } from '../../plugins/sdk'

const STDERR_TAIL = 4000

export interface RunOptions {
  /** The plugin's name, for log lines and messages. */
  name: string
  /** The protocol action: info, store, purge, test, ... */
  action: string
  /** Arguments after the action (never secrets). */
  args?: string[]
  /** Extra environment, merged over the daemon's. */
  env?: Record<string, string | undefined>
  /** Fed to stdin; when absent stdin is /dev/null. */
  input?: Readable
  ctx: PluginContext
  timeoutMs?: number
  /** Stdout beyond this many characters kills the plugin (default 1 MiB). */
  maxStdout?: number
}

export interface RunResult {
  stdout: string
  /** Bytes written to the plugin's stdin. */
  bytesIn: number
}

/** Bulwark extension: exit status 75 (EX_TEMPFAIL in sysexits.h) marks a failure worth retrying. */
export const EXIT_TEMPFAIL = 75

/** The error for a failed exit: plugin name, action, how it ended, the last lines of stderr. */
export function exitError(
  name: string,
  action: string,
  stderr: string,
  code: number | null,
  signal?: NodeJS.Signals | null,
): PluginError {
  const kind = code === EXIT_TEMPFAIL ? 'transient' : 'permanent'
  return new PluginError(describeFailure(name, action, stderr, code, signal), kind)
}

export function describeFailure(
  name: string,
  action: string,
  stderr: string,
  code: number | null,
  signal?: NodeJS.Signals | null,
): string {
  const tail = stderr.trim().split('\n').slice(-3).join(' / ')
  const how =
    code === null ? `was killed${signal ? ` by ${signal}` : ''}` : `exited with code ${code}`
  return `external plugin ${name}: ${action} ${how}${tail ? `: ${tail}` : ''}`
}

export async function runAction(exe: string, o: RunOptions): Promise<RunResult> {
  const { ctx, name, action } = o
  if (ctx.signal.aborted) throw new PluginAbortedError()
  const child = spawn(exe, [action, ...(o.args ?? [])], {
    env: { ...process.env, ...o.env },
    stdio: [o.input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so a kill reaches what it started
  })
  const max = o.maxStdout ?? 1 << 20
  let stdout = ''
  let stderr = ''
  let partial = ''
  let stopped: string | undefined
  const stop = (why: string) => {
    stopped ??= why
    killGroup(child)
  }
  child.stdout!.setEncoding('utf8')
  child.stdout!.on('data', (chunk: string) => {
    stdout += chunk
    if (stdout.length > max) stop(`printed more than ${max} bytes on stdout`)
  })
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL)
    const lines = (partial + chunk).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) if (line.trim()) ctx.log(`${name}: ${line}`)
  })
  const onAbort = () => killGroup(child)
  ctx.signal.addEventListener('abort', onAbort, { once: true })
  const timer = o.timeoutMs
    ? setTimeout(() => stop(`timed out after ${o.timeoutMs} ms`), o.timeoutMs)
    : undefined

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.once('error', (err) =>
        reject(new PluginError(`external plugin ${name}: could not run ${exe}: ${err.message}`)),
      )
      child.once('close', (code, signal) => resolve({ code, signal }))
    },
  )
  const fed = o.input ? feed(o.input, child) : Promise.resolve<Fed>({ bytes: 0 })
  try {
    const [{ code, signal }, sent] = await Promise.all([exited, fed])
    if (ctx.signal.aborted) throw new PluginAbortedError()
    if (sent.inputError) throw sent.inputError
    if (stopped) throw new PluginError(`external plugin ${name}: ${action} ${stopped}`)
    if (code !== 0) throw exitError(name, action, stderr, code, signal)
    if (sent.stdinError) {
      throw new PluginError(
        `external plugin ${name}: ${action} exited without reading all of its input ` +
          `(${sent.stdinError.message}), so its result cannot be trusted`,
      )
    }
    return { stdout, bytesIn: sent.bytes }
  } finally {
    clearTimeout(timer)
    ctx.signal.removeEventListener('abort', onAbort)
    if (partial.trim()) ctx.log(`${name}: ${partial}`)
  }
}

interface Fed {
  bytes: number
  /** The input stream failed: the plugin was killed before it could see end-of-file. */
  inputError?: Error
  /** The plugin stopped reading (EPIPE, or stdin closed before the input ended). */
  stdinError?: Error
}

/**
 * Copies input to the child's stdin with backpressure. Unlike pipeline(), a
 * failing input never closes stdin: the plugin is killed first, so it cannot
 * mistake a truncated stream for a complete one and store it.
 */
function feed(input: Readable, child: ChildProcess): Promise<Fed> {
  const stdin = child.stdin!
  let bytes = 0
  return new Promise<Fed>((resolve) => {
    let done = false
    const finish = (r: Omit<Fed, 'bytes'> = {}) => {
      if (done) return
      done = true
      input.off('data', onData)
      if (r.stdinError) input.destroy()
      resolve({ bytes, ...r })
    }
    const onData = (chunk: Buffer | string) => {
      bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length
      if (!stdin.write(chunk)) input.pause()
    }
    stdin.on('drain', () => input.resume())
    stdin.once('finish', () => finish())
    stdin.on('error', (err) => finish({ stdinError: err }))
    stdin.once('close', () => {
      if (!stdin.writableFinished) finish({ stdinError: new Error('its stdin closed early') })
    })
    input.once('error', (err) => {
      killGroup(child)
      finish({ inputError: err })
    })
    input.once('end', () => stdin.end())
    input.on('data', onData)
    if (input.readableEnded) stdin.end()
  })
}
