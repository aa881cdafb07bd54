// Browsing directory (tree) archives from the command line: `ls archive UUID
// [PATH]` (reached through `list archive`, which lists archives when given
// no UUID), `find archive UUID PATTERN` and `diff archive OLDER NEWER`.
import { modeString, type TreeDiffEntry, type TreeEntry, type TreePage } from '../../contract'
import type { FlagSpec } from '../args'
import type { Command, Context } from '../command'
import { fmtDate, fmtSize } from '../format'
import { resolveRef } from '../refs'
import { UUID_ARG } from './common'

const archiveRef = (ctx: Context, ref: string) =>
  resolveRef('archive', ref, () => ctx.client.listArchives())

/** Every page of a listing (following next_cursor), or the first `limit` entries. */
async function allPages(
  fetch: (q: { limit?: number; cursor?: string }) => Promise<TreePage>,
  limit: number | undefined,
): Promise<TreePage> {
  const first = await fetch(limit === undefined ? {} : { limit: Math.min(limit, 10_000) })
  const entries = [...first.entries]
  let cursor = first.next_cursor
  while (cursor !== null && (limit === undefined || entries.length < limit)) {
    const left = limit === undefined ? undefined : Math.min(limit - entries.length, 10_000)
    const page = await fetch({ cursor, ...(left === undefined ? {} : { limit: left }) })
    entries.push(...page.entries)
    cursor = page.next_cursor
  }
  return { ...first, entries, next_cursor: cursor }
}

const limitFlag: FlagSpec = {
  name: 'limit',
  value: 'N',
  type: 'int',
  min: 1,
  help: 'at most N entries (default: all)',
}
const limitOf = (ctx: Context) => ctx.flags.int('limit')

const entries = (n: number) => `${n} ${n === 1 ? 'entry' : 'entries'}`

function nameCell(e: TreeEntry, full: boolean): string {
  const name = full ? e.path : e.name
  if (e.type === 'dir') return `${name}/`
  if (e.type === 'symlink') return `${name} -> ${e.target ?? ''}`
  if (e.type === 'hardlink') return `${name} => ${e.target ?? ''}`
  return name
}

function printEntries(ctx: Context, page: TreePage, full: boolean, empty: string): void {
  ctx.out.table(
    ['MODE', 'SIZE', 'MODIFIED', 'NAME'],
    page.entries.map((e) => [
      modeString(e.type, e.mode),
      e.type === 'dir' ? entries(e.children ?? 0) : e.type === 'file' ? fmtSize(e.size) : '-',
      fmtDate(e.mtime),
      nameCell(e, full),
    ]),
    empty,
  )
  if (page.next_cursor !== null) {
    ctx.out.note(`(${page.entries.length} of ${page.total}; more with a higher --limit)`)
  }
}

/** `ls archive UUID [PATH]`: one directory of a tree archive (a file lists as itself). */
export async function listTree(ctx: Context): Promise<void> {
  const ref = await archiveRef(ctx, ctx.args[0] ?? '')
  const path = ctx.args[1]
  const page = await allPages(
    (q) => ctx.client.listTree(ref.uuid, { ...q, ...(path === undefined ? {} : { path }) }),
    limitOf(ctx),
  )
  if (ctx.json) return ctx.out.json(page)
  printEntries(ctx, page, false, `${page.path || '/'} is empty`)
}

/** "+1.2 KiB", "-512 B", "±0 B". */
function fmtDelta(delta: number): string {
  if (delta === 0) return '±0 B'
  return `${delta > 0 ? '+' : '-'}${fmtSize(Math.abs(delta))}`
}

const diffPath = (e: TreeDiffEntry) => (e.type === 'dir' ? `${e.path}/` : e.path)

export const treeCommands: Command[] = [
  {
    verb: 'find',
    noun: 'archive',
    args: [UUID_ARG('archive'), { name: 'PATTERN', help: 'a glob such as *.odt or docs/**/*.md' }],
    summary: 'find entries of a directory archive by name',
    flags: [limitFlag],
    details:
      "'*' and '?' match within a name, '**' across folders (also none), case-insensitive. A\n" +
      'pattern without "/" is matched against names, one with "/" against whole paths from the\n' +
      'root: *.txt finds every .txt file, docs/**/*.md every .md under docs. Quote the pattern so\n' +
      'the shell does not expand it. Entries come in path order.',
    async run(ctx) {
      const ref = await archiveRef(ctx, ctx.args[0] ?? '')
      const pattern = ctx.args[1] ?? ''
      const page = await allPages(
        (q) => ctx.client.findInTree(ref.uuid, { pattern, ...q }),
        limitOf(ctx),
      )
      if (ctx.json) return ctx.out.json(page)
      printEntries(ctx, page, true, `nothing matches ${pattern}`)
    },
  },
  {
    verb: 'diff',
    noun: 'archive',
    args: [
      { name: 'OLDER', help: 'the earlier archive (uuid or prefix)' },
      { name: 'NEWER', help: 'the later archive (uuid or prefix)' },
    ],
    summary: 'what changed between two directory archives',
    details:
      'One line per entry: "+ path (size)" added, "- path (size)" removed, "M path (+1.2 KiB)\n' +
      '[content, mode]" modified, with what differs (content, mode, owner, mtime, type, target),\n' +
      'then a summary line. A folder whose only change is its mtime is not listed. The exit\n' +
      "code is 0 whether or not anything changed. With --json: the API's diff.",
    async run(ctx) {
      const older = await archiveRef(ctx, ctx.args[0] ?? '')
      const newer = await archiveRef(ctx, ctx.args[1] ?? '')
      const diff = await ctx.client.diffArchives(newer.uuid, older.uuid)
      if (ctx.json) return ctx.out.json(diff)
      const size = (e: TreeDiffEntry, bytes: number) =>
        e.type === 'file' ? ` (${fmtSize(bytes)})` : ''
      const lines: [string, string][] = [
        ...diff.added.map((e): [string, string] => [e.path, `+ ${diffPath(e)}${size(e, e.size)}`]),
        ...diff.removed.map((e): [string, string] => [
          e.path,
          `- ${diffPath(e)}${size(e, e.old_size)}`,
        ]),
        ...diff.modified.map((e): [string, string] => [
          e.path,
          `M ${diffPath(e)} (${fmtDelta(e.delta)}) [${(e.changes ?? []).join(', ')}]`,
        ]),
      ]
      // One list in path order, as a person reads a tree.
      lines.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      for (const [, line] of lines) ctx.out.line(line)
      const s = diff.summary
      ctx.out.line(
        `${s.added} added (${fmtSize(s.added_bytes)}), ${s.removed} removed (${fmtSize(s.removed_bytes)}), ${s.modified} modified (${fmtDelta(s.modified_delta)})`,
      )
    },
  },
]
