// Waiting on tasks through the API.
import type { RunningDaemon } from './daemon'

export async function waitForTask(
  d: RunningDaemon,
  uuid: string,
  until: (status: string) => boolean = (s) => !['pending', 'running'].includes(s),
  timeoutMs = 60_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const task = (await d.api('GET', `/v1/task/${uuid}`)).body
    if (until(task.status)) return task
    if (Date.now() > deadline)
      throw new Error(`task ${uuid} still ${task.status} after ${timeoutMs} ms:\n${task.log}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
