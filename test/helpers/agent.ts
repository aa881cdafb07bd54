// A remote agent for tests: `bulwark agent` as a child process (optionally
// inside a network namespace, through a command prefix such as
// `ip netns exec NS`), its log lines as they come, and a way to wait on them.
import { spawn, type ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { BULWARK_BIN, tempDir } from './daemon'

export interface RunningAgent {
  child: ChildProcess
  dataDir: string
  lines: string[]
  /** Resolves with the line once one matches (lines already written count). */
  waitFor(match: string | RegExp, timeoutMs?: number): Promise<string>
  /** Resolves with the exit code. */
  exited: Promise<number | null>
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

export function startAgent(
  opts: {
    server?: string
    token?: string
    dataDir?: string
    prefix?: string[]
    env?: Record<string, string>
  } = {},
): RunningAgent {
  const dataDir = opts.dataDir ?? tempDir('bulwark-agent-')
  const pairing = opts.token ? ['--server', opts.server ?? '', '--pair', opts.token] : []
  const command = [...(opts.prefix ?? []), process.execPath, BULWARK_BIN, 'agent', ...pairing]
  const child = spawn(command[0]!, [...command.slice(1), '--data-dir', dataDir], {
    env: { ...process.env, BULWARK_AGENT_BACKOFF_MS: '200', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  const events = new EventEmitter()
  let rest = ''
  const onData = (data: Buffer) => {
    rest += data.toString()
    const parts = rest.split('\n')
    rest = parts.pop() ?? ''
    for (const line of parts) {
      lines.push(line)
      events.emit('line', line)
    }
  }
  child.stdout!.on('data', onData)
  child.stderr!.on('data', onData)
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  )
  const matches = (m: string | RegExp, l: string) =>
    typeof m === 'string' ? l.includes(m) : m.test(l)
  return {
    child,
    dataDir,
    lines,
    exited,
    waitFor(match, timeoutMs = 20_000) {
      const found = lines.find((l) => matches(match, l))
      if (found) return Promise.resolve(found)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          events.off('line', onLine)
          reject(new Error(`the agent did not log ${String(match)}; its log:\n${lines.join('\n')}`))
        }, timeoutMs)
        const onLine = (l: string) => {
          if (!matches(match, l)) return
          clearTimeout(timer)
          events.off('line', onLine)
          resolve(l)
        }
        events.on('line', onLine)
      })
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}
