// The Jobs page's table: each job's name (paused, its summary), what it
// backs up where, its schedule (and verify schedule), its retention, its last
// run (live while a backup runs; "archive invalid" when a verify found the
// newest archive damaged) and next run, and its buttons. A window too narrow
// for the whole table (800 px, say) gets a compact one that fits: the
// retention said in the schedule's cell, the row's buttons two by two.
import { NButton, NSpace, NTag, NTooltip, type DataTableColumns } from 'naive-ui'
import { computed, h, onMounted, onUnmounted, ref, type Ref, type VNodeChild } from 'vue'
import { RouterLink } from 'vue-router'
import type { Archive, Job, Schedule, Task, TaskStatus } from '../../../../src-daemon/contract'
import { actionsColumn, rowActions } from '../../composables/columns'
import { fmtDate, fmtPeriod, fmtRelative } from '../../composables/format'
import { fmtInZone } from '../../composables/schedules'
import { TASK_STATUS_TYPE } from '../../composables/taskView'

export interface JobTableContext {
  /** The backup each job has queued or running now. */
  activeByJob: Ref<Map<string, Task>>
  /** Each job's newest archive not purged. */
  newestArchive: Ref<Map<string, Archive>>
  scheduleByUuid: Ref<Map<string, Schedule>>
  now: Ref<number>
  /** Row buttons spinning: "run:<uuid>", "pause:<uuid>". */
  busy: Ref<Set<string>>
  runNow: (j: Job) => void
  togglePause: (j: Job) => void
  edit: (j: Job) => void
  remove: (j: Job) => void
}

export function useJobColumns(on: JobTableContext) {
  const STATUS_TAG = TASK_STATUS_TYPE
  const STATUS_WORD: Record<TaskStatus, string> = {
    done: 'done',
    failed: 'failed',
    canceled: 'canceled',
    running: 'running',
    pending: 'queued',
  }

  const muted = (text: string) => h('span', { style: 'opacity: 0.7' }, text)
  const sub = (content: VNodeChild) =>
    h('div', { style: 'opacity: 0.7; font-size: 12px; margin-top: 2px' }, [content])
  const withTip = (trigger: VNodeChild, tip: string) =>
    h(NTooltip, {}, { trigger: () => h('span', [trigger]), default: () => tip })

  function lastRun(j: Job): VNodeChild {
    const active = on.activeByJob.value.get(j.uuid)
    if (active) {
      const pct = active.progress === null ? '' : ` ${Math.round(active.progress * 100)}%`
      return h(
        RouterLink,
        { to: `/tasks/${active.uuid}`, 'aria-label': `Open the running backup of ${j.name}` },
        () =>
          h(
            NTag,
            { type: STATUS_TAG[active.status], size: 'small', bordered: false },
            { default: () => `${STATUS_WORD[active.status]}${pct}` },
          ),
      )
    }
    if (!j.last_status) return muted('never run')
    return h(NSpace, { size: 4, align: 'center', wrap: false }, () => [
      h(
        NTag,
        {
          type: STATUS_TAG[j.last_status!],
          size: 'small',
          bordered: false,
          'data-testid': `job-status-${j.name}`,
        },
        { default: () => STATUS_WORD[j.last_status!] },
      ),
      j.last_run ? withTip(fmtRelative(j.last_run, on.now.value), fmtDate(j.last_run)) : null,
      invalidTag(j),
    ])
  }

  /** "archive invalid", linked to the archive, when the job's newest archive was found damaged. */
  function invalidTag(j: Job): VNodeChild {
    const a = on.newestArchive.value.get(j.uuid)
    if (a?.status !== 'invalid') return null
    return h(
      RouterLink,
      {
        to: `/archives/${a.uuid}`,
        title: 'A verify found the newest archive damaged: it will not be restored',
      },
      () =>
        h(
          NTag,
          { type: 'error', size: 'small', bordered: false, 'data-testid': `job-invalid-${j.name}` },
          { default: () => 'archive invalid' },
        ),
    )
  }

  /** When it runs (and verifies); in a compact table, how long it keeps archives too. */
  function scheduleCell(j: Job): VNodeChild {
    const s = on.scheduleByUuid.value.get(j.schedule_uuid)
    return h('div', [
      h('span', j.schedule_name),
      sub(s?.description ?? j.schedule),
      j.verify_schedule_uuid
        ? sub(
            `verify: ${j.verify_schedule_name ?? ''} (${
              on.scheduleByUuid.value.get(j.verify_schedule_uuid)?.description ??
              j.verify_schedule ??
              ''
            })`,
          )
        : null,
      compact.value ? sub(`keeps: ${j.retention_name} (${fmtPeriod(j.expiry)})`) : null,
    ])
  }

  function nextRun(j: Job): VNodeChild {
    if (j.paused) return 'next: paused, runs only by hand'
    if (!j.next_run) return 'no next run'
    return withTip(
      `next ${fmtRelative(j.next_run, on.now.value)}`,
      fmtInZone(j.next_run, j.timezone),
    )
  }

  // The columns' widths, the actions' included, side by side: a window with less
  // room than this beside the menu gets the compact table.
  const TABLE_WIDTH = 1090
  // The compact table: no Retention column (the schedule cell says it), the
  // row's buttons two by two. It fits an 800 px window; narrower, it scrolls.
  const COMPACT_WIDTH = 755
  /** What the menu and the page's padding take from the window, at most. */
  const BESIDE = 250
  const width = ref(window.innerWidth)
  const onResize = () => (width.value = window.innerWidth)
  onMounted(() => window.addEventListener('resize', onResize))
  onUnmounted(() => window.removeEventListener('resize', onResize))
  const compact = computed(() => width.value < TABLE_WIDTH + BESIDE)
  const tableWidth = computed(() => (compact.value ? COMPACT_WIDTH : TABLE_WIDTH))
  /** Pinned actions only when the table fits beside the menu; narrower, they would hide the last run. */
  const pinActions = computed(() => width.value >= tableWidth.value + BESIDE)

  /** Run now, Pause, Edit and Delete: in a row, or two by two in the compact table. */
  function buttons(j: Job): VNodeChild[] {
    return [
      h(
        NButton,
        {
          size: 'small',
          type: 'primary',
          secondary: true,
          loading: on.busy.value.has(`run:${j.uuid}`),
          onClick: () => on.runNow(j),
          'data-testid': `job-run-${j.name}`,
        },
        { default: () => 'Run now' },
      ),
      h(
        NButton,
        {
          size: 'small',
          loading: on.busy.value.has(`pause:${j.uuid}`),
          onClick: () => on.togglePause(j),
          'data-testid': `job-pause-${j.name}`,
        },
        { default: () => (j.paused ? 'Unpause' : 'Pause') },
      ),
      ...rowActions(j, { edit: on.edit, remove: on.remove }, 'job'),
    ]
  }

  const columns = computed<DataTableColumns<Job>>(() => [
    {
      title: 'Name',
      key: 'name',
      minWidth: compact.value ? 120 : 140,
      sorter: (a, b) => a.name.localeCompare(b.name),
      render: (j) =>
        h('div', [
          h('strong', j.name),
          j.paused
            ? h(
                NTag,
                { size: 'small', type: 'warning', bordered: false, style: 'margin-left: 6px' },
                { default: () => 'paused' },
              )
            : null,
          j.summary ? sub(j.summary) : null,
        ]),
    },
    {
      title: 'Backs up',
      key: 'target_name',
      width: compact.value ? 140 : 150,
      sorter: (a, b) => a.target_name.localeCompare(b.target_name),
      render: (j) =>
        h('div', [
          h('span', [j.target_name, muted(' → '), j.store_name]),
          sub(`${j.target_plugin} → ${j.store_plugin}`),
        ]),
    },
    {
      title: 'Schedule',
      key: 'schedule_name',
      minWidth: compact.value ? 150 : 170,
      render: scheduleCell,
    },
    ...(compact.value
      ? []
      : [
          {
            title: 'Retention',
            key: 'retention_name',
            width: 130,
            sorter: (a: Job, b: Job) => a.expiry - b.expiry,
            render: (j: Job) => h('div', [h('span', j.retention_name), sub(fmtPeriod(j.expiry))]),
          },
        ]),
    {
      title: 'Runs',
      key: 'runs',
      width: compact.value ? 150 : 160,
      sorter: (a, b) => (a.last_run ?? '').localeCompare(b.last_run ?? ''),
      render: (j) => h('div', [lastRun(j), sub(nextRun(j))]),
    },
    compact.value
      ? {
          ...actionsColumn(195, buttons, pinActions.value),
          render: (j: Job) => h('div', { class: 'job-actions' }, buttons(j)),
        }
      : actionsColumn(330, buttons, pinActions.value),
  ])

  return { columns, tableWidth }
}
