// Table columns and row buttons the resource pages share.
import { NButton, NSpace, NTooltip, type DataTableBaseColumn } from 'naive-ui'
import { h, type VNode, type VNodeChild } from 'vue'
import type { Job } from '../../../src-daemon/contract'

/** "Used by": how many jobs use the row's thing ("no jobs", "2 jobs"), their names in a tooltip. */
export function usedByColumn<T>(users: (row: T) => Job[], width: number): DataTableBaseColumn<T> {
  return {
    title: 'Used by',
    key: 'used',
    width,
    render: (row) => {
      const jobs = users(row)
      if (jobs.length === 0) return h('span', { style: 'opacity: 0.7' }, 'no jobs')
      return h(
        NTooltip,
        {},
        {
          trigger: () => h('span', `${jobs.length} job${jobs.length === 1 ? '' : 's'}`),
          default: () => jobs.map((j) => j.name).join(', '),
        },
      )
    },
  }
}

/**
 * "Actions", pinned to the right (unless `pinned` is false: in a window too
 * narrow for the table, a pinned column would cover the columns before it):
 * the row's buttons side by side.
 */
export function actionsColumn<T>(
  width: number,
  buttons: (row: T) => VNodeChild[],
  pinned = true,
): DataTableBaseColumn<T> {
  return {
    title: 'Actions',
    key: 'actions',
    width,
    ...(pinned ? { fixed: 'right' as const } : {}),
    render: (row) => h(NSpace, { size: 'small', wrap: false }, () => buttons(row)),
  }
}

/**
 * A row's Edit and Delete buttons. With `testid` ("schedule"), tests find them
 * as `schedule-edit-<name>` and `schedule-delete-<name>`.
 */
export function rowActions<T extends { name: string }>(
  row: T,
  on: { edit: (row: T) => void; remove: (row: T) => void },
  testid?: string,
): VNode[] {
  const id = (action: string) =>
    testid ? { 'data-testid': `${testid}-${action}-${row.name}` } : {}
  return [
    h(
      NButton,
      { size: 'small', onClick: () => on.edit(row), ...id('edit') },
      { default: () => 'Edit' },
    ),
    h(
      NButton,
      { size: 'small', type: 'error', ghost: true, onClick: () => on.remove(row), ...id('delete') },
      { default: () => 'Delete' },
    ),
  ]
}
