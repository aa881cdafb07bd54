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

/** POSTs something that schedules a task ({ok:'scheduled', task_uuid}) and waits for it to end. */
export async function runTask(d: RunningDaemon, path: string, body?: unknown): Promise<any> {
  const res = await d.api('POST', path, body)
  if (!res.body?.task_uuid)
    throw new Error(`POST ${path} scheduled nothing: ${JSON.stringify(res.body)}`)
  return waitForTask(d, res.body.task_uuid)
}
