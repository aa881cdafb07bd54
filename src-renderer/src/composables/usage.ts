// Which jobs use a schedule or retention policy, and a refused delete (409)
// in words: what uses it and what to do first.
import { ApiError } from '../../../src-daemon/client'
import type { Job } from '../../../src-daemon/contract'

export function jobsUsingSchedule(jobs: Job[], uuid: string): Job[] {
  return jobs.filter((j) => j.schedule_uuid === uuid || j.verify_schedule_uuid === uuid)
}

export function jobsUsingRetention(jobs: Job[], uuid: string): Job[] {
  return jobs.filter((j) => j.retention_uuid === uuid)
}

/** "a", "a and b", "a, b and c" */
export function listWords(items: string[]): string {
  if (items.length <= 1) return items.join('')
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`
}

/**
 * A delete the daemon refused because jobs use the thing, in words; null for
 * any other failure. `what` is "schedule" or "retention policy".
 */
export function inUseText(err: unknown, what: string, name: string): string | null {
  if (!(err instanceof ApiError) || err.status !== 409) return null
  const raw = err.details?.jobs
  const jobs = Array.isArray(raw)
    ? raw
        .map((j) => (j && typeof j === 'object' ? (j as { name?: unknown }).name : undefined))
        .filter((n): n is string => typeof n === 'string')
    : []
  if (jobs.length === 0) return err.message
  const one = jobs.length === 1
  const names = listWords(jobs.map((n) => `“${n}”`))
  return (
    `The ${what} “${name}” is in use by ${one ? 'the job' : 'the jobs'} ${names}. ` +
    `Change ${one ? 'that job' : 'those jobs'} to another ${what}, or delete ${one ? 'it' : 'them'}, first.`
  )
}
