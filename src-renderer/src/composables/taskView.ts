// Tasks on screen: words and colours for their types and statuses, toasts that link to a task, and the cancel confirmation.
import type { DialogApi, MessageApi, MessageReactive } from 'naive-ui'
import { h } from 'vue'
import type { BulwarkClient } from '../../../src-daemon/client'
import type { Task, TaskOp, TaskStatus } from '../../../src-daemon/contract'
import TaskLink from '../components/TaskLink.vue'
import { useConnection } from '../stores/connection'
import { FINISHED } from '../stores/tasks'
import { UI_OWNER } from '../owner'
import { describeError } from './errors'

export const TASK_STATUSES: TaskStatus[] = ['pending', 'running', 'done', 'failed', 'canceled']
export const TASK_TYPES: TaskOp[] = ['backup', 'restore', 'verify', 'purge', 'gc']

export const TASK_STATUS_TYPE: Record<
  TaskStatus,
  'default' | 'info' | 'success' | 'error' | 'warning'
> = {
  pending: 'default',
  running: 'info',
  done: 'success',
  failed: 'error',
  canceled: 'warning',
}

export const TASK_TYPE_LABEL: Record<TaskOp, string> = {
  backup: 'Backup',
  restore: 'Restore',
  verify: 'Verify',
  purge: 'Purge',
  gc: 'Garbage collection',
}

/** Pending, then running, then finished: an event from an earlier stage is stale. */
export const STAGE: Record<TaskStatus, number> = {
  pending: 0,
  running: 1,
  done: 2,
  failed: 2,
  canceled: 2,
}

export const isActive = (s: TaskStatus) => s === 'pending' || s === 'running'

export const taskPath = (uuid: string) => `/tasks/${uuid}`

/**
 * A toast saying a task was scheduled, with a link to follow it. When the
 * task ends the same toast says how it went (done or canceled: it goes after
 * a few seconds; failed, with the reason: it stays until closed). Following
 * its link closes it.
 */
export function scheduledToast(message: MessageApi, text: string, taskUuid: string) {
  const link = () =>
    h(
      TaskLink,
      {
        to: taskPath(taskUuid),
        'data-testid': 'toast-task-link',
        onClick: () => toast.destroy(),
      },
      { default: () => 'Follow the task' },
    )
  const toast: MessageReactive = message.success(() => h('span', [`${text} `, link()]), {
    duration: 0,
    closable: true,
  })
  let conn: ReturnType<typeof useConnection>
  try {
    conn = useConnection()
  } catch {
    toast.duration = 8000
    return
  }
  let ended = false
  function end(status: TaskStatus, error: string | null) {
    if (ended) return
    ended = true
    off()
    const what = text.replace(/ queued\.$|\.$/, '')
    const outcome =
      status === 'done'
        ? 'done'
        : status === 'canceled'
          ? 'canceled'
          : `failed${error ? ` (${error})` : ''}`
    toast.type = status === 'done' ? 'success' : status === 'canceled' ? 'warning' : 'error'
    toast.content = () =>
      h('span', { 'data-testid': 'toast-task-ended' }, [`${what}: ${outcome}. `, link()])
    if (status !== 'failed') {
      setTimeout(() => toast.destroy(), 6000)
    }
  }
  const off = conn.onEvent((e) => {
    if (e.type === 'task' && e.uuid === taskUuid && FINISHED.includes(e.status)) {
      // The event has no error text: read the task for it.
      void conn.client
        .getTask(taskUuid)
        .then((t) => end(t.status, t.error))
        .catch(() => end(e.status, null))
    }
  })
  // A task that ended before this subscribed.
  void conn.client
    .getTask(taskUuid)
    .then((t) => {
      if (FINISHED.includes(t.status)) end(t.status, t.error)
    })
    .catch(() => undefined)
  // Never hold a listener forever: after an hour the toast stands as it is.
  setTimeout(() => {
    if (!ended) off()
  }, 3_600_000)
}

/** Asks first, then cancels a pending task at once or asks a running one to stop. */
export function confirmCancel(
  dialog: DialogApi,
  message: MessageApi,
  client: BulwarkClient,
  task: Pick<Task, 'uuid' | 'type' | 'status'>,
) {
  const what = TASK_TYPE_LABEL[task.type].toLowerCase()
  dialog.warning({
    title: `Cancel this ${what}?`,
    content:
      task.status === 'pending'
        ? `The ${what} has not started; it is removed from the queue.`
        : task.type === 'restore'
          ? 'The restore stops where it is: the target may be left partly restored.'
          : `The ${what} is asked to stop; what it wrote so far is cleaned up.`,
    positiveText: `Cancel the ${what}`,
    negativeText: 'Keep it',
    autoFocus: false,
    onPositiveClick: async () => {
      try {
        const res = await client.cancelTask(task.uuid, { owner: UI_OWNER })
        message.info(res.ok === 'canceled' ? 'Canceled' : 'Stopping…')
      } catch (err) {
        message.error(describeError(err), { duration: 8000 })
      }
    },
  })
}
