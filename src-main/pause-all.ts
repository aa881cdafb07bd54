// "Pause all schedules" from the tray: pauses every job not paused yet and
// remembers which, so resuming unpauses exactly those (a job the person had
// paused on purpose stays paused). The record lives in the app's settings, so
// a pause for an hour still ends after the app restarted.
import type { BulwarkClient } from '../src-daemon/client'
import type { PauseAll } from './settings'

export async function pauseAll(
  client: BulwarkClient,
  hours: number | null,
  now: number,
): Promise<PauseAll> {
  const jobs = (await client.listJobs()).filter((j) => !j.paused).map((j) => j.uuid)
  for (const uuid of jobs) await client.pauseJob(uuid)
  return { jobs, until: hours === null ? null : now + hours * 3600_000 }
}

/** Unpauses the jobs the tray paused; a job deleted since is skipped. */
export async function resumeAll(client: BulwarkClient, pause: PauseAll): Promise<void> {
  const exist = new Set((await client.listJobs()).map((j) => j.uuid))
  for (const uuid of pause.jobs) if (exist.has(uuid)) await client.unpauseJob(uuid)
}

/** Whether a timed pause is over. */
export const pauseIsOver = (pause: PauseAll | null, now: number): boolean =>
  pause !== null && pause.until !== null && now >= pause.until
