// A list page's filters in its URL (/archives?target=…&q=…), so other pages
// can link to a selection, and its table's pages, back to the first when the
// filters change.
import type { PaginationProps } from 'naive-ui'
import { computed, reactive, watch, type ComputedRef, type WatchSource } from 'vue'
import { useRoute, useRouter, type LocationQuery } from 'vue-router'

/** A query parameter as a non-empty string, or null. */
export const queryString = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null)

const sameQuery = (a: LocationQuery, b: Record<string, string>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a[k] === v)

/**
 * Keeps the filters and the URL in step: `fromQuery` sets the filters from the
 * query, now and when a link changes it while the page (route `name`) shows,
 * and `asQuery`, the filters as a query, replaces the URL's as they change.
 * Returns whether any filter is set.
 */
export function useQueryFilters(
  name: string,
  fromQuery: (q: LocationQuery) => void,
  asQuery: ComputedRef<Record<string, string>>,
) {
  const route = useRoute()
  const router = useRouter()
  fromQuery(route.query)
  watch(asQuery, (q) => {
    if (!sameQuery(route.query, q)) void router.replace({ query: q })
  })
  watch(
    () => route.query,
    (q) => {
      if (route.name === name && !sameQuery(q, asQuery.value)) fromQuery(q)
    },
  )
  return computed(() => Object.keys(asQuery.value).length > 0)
}

/** A table's pagination, `pageSize` rows at first, back on page 1 when `reset` changes. */
export function usePagination(pageSize: number, pageSizes: number[], reset: WatchSource) {
  const pagination = reactive<PaginationProps>({
    page: 1,
    pageSize,
    showSizePicker: true,
    pageSizes,
    onUpdatePage: (p: number) => (pagination.page = p),
    onUpdatePageSize: (s: number) => {
      pagination.pageSize = s
      pagination.page = 1
    },
  })
  watch(reset, () => (pagination.page = 1))
  return pagination
}
