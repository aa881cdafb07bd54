// A tree archive's files on screen: paths inside an archive (breadcrumbs,
// parents), entries as `ls -l` reads them, a directory listed a page at a
// time or a search by name, the rows ticked for a restore, and the words a
// partial restore's confirmation uses. Paths follow the contract: relative,
// '/'-separated, '' for the root.
import { computed, ref, shallowRef, type Ref } from 'vue'
import type {
  RestoreConflict,
  TreeDiffEntry,
  TreeEntry,
  TreePage,
} from '../../../src-daemon/contract'
import { useConnection } from '../stores/connection'

export { modeString } from '../../../src-daemon/contract'
import { describeError } from './errors'
import { fmtBytes, plural } from './format'

/** Entries asked for at a time: a page long enough to scroll, short enough to answer at once. */
export const TREE_PAGE = 200

/** The directory holding `path` ('' for an entry at the root). */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/')
  return i < 0 ? '' : path.slice(0, i)
}

/** Breadcrumbs of a directory: the root, then each directory down to it, with its path. */
export function crumbs(path: string): { name: string; path: string }[] {
  const out = [{ name: 'root', path: '' }]
  if (path === '') return out
  const parts = path.split('/')
  parts.forEach((name, i) => out.push({ name, path: parts.slice(0, i + 1).join('/') }))
  return out
}

/** "+1.2 KiB", "−300 B", "±0 B": a size change with its sign. */
export function fmtDelta(delta: number): string {
  if (delta === 0) return '±0 B'
  return `${delta > 0 ? '+' : '−'}${fmtBytes(Math.abs(delta))}`
}

/** Where a diff's entry is browsed from: a directory itself, a file's parent. */
export const browseTarget = (e: Pick<TreeDiffEntry, 'path' | 'type'>) =>
  e.type === 'dir' ? e.path : parentOf(e.path)

/** Entries that download as themselves (a directory comes as a tar or zip). */
export const downloadable = (e: Pick<TreeEntry, 'type'>) =>
  e.type === 'file' || e.type === 'hardlink' || e.type === 'dir'

/**
 * What a person types in the search box, as the find API's glob: words with
 * no wildcard match anywhere in a name ("report" → "*report*"), so that
 * typing part of a name finds it; a pattern with * or ? is used as it is.
 */
export function searchPattern(text: string): string {
  const q = text.trim()
  return /[*?]/.test(q) ? q : `*${q}*`
}

/** An absolute path on the daemon's machine: "/…", "C:\…" or "\\server\share". */
export const isAbsolutePath = (p: string) => /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(p.trim())

/** The directory a files target's endpoint points at, if it says. */
export function endpointDirectory(endpoint: string | null | undefined): string | null {
  if (!endpoint) return null
  try {
    const e = JSON.parse(endpoint) as { path?: unknown }
    return typeof e.path === 'string' && e.path.trim() !== '' ? e.path : null
  } catch {
    return null
  }
}

export const CONFLICT_LABEL: Record<RestoreConflict, string> = {
  refuse: 'Stop if a file exists',
  overwrite: 'Overwrite existing files',
  'keep-both': 'Keep both (restored copy gets a suffix)',
}

/** What happens to files already there, as the end of the confirmation's sentence. */
const CONFLICT_CONSEQUENCE: Record<RestoreConflict, string> = {
  refuse: 'if any file already exists there, nothing is written',
  overwrite: 'existing files are overwritten',
  'keep-both':
    'where a file exists, the restored copy is written beside it as name.restored-<date>',
}

/**
 * The confirmation's sentence: "Restores 3 items into /home/ann/docs;
 * existing files are overwritten." One item is named; no paths is the whole archive.
 */
export function restoreSummary(paths: string[], into: string, conflict: RestoreConflict): string {
  const what =
    paths.length === 0
      ? 'the whole archive'
      : paths.length === 1
        ? paths[0]
        : plural(paths.length, 'item')
  return `Restores ${what} into ${into}; ${CONFLICT_CONSEQUENCE[conflict]}.`
}

/**
 * The paths a restore is asked for: sorted, without those inside another
 * ticked directory (restoring the directory restores them already).
 */
export function restorePaths(selected: Iterable<string>): string[] {
  const all = [...new Set(selected)].sort()
  return all.filter((p) => !all.some((q) => q !== p && (q === '' || p.startsWith(`${q}/`))))
}

/**
 * A directory of an archive listed a page at a time, or the matches of a
 * search: `entries` so far, `more` while the daemon has another page. A
 * newer request (another directory, another search) wins over an older one
 * still in flight.
 */
export function useTreeListing(uuid: Ref<string>) {
  const conn = useConnection()
  const entries = shallowRef<TreeEntry[]>([])
  const total = ref(0)
  const loading = ref(false)
  const error = ref<string | null>(null)
  const cursor = ref<string | null>(null)
  let fetchPage: ((cursor?: string) => Promise<TreePage>) | null = null
  let seq = 0

  async function load(append: boolean) {
    const mine = ++seq
    const fetch = fetchPage
    if (!fetch) return
    loading.value = true
    try {
      const page = await fetch(append ? (cursor.value ?? undefined) : undefined)
      if (mine !== seq) return
      entries.value = append ? [...entries.value, ...page.entries] : page.entries
      cursor.value = page.next_cursor
      total.value = page.total
      error.value = null
    } catch (err) {
      if (mine !== seq) return
      if (!append) entries.value = []
      error.value = describeError(err)
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  /** Lists directory `path` from its first page. */
  function browse(path: string) {
    const id = uuid.value
    fetchPage = (c) => conn.client.listTree(id, { path, limit: TREE_PAGE, cursor: c })
    cursor.value = null
    return load(false)
  }

  /** Lists the entries whose names match `text` (see searchPattern) from the first page. */
  function find(text: string) {
    const id = uuid.value
    const pattern = searchPattern(text)
    fetchPage = (c) => conn.client.findInTree(id, { pattern, limit: TREE_PAGE, cursor: c })
    cursor.value = null
    return load(false)
  }

  const more = computed(() => cursor.value !== null)
  const loadMore = () => (cursor.value ? load(true) : Promise.resolve())
  const reload = () => load(false)

  return { entries, total, loading, error, more, browse, find, loadMore, reload }
}

/** Ticked paths of an archive, kept while browsing from directory to directory. */
export function useTreeSelection() {
  const selected = ref(new Set<string>())
  const has = (path: string) => selected.value.has(path)
  function set(paths: string[], on: boolean) {
    const next = new Set(selected.value)
    for (const p of paths) {
      if (on) next.add(p)
      else next.delete(p)
    }
    selected.value = next
  }
  const clear = () => (selected.value = new Set())
  const count = computed(() => selected.value.size)
  const paths = computed(() => restorePaths(selected.value))
  return { selected, has, set, clear, count, paths }
}
