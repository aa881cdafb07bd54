// What the through-the-daemon benchmarks share: timing a reference tool's
// command, creating resources and timing a task from the API request to its
// end, medians and ratios, and a Markdown table of the figures.
import { spawn } from 'node:child_process'
import type { RunningDaemon } from '../helpers/daemon'

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

export const ratio = (ours: number, theirs: number) => `${(theirs / ours).toFixed(2)}×`

/**
 * Seconds a command takes. Asynchronous on purpose: s3rver answers from this
 * very process, so a synchronous spawn would leave restic waiting on it forever.
 */
export async function timed(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  const t = performance.now()
  const child = spawn(cmd, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (c) => (stderr += c))
  const code = await new Promise<number | null>((r) => child.once('close', r))
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${stderr}`)
  return (performance.now() - t) / 1000
}

export async function created(d: RunningDaemon, path: string, body: unknown): Promise<string> {
  const res = await d.api('POST', path, body)
  if (res.status !== 200) throw new Error(`POST ${path}: ${JSON.stringify(res.body)}`)
  return res.body.uuid
}

/** Seconds from the request that schedules a task to the moment the API reports it ended. */
export async function taskSeconds(
  d: RunningDaemon,
  path: string,
  body: unknown = {},
): Promise<any> {
  const t = performance.now()
  const res = await d.api('POST', path, body)
  if (!res.body?.task_uuid) throw new Error(`POST ${path}: ${JSON.stringify(res.body)}`)
  for (;;) {
    const task = (await d.api('GET', `/v1/task/${res.body.task_uuid}`)).body
    if (!['pending', 'running'].includes(task.status)) {
      const seconds = (performance.now() - t) / 1000
      if (task.status !== 'done') throw new Error(`task ${task.status}: ${task.error}\n${task.log}`)
      return { seconds, task }
    }
    await new Promise((r) => setTimeout(r, 10))
  }
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)))
  const line = (r: string[]) => `| ${r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join(' | ')} |`
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n')
}
