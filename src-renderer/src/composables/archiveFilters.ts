// The Archives page's filters (target, store, job, status, dates, text), in
// its URL (/archives?target=…&q=…) so other pages can link to a selection, and
// the part of them the API filters.
import { computed, reactive } from 'vue'
import type { LocationQuery } from 'vue-router'
import { ARCHIVE_STATUSES, type ArchiveStatus } from '../../../src-daemon/contract'
import { apiDay, nextDay } from './archives'
import { queryString, useQueryFilters } from './queryFilters'

export function useArchiveFilters() {
  const str = queryString
  const filters = reactive({
    target: null as string | null,
    store: null as string | null,
    job: null as string | null,
    status: null as ArchiveStatus | null,
    range: null as [number, number] | null,
    q: '',
  })

  function fromQuery(q: LocationQuery) {
    filters.target = str(q.target)
    filters.store = str(q.store)
    filters.job = str(q.job)
    const status = str(q.status)
    filters.status = ARCHIVE_STATUSES.includes(status as ArchiveStatus)
      ? (status as ArchiveStatus)
      : null
    const after = Number(q.after)
    const before = Number(q.before)
    filters.range = after > 0 && before >= after ? [after, before] : null
    filters.q = str(q.q) ?? ''
  }

  const asQuery = computed(() => {
    const q: Record<string, string> = {}
    if (filters.target) q.target = filters.target
    if (filters.store) q.store = filters.store
    if (filters.job) q.job = filters.job
    if (filters.status) q.status = filters.status
    if (filters.range) {
      q.after = String(filters.range[0])
      q.before = String(filters.range[1])
    }
    if (filters.q.trim()) q.q = filters.q.trim()
    return q
  })
  const filtering = useQueryFilters('archives', fromQuery, asQuery)
  function clearFilters() {
    Object.assign(filters, {
      target: null,
      store: null,
      job: null,
      status: null,
      range: null,
      q: '',
    })
  }

  /** What the API filters; free text is matched here. */
  const apiQuery = computed(() => ({
    target: filters.target ?? undefined,
    store: filters.store ?? undefined,
    job: filters.job ?? undefined,
    status: filters.status ?? undefined,
    after: filters.range ? apiDay(filters.range[0]) : undefined,
    before: filters.range ? apiDay(nextDay(filters.range[1])) : undefined,
  }))
  return { filters, asQuery, filtering, clearFilters, apiQuery }
}
