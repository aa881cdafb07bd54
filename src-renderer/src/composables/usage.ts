// Which jobs use a schedule or retention policy, and a refused delete (409)
// in words: what uses it and what to do first.
import { useDialog } from 'naive-ui'
import { useRouter } from 'vue-router'
import { ApiError } from '../../../src-daemon/client'
import type { Job } from '../../../src-daemon/contract'
import { useConfirmRemove } from './confirm'

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

/**
 * Deleting a schedule or retention policy (`what`), after asking: the question
 * names the jobs that use it, as the daemon will refuse then, or says `unused`;
 * a refusal names the jobs to move first, with a way to the Jobs page.
 */
export function useDeleteInUse(what: 'schedule' | 'retention policy') {
  const dialog = useDialog()
  const confirmRemove = useConfirmRemove()
  const router = useRouter()
  const What = what[0]!.toUpperCase() + what.slice(1)
  return function confirmDelete(
    thing: { name: string },
    users: Job[],
    unused: string,
    remove: () => Promise<unknown>,
  ) {
    const one = users.length === 1
    confirmRemove({
      title: `Delete ${what} ${thing.name}?`,
      content:
        users.length > 0
          ? `${one ? 'The job' : 'The jobs'} ${listWords(users.map((j) => j.name))} ${one ? 'uses' : 'use'} it, so the daemon will refuse: move ${one ? 'that job' : 'them'} to another ${what} first.`
          : unused,
      remove: async () => {
        await remove()
        return `Deleted ${what} ${thing.name}`
      },
      refused: (err, text) => {
        const inUse = inUseText(err, what, thing.name)
        if (!inUse) return text
        dialog.error({
          title: `${What} ${thing.name} is in use`,
          content: inUse,
          positiveText: 'OK',
          negativeText: 'Open jobs',
          onNegativeClick: () => void router.push('/jobs'),
        })
        return true
      },
    })
  }
}
