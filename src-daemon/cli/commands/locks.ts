// bulwark list locks STORE, bulwark break lock STORE LOCK_ID: the lock objects
// in a store's vault (locks/<id>). GC, rescan, import and recovery hold an
// exclusive one; backups, restores and verifies a shared one. A lock whose
// holder stopped refreshing it (or whose process on the daemon's host is gone)
// is stale and may be broken; a live one only with --force.
import { ApiError } from '../../client'
import type { StoreLock } from '../../contract'
import type { Command, Context } from '../command'
import { CliError, UsageError } from '../errors'
import { fmtDate, fmtDuration } from '../format'
import { formatTable } from '../output'
import { MIN_PREFIX, label, resolveRef, type Resolved } from '../refs'

const STORE_ARG = {
  name: 'STORE',
  help: 'the store: its uuid, a unique uuid prefix (4+ characters) or its exact name',
}

/** How much of a lock id the table shows; any unique prefix of 4+ digits names it. */
const SHORT_ID = 8

const resolveStore = (ctx: Context) =>
  resolveRef('store', ctx.args[0] ?? '', () => ctx.client.listStores())

const kindOf = (l: StoreLock) => (l.exclusive ? 'exclusive' : 'shared')

const holderOf = (l: StoreLock) =>
  `${l.host || 'unknown host'}/${l.pid || '?'}${l.ours ? ' (this daemon)' : ''}`

/** One line about a lock, for messages. */
function describe(l: StoreLock): string {
  return (
    `the ${kindOf(l)} "${l.operation}" lock ${l.id}, held by pid ${l.pid || '?'} on ` +
    `${l.host || 'an unknown host'} since ${fmtDate(l.created_at, true)}, ` +
    `last heartbeat ${fmtDate(l.refreshed_at, true)}`
  )
}

/** The message for a live lock: what holds it, and when --force is right. */
function liveLockMessage(store: Resolved, l: StoreLock): string {
  const lease = l.lease_seconds > 0 ? ` (lease ${fmtDuration(l.lease_seconds)})` : ''
  const host = l.host || 'an unknown host'
  return (
    `lock ${l.id} of store ${label(store)} is not stale: it is held by a running operation,\n` +
    `the ${kindOf(l)} "${l.operation}" lock of pid ${l.pid || '?'} on ${host}, taken ` +
    `${fmtDate(l.created_at, true)}, last heartbeat ${fmtDate(l.refreshed_at, true)}${lease}.\n` +
    'Breaking it would let other work on the store run beside that operation and can damage ' +
    'the vault.\nWait for it to finish; pass --force only if that holder is certainly dead ' +
    `(its process gone for good on ${host}):\n` +
    `  bulwark break lock ${store.uuid} ${l.id} --force`
  )
}

/** LOCK_ID: a whole lock id, or a unique prefix of one (4+ hex digits). */
function pickLock(store: Resolved, ref: string, locks: readonly StoreLock[]): StoreLock {
  const want = ref.toLowerCase()
  const exact = locks.find((l) => l.id === want)
  if (exact) return exact
  if (want.length < MIN_PREFIX) {
    throw new CliError(`a lock id prefix needs at least ${MIN_PREFIX} characters, not "${ref}"`)
  }
  const matching = locks.filter((l) => l.id.startsWith(want))
  const [only] = matching
  if (matching.length === 1 && only) return only
  if (matching.length > 1) {
    const table = formatTable(
      ['ID', 'OPERATION', 'HOLDER'],
      matching.map((l) => [l.id, l.operation, holderOf(l)]),
    )
      .trimEnd()
      .replace(/^/gm, '  ')
    throw new CliError(
      `${matching.length} locks of store ${label(store)} have ids starting with "${ref}"; ` +
        `use more of the id:\n${table}`,
    )
  }
  const known =
    locks.length === 0
      ? ' (it has no locks)'
      : `; its locks: ${locks.map((l) => l.id.slice(0, SHORT_ID)).join(', ')}`
  throw new CliError(`store ${label(store)} has no lock matching "${ref}"${known}`)
}

/** Asks on the terminal; anything but y or yes keeps the lock. */
async function confirmed(ctx: Context, l: StoreLock): Promise<boolean> {
  ctx.out.note(
    `About to break ${describe(l)}${l.stale ? ' (stale)' : ', which is NOT stale (--force)'}.\n` +
      'Break it? [y/N]',
  )
  const answer = (await ctx.stdin.readLine()).trim().toLowerCase()
  return answer === 'y' || answer === 'yes'
}

export const lockCommands: Command[] = [
  {
    verb: 'list',
    noun: 'lock',
    args: [STORE_ARG],
    summary: "list the locks in a store's vault: what holds them, since when, stale or not",
    details:
      'GC, rescan, import and vault recovery hold an exclusive lock; backups, restores and verifies\n' +
      'a shared one. Each holder refreshes its lock (a heartbeat); one that has not been refreshed\n' +
      'within its lease, or whose process on the same host is gone, is stale: the next operation\n' +
      'breaks it by itself, or:  bulwark break lock STORE LOCK_ID\n' +
      'With --json: the API\'s {"locks":[...]} (full ids, lease_seconds, daemon, ours).',
    async run(ctx) {
      const store = await resolveStore(ctx)
      const res = await ctx.client.listLocks(store.uuid)
      if (ctx.json) return ctx.out.json(res)
      ctx.out.table(
        ['ID', 'OPERATION', 'HOLDER', 'SINCE', 'LAST HEARTBEAT', 'STALE'],
        res.locks.map((l) => [
          l.id.slice(0, SHORT_ID),
          `${l.operation} (${kindOf(l)})`,
          holderOf(l),
          fmtDate(l.created_at, true),
          fmtDate(l.refreshed_at, true),
          l.stale,
        ]),
        'no locks',
      )
    },
  },
  {
    verb: 'break',
    noun: 'lock',
    args: [
      STORE_ARG,
      { name: 'LOCK_ID', help: 'the lock: its id or a unique prefix of it (4+ characters)' },
    ],
    summary: 'remove a lock its holder left behind (a live one only with --force)',
    flags: [
      {
        name: 'force',
        help: 'break it even though it is not stale: only if its holder is certainly dead',
      },
      { name: 'yes', aliases: ['y'], help: 'do not ask for confirmation' },
    ],
    details:
      'The locks and their ids are listed by:  bulwark list locks STORE\n' +
      'A stale lock is broken after a confirmation on the terminal (--yes skips it; without a\n' +
      'terminal, --yes is required). A lock that is not stale is held by a running operation and\n' +
      'is refused: breaking it would let other work run beside that operation and can damage the\n' +
      'vault. Give --force only when its holder is certainly dead (a daemon on another host that\n' +
      'was shut down for good, say); the holder, if it is still alive, stops its work.',
    async run(ctx) {
      const force = ctx.flags.has('force')
      const yes = ctx.flags.has('yes')
      const ref = ctx.args[1] ?? ''
      if (!/^[0-9a-f]+$/i.test(ref)) {
        throw new UsageError(
          `"${ref}" is not a lock id: give the id from "bulwark list locks STORE", or a unique ` +
            `prefix of it (${MIN_PREFIX}+ hex digits)`,
          ctx.command,
        )
      }
      if (!yes && !ctx.stdin.isTTY) {
        throw new UsageError(
          `"bulwark ${ctx.command}" asks for confirmation on a terminal, but stdin is not one; ` +
            'give --yes to break the lock without asking',
          ctx.command,
        )
      }
      const store = await resolveStore(ctx)
      const lock = pickLock(store, ref, (await ctx.client.listLocks(store.uuid)).locks)
      if (!lock.stale && !force) throw new CliError(liveLockMessage(store, lock))
      if (!yes && !(await confirmed(ctx, lock))) {
        throw new CliError(`kept ${describe(lock)}: nothing was broken`)
      }
      const res = await ctx.client
        .breakLock(store.uuid, lock.id, { force })
        .catch((err: unknown) => {
          if (!(err instanceof ApiError)) throw err
          // Refreshed since it was listed: its holder is alive after all.
          if (err.status === 409 && !force) {
            throw new CliError(liveLockMessage(store, { ...lock, stale: false }))
          }
          if (err.status === 404 && err.field === 'id') {
            throw new CliError(
              `lock ${lock.id} is no longer in store ${label(store)}: its holder released it, ` +
                'or someone else broke it',
            )
          }
          throw err
        })
      if (ctx.json) return ctx.out.json(res)
      const how = lock.stale ? 'stale' : 'live (forced)'
      ctx.out.line(
        `broke the ${how} ${kindOf(lock)} "${lock.operation}" lock ${lock.id} of store ${label(store)}`,
      )
    },
  },
]
