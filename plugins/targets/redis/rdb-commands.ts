// The shell commands of an rdb restore (stop_command, restart_command): each
// runs with /bin/sh -c in its own process group, with the daemon's
// environment plus REDISCLI_AUTH (so `redis-cli shutdown` needs no password on
// its command line), its output lines going to the task log, and a bound on
// how long it may take. Abort or the bound kills the whole group.
import { spawn } from 'node:child_process'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import { killGroup } from '../../sdk/process'
import type { PluginContext } from '../../sdk/types'

export interface CommandOptions {
  /** Which field the command comes from, for messages: 'restart_command'. */
  field: string
  command: string
  /** Seconds it may run. */
  timeout: number
  /** The Redis password, handed over as REDISCLI_AUTH (never on argv). */
  password?: string
  /** When false, abort does not stop the command (a restart that must finish). */
  abortable?: boolean
}

/** Runs the command; resolves when it exits 0, rejects with a PluginError saying how it failed. */
export function runCommand(opts: CommandOptions, ctx: PluginContext): Promise<void> {
  const abortable = opts.abortable ?? true
  if (abortable && ctx.signal.aborted) return Promise.reject(new PluginAbortedError())
  ctx.log(`running ${opts.field}: ${opts.command}`)
  const env = { ...process.env }
  if (opts.password) env.REDISCLI_AUTH = opts.password
  const child = spawn('/bin/sh', ['-c', opts.command], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so a timeout or abort kills what it started too
  })
  let tail = ''
  for (const out of [child.stdout, child.stderr]) {
    let partial = ''
    out.setEncoding('utf8')
    out.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n')
      partial = lines.pop() ?? ''
      for (const line of lines) {
        if (!line.trim()) continue
        ctx.log(`${opts.field}: ${line}`)
        tail = line
      }
    })
    out.on('end', () => {
      if (partial.trim()) ctx.log(`${opts.field}: ${partial}`)
      if (partial.trim()) tail = partial
    })
  }
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    killGroup(child)
  }, opts.timeout * 1000)
  const kill = () => killGroup(child)
  if (abortable) ctx.signal.addEventListener('abort', kill, { once: true })
  return new Promise<void>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer)
      ctx.signal.removeEventListener('abort', kill)
    }
    child.once('error', (err) => {
      done()
      reject(new PluginError(`could not run ${opts.field} with /bin/sh: ${err.message}`))
    })
    // On exit, not on close: a server the command starts in the background may
    // keep its output pipes open for as long as it runs.
    child.once('exit', (code, signal) => {
      const closed = new Promise((r) => child.once('close', r))
      const grace = new Promise((r) => setTimeout(r, 500).unref())
      void Promise.race([closed, grace]).then(() => {
        child.stdout.destroy()
        child.stderr.destroy()
        done()
        if (abortable && ctx.signal.aborted) return reject(new PluginAbortedError())
        if (timedOut) {
          return reject(
            new PluginError(
              `${opts.field} did not finish within ${opts.timeout} s (save_timeout) and was killed`,
            ),
          )
        }
        if (code === 0) return resolve()
        const how = code === null ? `was killed by ${signal}` : `exited with code ${code}`
        reject(new PluginError(`${opts.field} ${how}${tail ? `: ${tail.trim()}` : ''}`))
      })
    })
  })
}
