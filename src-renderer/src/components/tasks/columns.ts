// The Tasks page's table: each task's type (a link to it), status, what it
// concerns in names, when it was asked for, how long it ran, its progress (or
// its error), and Cancel while it runs.
import { NButton, NText, type DataTableColumns } from 'naive-ui'
import { computed, h, type Ref } from 'vue'
import type { Archive, Task } from '../../../../src-daemon/contract'
import { fmtWhen } from '../../composables/archives'
import { fmtBytes, fmtDate, fmtDuration, fmtRelative } from '../../composables/format'
import { TASK_TYPE_LABEL, isActive, taskPath } from '../../composables/taskView'
import TaskLink from '../TaskLink.vue'
import TaskProgress from '../TaskProgress.vue'
import TaskStatusTag from '../TaskStatusTag.vue'

export interface TaskTableContext {
  /** Jobs', targets' and stores' names by uuid. */
  names: Ref<Map<string, string>>
  archives: Ref<Map<string, Archive>>
  /** The clock running tasks' durations and "requested" times follow. */
  now: Ref<number>
  /** Cancel, after asking. */
  cancel: (t: Task) => void
}

export function useTaskColumns(on: TaskTableContext) {
  function concerns(t: Task): string {
    const n = (uuid: string | null) =>
      uuid ? (on.names.value.get(uuid) ?? uuid.slice(0, 8)) : null
    const job = n(t.job_uuid)
    const target = n(t.target_uuid)
    const store = n(t.store_uuid)
    const a = t.archive_uuid ? on.archives.value.get(t.archive_uuid) : undefined
    const archive = a
      ? `${a.target_name ?? 'archive'} of ${fmtWhen(a.taken_at)}`
      : t.archive_uuid
        ? `archive ${t.archive_uuid.slice(0, 8)}`
        : null
    switch (t.type) {
      case 'backup':
        return [job, target && store ? `${target} → ${store}` : (target ?? store)]
          .filter(Boolean)
          .join(': ')
      case 'restore':
        return `${archive ?? (store ? `from ${store}` : '?')} → ${target ?? '?'}`
      case 'gc':
        return store ?? '—'
      default:
        return [archive ?? target, store].filter(Boolean).join(' in ') || '—'
    }
  }

  function duration(t: Task): number | null {
    if (!t.started_at) return null
    const end = t.stopped_at ? new Date(t.stopped_at).getTime() : on.now.value
    return Math.max(0, end - new Date(t.started_at).getTime())
  }

  const columns = computed<DataTableColumns<Task>>(() => [
    {
      title: 'Task',
      key: 'type',
      width: 120,
      render: (t) =>
        h(
          TaskLink,
          {
            to: taskPath(t.uuid),
            'data-testid': 'task-link',
            onClick: (e: Event) => e.stopPropagation(),
          },
          { default: () => TASK_TYPE_LABEL[t.type] },
        ),
    },
    {
      title: 'Status',
      key: 'status',
      width: 100,
      render: (t) => h(TaskStatusTag, { status: t.status }),
    },
    {
      title: 'Concerns',
      key: 'concerns',
      minWidth: 200,
      ellipsis: { tooltip: true },
      render: (t) => concerns(t),
    },
    {
      title: 'Requested',
      key: 'requested_at',
      width: 150,
      sorter: (a, b) => a.requested_at.localeCompare(b.requested_at),
      render: (t) =>
        h('span', { title: fmtDate(t.requested_at) }, fmtRelative(t.requested_at, on.now.value)),
    },
    {
      title: 'Duration',
      key: 'duration',
      width: 110,
      sorter: (a, b) => (duration(a) ?? -1) - (duration(b) ?? -1),
      render: (t) => fmtDuration(duration(t)),
    },
    {
      title: 'Progress',
      key: 'progress',
      width: 220,
      render: (t) =>
        isActive(t.status)
          ? h(TaskProgress, { task: t, compact: true })
          : t.status === 'failed' && t.error
            ? h(
                NText,
                {
                  type: 'error',
                  title: t.error,
                  style:
                    'font-size: 13px; display: block; overflow: hidden; text-overflow: ellipsis; white-space: nowrap',
                },
                { default: () => t.error },
              )
            : fmtBytes(t.bytes),
    },
    {
      title: '',
      key: 'actions',
      width: 90,
      render: (t) =>
        isActive(t.status)
          ? h(
              NButton,
              {
                size: 'small',
                'data-testid': 'task-cancel',
                onClick: (e: Event) => {
                  e.stopPropagation()
                  on.cancel(t)
                },
              },
              { default: () => 'Cancel' },
            )
          : null,
    },
  ])
  return columns
}
