// bulwark list|show|edit|delete|restore|verify|download archive (ls archive UUID [PATH]
// lists a directory archive's folder: trees.ts).
import { resolve as resolvePath } from 'node:path'
import {
  ARCHIVE_STATUSES,
  RESTORE_CONFLICTS,
  type Archive,
  type ArchiveRestoreInput,
  type ArchiveStatus,
  type RestoreConflict,
} from '../../contract'
import type { Command, Context } from '../command'
import { UsageError } from '../errors'
import {
  fmtDate,
  fmtDay,
  fmtSize,
  parseDay,
  parseInteger,
  plural,
  shortUuid,
  truncate,
} from '../format'
import { label, resolveRef, type Named } from '../refs'
import { UUID_ARG, owner, ownerFlag, printDone } from './common'
import { downloadCommand } from './download'
import { FOLLOW_DETAILS, followFlag, followTask } from './follow'
import { listTree } from './trees'

const resolve = (ctx: Context) =>
  resolveRef('archive', ctx.args[0] ?? '', () => ctx.client.listArchives())

function status(ctx: Context): ArchiveStatus | undefined {
  const s = ctx.flags.str('status')
  if (s === undefined) return undefined
  if (!(ARCHIVE_STATUSES as readonly string[]).includes(s)) {
    throw new UsageError(
      `--status must be one of ${ARCHIVE_STATUSES.join(', ')} (got "${s}")`,
      ctx.command,
    )
  }
  return s as ArchiveStatus
}

/** "+12.3 MiB": the stored bytes the archive added to its store (its new chunks). */
const newBytes = (a: Archive) =>
  a.new_bytes === null || a.new_bytes === undefined ? null : `+${fmtSize(a.new_bytes)}`

/** "vault, 12 chunks" / "tree, 186 chunks" / "plain" for `show archive`. */
function formatLine(a: Archive): string | null {
  if (!a.format) return null
  const n = a.chunk_count
  return (a.format === 'vault' || a.format === 'tree') && n !== null && n !== undefined
    ? `${a.format}, ${plural(n, 'chunk')}`
    : a.format
}

/** "3.1 MiB, +1.2 MiB new": what the archive's chunks take in the store, and what it added. */
function storedLine(a: Archive): string | null {
  const stored =
    a.stored_bytes === null || a.stored_bytes === undefined ? null : fmtSize(a.stored_bytes)
  const added = newBytes(a)
  if (stored === null) return added === null ? null : `${added} new`
  return added === null ? stored : `${stored}, ${added} new`
}

const lists = (ctx: Context): Record<'target' | 'store' | 'job', () => Promise<Named[]>> => ({
  target: () => ctx.client.listTargets(),
  store: () => ctx.client.listStores(),
  job: () => ctx.client.listJobs(),
})

export const archiveCommands: Command[] = [
  {
    verb: 'list',
    noun: 'archive',
    args: [
      { ...UUID_ARG('archive'), optional: true },
      { name: 'PATH', help: 'a folder (or file) inside it; default: its root', optional: true },
    ],
    summary: 'list archives, newest first; with UUID, the files in a directory archive (ls)',
    usages: [
      '[--target REF] [--store REF] [--job REF] [--after YYYYMMDD] [--before YYYYMMDD] [--status STATUS] [--limit N]',
      'UUID [PATH] [--limit N]',
    ],
    details:
      'With an archive UUID (also written: bulwark ls archive UUID [PATH]) it lists a folder of a\n' +
      'directory archive as ls -l would: mode, size (a folder: its entry count), modification\n' +
      'time, name (folders end with "/", symlinks show "-> target"). A file lists as itself. All\n' +
      "entries are listed (the pages are followed) unless --limit N. With --json: the API's page.",
    flags: [
      { name: 'target', value: 'REF', help: 'only archives of this target' },
      { name: 'store', value: 'REF', help: 'only archives in this store' },
      { name: 'job', value: 'REF', help: 'only archives made by this job' },
      { name: 'after', value: 'YYYYMMDD', help: 'only archives taken on or after this day' },
      { name: 'before', value: 'YYYYMMDD', help: 'only archives taken before this day' },
      { name: 'status', value: 'STATUS', help: `one of ${ARCHIVE_STATUSES.join(', ')}` },
      { name: 'limit', value: 'N', help: 'at most N archives' },
    ],
    async run(ctx) {
      const f = ctx.flags
      if (ctx.args.length > 0) {
        const filters = ['target', 'store', 'job', 'after', 'before', 'status'].filter((n) =>
          f.has(n),
        )
        if (filters.length > 0) {
          throw new UsageError(
            `--${filters[0]} filters the list of archives; it means nothing with an archive UUID`,
            ctx.command,
          )
        }
        return listTree(ctx)
      }
      const after = f.str('after')
      const before = f.str('before')
      const limit = f.str('limit')
      const query = {
        status: status(ctx),
        after: after === undefined ? undefined : parseDay(after, '--after'),
        before: before === undefined ? undefined : parseDay(before, '--before'),
        limit: limit === undefined ? undefined : parseInteger(limit, '--limit', 1),
      }
      const refs = await Promise.all(
        (['target', 'store', 'job'] as const)
          .filter((p) => f.has(p))
          .map(
            async (p) => [p, (await resolveRef(p, f.str(p) ?? '', lists(ctx)[p])).uuid] as const,
          ),
      )
      const archives = await ctx.client.listArchives({ ...query, ...Object.fromEntries(refs) })
      if (ctx.json) return ctx.out.json(archives)
      // Fits 120 columns with names up to 16 characters; notes run off the end.
      ctx.out.table(
        ['UUID', 'TAKEN', 'TARGET', 'STORE', 'STATUS', 'SIZE', 'NEW', 'FORMAT', 'EXPIRES', 'NOTES'],
        archives.map((a) => [
          shortUuid(a.uuid),
          fmtDate(a.taken_at),
          truncate(a.target_name ?? a.origin_target_name ?? shortUuid(a.target_uuid), 16),
          truncate(a.store_name ?? shortUuid(a.store_uuid), 16),
          a.status,
          fmtSize(a.size),
          newBytes(a),
          a.format,
          fmtDay(a.expires_at),
          truncate(a.notes, 30),
        ]),
        'no archives',
      )
    },
  },
  {
    verb: 'show',
    noun: 'archive',
    args: [UUID_ARG('archive')],
    summary: 'show one archive',
    async run(ctx) {
      const a = await ctx.client.getArchive((await resolve(ctx)).uuid)
      if (ctx.json) return ctx.out.json(a)
      ctx.out.pairs([
        ['UUID', a.uuid],
        ['Status', a.status],
        ['Taken', fmtDate(a.taken_at, true)],
        ['Expires', fmtDate(a.expires_at, true)],
        ['Size', fmtSize(a.size)],
        ['Format', formatLine(a)],
        ['Stored', storedLine(a)],
        ['Job', a.job_uuid],
        ['Target', targetLine(a)],
        ['Taken of', a.origin_target_location ?? '(not recorded)'],
        ['Store', `${a.store_name ?? '(deleted)'} (${a.store_plugin ?? '?'}, ${a.store_uuid})`],
        ['Store key', a.store_key],
        ['Notes', a.notes],
      ])
    },
  },
  {
    verb: 'edit',
    noun: 'archive',
    args: [UUID_ARG('archive')],
    summary: "change an archive's notes",
    flags: [
      { name: 'notes', value: 'TEXT', required: true, help: 'notes, like "before migration 42"' },
    ],
    async run(ctx) {
      const ref = await resolve(ctx)
      const res = await ctx.client.updateArchive(ref.uuid, { notes: ctx.flags.str('notes') ?? '' })
      printDone(ctx, res, 'updated', 'archive', ref)
    },
  },
  {
    verb: 'delete',
    noun: 'archive',
    args: [UUID_ARG('archive')],
    summary: 'delete an archive now, before it expires (a purge task removes its data)',
    details:
      'The archive is marked expired at once and a purge task removes its data from the store;\n' +
      'then it is listed as purged. Watch the purge with:  bulwark show task TASK_UUID --follow',
    async run(ctx) {
      const ref = await resolve(ctx)
      const res = await ctx.client.deleteArchive(ref.uuid)
      if (ctx.json || !res.task_uuid) return printDone(ctx, res, 'deleted', 'archive', ref)
      ctx.out.line(`deleted archive ${label(ref)}; purge task ${res.task_uuid} removes its data`)
    },
  },
  {
    verb: 'restore',
    noun: 'archive',
    args: [UUID_ARG('archive')],
    summary: 'restore an archive (to its own target unless --to) and print the task uuid',
    flags: [
      {
        name: 'to',
        value: 'TARGET|DIR',
        help: 'restore into this target (uuid, prefix or name), or, for a directory archive, into this absolute directory',
      },
      {
        name: 'path',
        value: 'P',
        multi: true,
        help: 'directory archives: restore only this file or folder (relative to the archive root)',
      },
      {
        name: 'conflict',
        value: 'WHAT',
        help: 'directory archives, where a file exists: refuse (default), overwrite or keep-both',
      },
      ownerFlag,
      followFlag,
    ],
    details:
      'Restoring overwrites data in the target. Follow the task later with:\n' +
      '  bulwark show task TASK_UUID --follow\n\n' +
      'A directory archive can be restored in part: --path docs/report.odt --path photos picks\n' +
      'files and folders (see them with: bulwark ls archive UUID [PATH]). --to /abs/dir (or ./dir,\n' +
      'made absolute here) restores into that directory, created if missing, instead of the\n' +
      "target's own; any other --to names a target. Existing files stop the restore before anything is written\n" +
      'unless --conflict overwrite (replace them) or keep-both (the restored copy is written\n' +
      `beside them as name.restored-YYYYMMDD-HHMMSS).\n\n${FOLLOW_DETAILS}`,
    async run(ctx) {
      const ref = await resolve(ctx)
      const to = ctx.flags.str('to')
      const body: ArchiveRestoreInput = {}
      // A directory is written as a path ("/srv/x", "./x"); anything else names a target.
      if (to !== undefined && /^(?:\/|\.\.?(?:\/|$))/.test(to)) body.to = resolvePath(to)
      else if (to !== undefined) {
        body.target = (await resolveRef('target', to, () => ctx.client.listTargets())).uuid
      }
      const paths = ctx.flags.all('path')
      if (paths.length > 0) body.paths = paths
      const conflict = ctx.flags.str('conflict')
      if (conflict !== undefined) {
        if (!(RESTORE_CONFLICTS as readonly string[]).includes(conflict)) {
          throw new UsageError(
            `--conflict must be one of ${RESTORE_CONFLICTS.join(', ')} (got "${conflict}")`,
            ctx.command,
          )
        }
        body.conflict = conflict as RestoreConflict
      }
      const who = owner(ctx)
      if (who) body.owner = who
      const restore = () => ctx.client.restoreArchive(ref.uuid, body)
      if (ctx.flags.has('follow')) return followTask(ctx, async () => (await restore()).task_uuid)
      const res = await restore()
      if (ctx.json) ctx.out.json(res)
      else ctx.out.line(res.task_uuid)
    },
  },
  {
    verb: 'verify',
    noun: 'archive',
    args: [UUID_ARG('archive')],
    summary: 'read an archive back from its store and check every byte; print the task uuid',
    flags: [ownerFlag, followFlag],
    details:
      'The verify task reads every chunk of the archive and authenticates it, without restoring\n' +
      'anything. A damaged or missing chunk fails the task, names the chunk, and marks the archive\n' +
      'invalid; a later verify that finds it whole marks it valid again.\n\n' +
      `${FOLLOW_DETAILS}`,
    async run(ctx) {
      const ref = await resolve(ctx)
      const who = owner(ctx)
      const verify = () => ctx.client.verifyArchive(ref.uuid, who ? { owner: who } : {})
      if (ctx.flags.has('follow')) return followTask(ctx, async () => (await verify()).task_uuid)
      const res = await verify()
      if (ctx.json) ctx.out.json(res)
      else ctx.out.line(res.task_uuid)
    },
  },
  downloadCommand,
]

/** The target as it is now, or as the archive remembers it once the target is gone. */
function targetLine(a: Archive): string {
  const what = `(${a.target_plugin ?? '?'}, ${a.target_uuid})`
  if (a.target_name !== null) {
    const renamed =
      a.origin_target_name && a.origin_target_name !== a.target_name
        ? `, named ${a.origin_target_name} then`
        : ''
    return `${a.target_name} ${what.slice(0, -1)}${renamed})`
  }
  if (a.origin_target_name) return `${a.origin_target_name} ${what} — that target is deleted`
  return `(deleted) ${what}`
}
