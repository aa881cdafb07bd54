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
import { fmtDate, fmtDay, fmtSize, plural, shortUuid, truncate } from '../format'
import { label, resolveRef, type Named } from '../refs'
import { UUID_ARG, owner, ownerFlag, printDone } from './common'
import { downloadCommand } from './download'
import { FOLLOW_DETAILS, followFlag } from './follow'
import { action, defineNoun, edit, list, show, startTask } from './noun'
import { listTree } from './trees'

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

const FILTERS = ['target', 'store', 'job', 'after', 'before', 'status']

/** The archives the filter flags name (an ls of one archive's folder with a UUID). */
async function listArchives(ctx: Context): Promise<Archive[]> {
  const f = ctx.flags
  const query = {
    status: f.choice<ArchiveStatus>('status'),
    after: f.day('after'),
    before: f.day('before'),
    limit: f.int('limit'),
  }
  const refs = await Promise.all(
    (['target', 'store', 'job'] as const)
      .filter((p) => f.has(p))
      .map(async (p) => [p, (await resolveRef(p, f.str(p) ?? '', lists(ctx)[p])).uuid] as const),
  )
  return ctx.client.listArchives({ ...query, ...Object.fromEntries(refs) })
}

/** A directory is written as a path ("/srv/x", "./x"); anything else names a target. */
async function restoreBody(ctx: Context): Promise<ArchiveRestoreInput> {
  const to = ctx.flags.str('to')
  const body: ArchiveRestoreInput = {}
  if (to !== undefined && /^(?:\/|\.\.?(?:\/|$))/.test(to)) body.to = resolvePath(to)
  else if (to !== undefined) {
    body.target = (await resolveRef('target', to, () => ctx.client.listTargets())).uuid
  }
  const paths = ctx.flags.all('path')
  if (paths.length > 0) body.paths = paths
  const conflict = ctx.flags.choice<RestoreConflict>('conflict')
  if (conflict !== undefined) body.conflict = conflict
  const who = owner(ctx)
  if (who) body.owner = who
  return body
}

const RESTORE_DETAILS =
  'Restoring overwrites data in the target. Follow the task later with:\n' +
  '  bulwark show task TASK_UUID --follow\n\n' +
  'A directory archive can be restored in part: --path docs/report.odt --path photos picks\n' +
  'files and folders (see them with: bulwark ls archive UUID [PATH]). --to /abs/dir (or ./dir,\n' +
  'made absolute here) restores into that directory, created if missing, instead of the\n' +
  "target's own; any other --to names a target. Existing files stop the restore before anything is written\n" +
  'unless --conflict overwrite (replace them) or keep-both (the restored copy is written\n' +
  `beside them as name.restored-YYYYMMDD-HHMMSS).\n\n${FOLLOW_DETAILS}`

export const archiveCommands: Command[] = [
  ...defineNoun({
    noun: 'archive',
    ref: 'UUID',
    refs: (c) => c.listArchives(),
    verbs: [
      list({
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
          {
            name: 'after',
            value: 'YYYYMMDD',
            type: 'day',
            help: 'only archives taken on or after this day',
          },
          {
            name: 'before',
            value: 'YYYYMMDD',
            type: 'day',
            help: 'only archives taken before this day',
          },
          {
            name: 'status',
            value: 'STATUS',
            choices: ARCHIVE_STATUSES,
            help: `one of ${ARCHIVE_STATUSES.join(', ')}`,
          },
          { name: 'limit', value: 'N', type: 'int', min: 1, help: 'at most N archives' },
        ],
        withArgs(ctx) {
          const filter = FILTERS.find((n) => ctx.flags.has(n))
          if (filter !== undefined) {
            throw new UsageError(
              `--${filter} filters the list of archives; it means nothing with an archive UUID`,
              ctx.command,
            )
          }
          return listTree(ctx)
        },
        fetch: listArchives,
        // Fits 120 columns with names up to 16 characters; notes run off the end.
        columns: [
          ['UUID', (a) => shortUuid(a.uuid)],
          ['TAKEN', (a) => fmtDate(a.taken_at)],
          [
            'TARGET',
            (a) => truncate(a.target_name ?? a.origin_target_name ?? shortUuid(a.target_uuid), 16),
          ],
          ['STORE', (a) => truncate(a.store_name ?? shortUuid(a.store_uuid), 16)],
          ['STATUS', (a) => a.status],
          ['SIZE', (a) => fmtSize(a.size)],
          ['NEW', newBytes],
          ['FORMAT', (a) => a.format],
          ['EXPIRES', (a) => fmtDay(a.expires_at)],
          ['NOTES', (a) => truncate(a.notes, 30)],
        ],
        empty: 'no archives',
      }),
      show({
        summary: 'show one archive',
        get: (c, uuid) => c.getArchive(uuid),
        fields: [
          ['UUID', (a) => a.uuid],
          ['Status', (a) => a.status],
          ['Taken', (a) => fmtDate(a.taken_at, true)],
          ['Expires', (a) => fmtDate(a.expires_at, true)],
          ['Size', (a) => fmtSize(a.size)],
          ['Format', formatLine],
          ['Stored', storedLine],
          ['Job', (a) => a.job_uuid],
          ['Target', targetLine],
          ['Taken of', (a) => a.origin_target_location ?? '(not recorded)'],
          [
            'Store',
            (a) => `${a.store_name ?? '(deleted)'} (${a.store_plugin ?? '?'}, ${a.store_uuid})`,
          ],
          ['Store key', (a) => a.store_key],
          ['Notes', (a) => a.notes],
        ],
      }),
      edit({
        summary: "change an archive's notes",
        flags: [
          {
            name: 'notes',
            value: 'TEXT',
            required: true,
            help: 'notes, like "before migration 42"',
          },
        ],
        load: async () => undefined,
        body: (ctx) => ({ notes: ctx.flags.str('notes') ?? '' }),
        call: (ctx, uuid, body) => ctx.client.updateArchive(uuid, body),
      }),
      action({
        verb: 'delete',
        summary: 'delete an archive now, before it expires (a purge task removes its data)',
        details:
          'The archive is marked expired at once and a purge task removes its data from the store;\n' +
          'then it is listed as purged. Watch the purge with:  bulwark show task TASK_UUID --follow',
        call: (c, uuid) => c.deleteArchive(uuid),
        print(ctx, res, ref) {
          if (ctx.json || !res.task_uuid) return printDone(ctx, res, 'deleted', 'archive', ref)
          ctx.out.line(
            `deleted archive ${label(ref)}; purge task ${res.task_uuid} removes its data`,
          )
        },
      }),
      startTask({
        verb: 'restore',
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
            choices: RESTORE_CONFLICTS,
            help: 'directory archives, where a file exists: refuse (default), overwrite or keep-both',
          },
          ownerFlag,
          followFlag,
        ],
        details: RESTORE_DETAILS,
        body: restoreBody,
        call: (c, uuid, body) => c.restoreArchive(uuid, body),
      }),
      startTask({
        verb: 'verify',
        summary: 'read an archive back from its store and check every byte; print the task uuid',
        flags: [ownerFlag, followFlag],
        details:
          'The verify task reads every chunk of the archive and authenticates it, without restoring\n' +
          'anything. A damaged or missing chunk fails the task, names the chunk, and marks the archive\n' +
          'invalid; a later verify that finds it whole marks it valid again.\n\n' +
          `${FOLLOW_DETAILS}`,
        body(ctx) {
          const who = owner(ctx)
          return who ? { owner: who } : {}
        },
        call: (c, uuid, body) => c.verifyArchive(uuid, body),
      }),
    ],
  }),
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
