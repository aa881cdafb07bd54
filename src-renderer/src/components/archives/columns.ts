// The Archives page's table: when each archive was taken (a link to its
// page), of what, where, its status, sizes, notes and expiry, and its four
// row buttons as icons (restore, verify, download, delete).
import { NButton, NIcon, NSpace, NTag, NText, NTooltip, type DataTableColumns } from 'naive-ui'
import {
  ArrowUndoOutline as RestoreIcon,
  DownloadOutline as DownloadIcon,
  ShieldCheckmarkOutline as VerifyIcon,
  TrashOutline as DeleteIcon,
} from '@vicons/ionicons5'
import { computed, h, type Component, type Ref } from 'vue'
import type { Archive } from '../../../../src-daemon/contract'
import TaskLink from '../TaskLink.vue'
import {
  ARCHIVE_STATUS_HELP,
  ARCHIVE_STATUS_TYPE,
  archiveTitle,
  fmtWhen,
} from '../../composables/archives'
import { fmtBytes, fmtDate, fmtRelative } from '../../composables/format'

/** What the row's buttons do; `busy` holds "verify <uuid>" and "download <uuid>" while they run. */
export interface ArchiveActions {
  restore: (a: Archive) => void
  annotate: (a: Archive) => void
  verify: (a: Archive) => void
  download: (a: Archive) => void
  remove: (a: Archive) => void
  busy: Ref<Set<string>>
}

const byTime = (a: string, b: string) => new Date(a).getTime() - new Date(b).getTime()
const byNumber = (a: number | null, b: number | null) => (a ?? -1) - (b ?? -1)
const byText = (a: string | null, b: string | null) => (a ?? '').localeCompare(b ?? '')

/**
 * A small icon button named by its tooltip (and aria-label, for screen readers
 * and tests), narrower than naive's own so the row's four fit in little room.
 */
function iconButton(icon: Component, label: string, props: Record<string, unknown>) {
  return h(NTooltip, null, {
    trigger: () =>
      h(
        NButton,
        { size: 'small', class: 'archive-action', 'aria-label': label, ...props },
        { icon: () => h(NIcon, { component: icon }) },
      ),
    default: () => label,
  })
}

/** On hover, `text` as the element's title when the element shows it cut (else the row's). */
const titleIfCut = (text: string) => (e: MouseEvent) => {
  const el = e.currentTarget as HTMLElement
  if (el.scrollWidth > el.clientWidth) el.title = text
  else el.removeAttribute('title')
}

/** Four compact icon buttons, 4 px apart, and the cell's padding. */
const ACTIONS_WIDTH = 160

export function useArchiveColumns(on: ArchiveActions) {
  const columns = computed<DataTableColumns<Archive>>(() => [
    {
      title: 'Taken at',
      key: 'taken_at',
      width: 132,
      defaultSortOrder: 'descend',
      sorter: (a, b) => byTime(a.taken_at, b.taken_at),
      render: (a) =>
        h(
          TaskLink,
          { to: `/archives/${a.uuid}`, title: fmtDate(a.taken_at), 'data-testid': 'archive-open' },
          { default: () => fmtWhen(a.taken_at) },
        ),
    },
    {
      title: 'Target',
      key: 'target_name',
      // The only column without a width: it takes what the others leave. The
      // name stays on one line, cut with an ellipsis (and told whole on hover)
      // only in a window too narrow for it.
      minWidth: 160,
      sorter: (a, b) => byText(a.target_name, b.target_name),
      render: (a) =>
        h('div', { class: 'archive-target' }, [
          a.target_name
            ? h(
                'strong',
                { class: 'archive-target-name', onMouseenter: titleIfCut(a.target_name) },
                a.target_name,
              )
            : h(NText, { depth: 3 }, { default: () => 'deleted target' }),
          a.target_plugin
            ? h(
                NTag,
                { size: 'tiny', bordered: false, style: 'flex: none' },
                { default: () => a.target_plugin },
              )
            : null,
        ]),
    },
    {
      title: 'Store',
      key: 'store_name',
      width: 76,
      ellipsis: { tooltip: true },
      sorter: (a, b) => byText(a.store_name, b.store_name),
      render: (a) => a.store_name ?? h(NText, { depth: 3 }, { default: () => 'deleted store' }),
    },
    {
      title: 'Status',
      key: 'status',
      width: 80,
      sorter: (a, b) => a.status.localeCompare(b.status),
      render: (a) =>
        h(NTooltip, null, {
          trigger: () =>
            h(
              NTag,
              {
                type: ARCHIVE_STATUS_TYPE[a.status],
                size: 'small',
                round: true,
                bordered: false,
                'data-testid': 'archive-status',
              },
              { default: () => a.status },
            ),
          default: () => ARCHIVE_STATUS_HELP[a.status],
        }),
    },
    {
      title: 'Size',
      key: 'size',
      width: 66,
      align: 'right',
      sorter: (a, b) => byNumber(a.size, b.size),
      render: (a) => fmtBytes(a.size),
    },
    {
      title: () =>
        h(
          'span',
          {
            title:
              'New bytes: what this archive added to its store, after deduplication and compression',
          },
          'Added',
        ),
      key: 'new_bytes',
      width: 80,
      align: 'right',
      sorter: (a, b) => byNumber(a.new_bytes, b.new_bytes),
      render: (a) => fmtBytes(a.new_bytes),
    },
    {
      title: 'Notes',
      key: 'notes',
      width: 66,
      render: (a) =>
        h(
          'button',
          {
            type: 'button',
            class: ['archive-notes', { empty: !a.notes }],
            title: a.notes ? `${a.notes}\n\n(click to edit)` : 'Add notes',
            'aria-label': `${a.notes ? 'Edit' : 'Add'} the notes of ${archiveTitle(a)}`,
            'data-testid': 'notes-button',
            onClick: () => on.annotate(a),
          },
          a.notes || '+ notes',
        ),
    },
    {
      title: 'Expires',
      key: 'expires_at',
      width: 88,
      sorter: (a, b) => byTime(a.expires_at, b.expires_at),
      render: (a) =>
        a.status === 'purged'
          ? '—'
          : a.status === 'expired'
            ? h(NText, { depth: 3 }, { default: () => 'purging' })
            : h('span', { title: fmtDate(a.expires_at) }, fmtRelative(a.expires_at)),
    },
    {
      title: 'Actions',
      key: 'actions',
      width: ACTIONS_WIDTH,
      fixed: 'right',
      render: (a) =>
        h(NSpace, { size: 4, wrap: false }, () => [
          iconButton(RestoreIcon, 'Restore', {
            type: 'primary',
            secondary: true,
            disabled: a.status !== 'valid',
            title: a.status === 'valid' ? undefined : ARCHIVE_STATUS_HELP[a.status],
            'data-testid': 'restore-button',
            onClick: () => on.restore(a),
          }),
          iconButton(VerifyIcon, 'Verify: read it back and check every chunk', {
            disabled: a.status === 'purged' || a.status === 'expired',
            loading: on.busy.value.has(`verify ${a.uuid}`),
            'data-testid': 'verify-button',
            onClick: () => on.verify(a),
          }),
          iconButton(DownloadIcon, 'Download', {
            disabled: a.status !== 'valid',
            loading: on.busy.value.has(`download ${a.uuid}`),
            'data-testid': 'download-button',
            onClick: () => on.download(a),
          }),
          iconButton(DeleteIcon, 'Delete', {
            type: 'error',
            ghost: true,
            disabled: a.status === 'purged' || a.status === 'expired',
            'data-testid': 'delete-button',
            onClick: () => on.remove(a),
          }),
        ]),
    },
  ])

  /** The table's least width (each column's width, the target's minimum); narrower, it scrolls. */
  const tableWidth = computed(() =>
    columns.value.reduce((n, c) => n + Number(('width' in c ? c.width : c.minWidth) ?? 0), 0),
  )
  return { columns, tableWidth }
}
