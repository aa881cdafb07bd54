// Restoring definitions: into one vhost (POST /api/definitions/<vhost>,
// created first when missing) or into a whole broker (POST /api/definitions).
// RabbitMQ's import only adds and updates, never deletes; before it runs we
// compare the archive with what the broker has, so the task log says what
// was new, what the archive replaced (policies, parameters, permissions...)
// and what RabbitMQ kept as it was (an existing queue or exchange is never
// changed). Existing users are left alone unless replace_users is on, and
// afterwards every queue, exchange, binding and policy of the archive must
// be on the broker.
import { PluginError } from '../../sdk/errors'
import type { PluginContext } from '../../sdk/types'
import {
  brokerVersion,
  fetchDefinitions,
  postDefinitions,
  quoteVhost,
  request,
  vhostExists,
  vhostPath,
  type RabbitEndpoint,
} from './client'
import {
  diff,
  isWholeBroker,
  label,
  LISTS,
  listOf,
  missing,
  summary,
  vhostSlice,
  VHOST_LISTS,
  withoutVhost,
  type Definitions,
  type Item,
  type ListDiff,
} from './definitions'

/** What undoRestore removes after a failed restore: what this restore was about to create. */
export interface UndoNote {
  vhosts?: string[]
  users?: string[]
}

/** Lists whose existing items RabbitMQ keeps as they are (an import never redeclares them). */
const KEPT = new Set(['queues', 'exchanges'])
/** Cluster identity, not a definition: a restore never gives one broker another's. */
const CLUSTER_ID = 'internal_cluster_id'
/** Checked on the broker after the import. */
const MUST_EXIST = ['vhosts', 'permissions', 'policies', 'queues', 'exchanges', 'bindings']

function names(items: string[], max = 10): string {
  const shown = items.slice(0, max).join(', ')
  return items.length > max ? `${shown} and ${items.length - max} more` : shown
}

/** One log line per list the archive has items in. */
function logDiffs(diffs: ListDiff[], ctx: PluginContext): void {
  for (const d of diffs) {
    const parts: string[] = []
    if (d.created.length) parts.push(`${d.created.length} new`)
    if (d.unchanged.length) parts.push(`${d.unchanged.length} already there as in the archive`)
    if (d.changed.length) {
      const which = names(d.changed.map(([item]) => label(d.list, item)))
      parts.push(
        KEPT.has(d.list)
          ? `${d.changed.length} already there with other properties, kept as the broker has them (RabbitMQ never changes an existing one: delete it and restore again to get the archive's): ${which}`
          : `${d.changed.length} replaced by the archive's: ${which}`,
      )
    }
    if (parts.length) ctx.log(`${d.list.replace(/_/g, ' ')}: ${parts.join('; ')}`)
  }
}

function checkAllThere(archive: Definitions, after: Definitions, where: string): void {
  const lost = missing(archive, after, MUST_EXIST)
  if (lost.length) {
    throw new PluginError(
      `RabbitMQ accepted the definitions but ${where} lacks ${lost.length} of them: ${names(lost)}`,
    )
  }
}

/** Restores into the endpoint's vhost, from a vhost's archive or from that vhost in a broker's. */
async function restoreVhost(
  e: RabbitEndpoint,
  vhost: string,
  archive: Definitions,
  ctx: PluginContext,
): Promise<string> {
  let defs = withoutVhost(archive)
  if (isWholeBroker(archive)) {
    const inArchive = listOf(archive, 'vhosts').map((v) => String(v.name))
    if (!inArchive.includes(vhost)) {
      throw new PluginError(
        `the archive holds a whole broker, without a vhost ${quoteVhost(vhost)} (its vhosts: ${names(inArchive.map(quoteVhost))}); to restore one of them, set the field vhost to its name; to restore the whole broker, leave vhost empty`,
      )
    }
    ctx.log(
      `the archive holds a whole broker: restoring only its vhost ${quoteVhost(vhost)} (exchanges, queues, bindings, policies, parameters; no users or permissions)`,
    )
    defs = vhostSlice(archive, vhost)
  }
  let before: Definitions = {}
  if (await vhostExists(e, ctx, vhost)) {
    before = withoutVhost(await fetchDefinitions(e, ctx, vhost))
  } else {
    ctx.created?.({ vhosts: [vhost] } satisfies UndoNote)
    await request(e, ctx, 'PUT', vhostPath('/vhosts', vhost), 'create a vhost', { body: '{}' })
    ctx.log(`created vhost ${quoteVhost(vhost)}, which did not exist`)
  }
  logDiffs(diff(defs, before, VHOST_LISTS), ctx)
  await postDefinitions(e, ctx, defs, vhost)
  checkAllThere(
    defs,
    withoutVhost(await fetchDefinitions(e, ctx, vhost)),
    `vhost ${quoteVhost(vhost)}`,
  )
  return `vhost ${quoteVhost(vhost)}: ${summary(defs)}`
}

/**
 * The archive's users to import: the ones the broker lacks, and with
 * replace_users also those it has with another password hash or tags.
 */
function usersToImport(
  e: RabbitEndpoint,
  archive: Definitions,
  before: Definitions,
  ctx: PluginContext,
): { users: Item[]; created: string[]; replaced: string[] } {
  const [users] = diff(archive, before, ['users']) as [ListDiff]
  const created = users.created.map((u) => String(u.name))
  const differing = users.changed.map(([u]) => u)
  const listed = names(differing.map((u) => JSON.stringify(u.name)))
  ctx.log(`users: ${created.length} new`)
  if (differing.length && e.replaceUsers) {
    ctx.log(
      `replacing the password and tags of ${differing.length} existing users (replace_users): ${listed}`,
    )
  } else if (differing.length) {
    ctx.log(
      `left ${differing.length} existing users as they are, though the archive has another password or tags for them: ${listed} (set replace_users to give them the archive's)`,
    )
  }
  return {
    users: e.replaceUsers ? [...users.created, ...differing] : users.created,
    created,
    replaced: e.replaceUsers ? differing.map((u) => String(u.name)) : [],
  }
}

/** Restores a whole broker's archive into a broker, leaving existing users alone unless told. */
async function restoreBroker(
  e: RabbitEndpoint,
  archive: Definitions,
  ctx: PluginContext,
): Promise<string> {
  if (!isWholeBroker(archive)) {
    throw new PluginError(
      'the archive holds the definitions of one vhost (it was backed up with the field vhost set), not of a whole broker: set the field vhost to the vhost to restore them into',
    )
  }
  const before = await fetchDefinitions(e, ctx)
  const { users, created, replaced } = usersToImport(e, archive, before, ctx)
  const defs: Definitions = {
    ...archive,
    users,
    global_parameters: listOf(archive, 'global_parameters').filter((p) => p.name !== CLUSTER_ID),
  }
  const others = LISTS.filter((l) => l !== 'users')
  const diffs = diff(defs, before, others)
  const note: UndoNote = {
    vhosts: diffs.find((d) => d.list === 'vhosts')!.created.map((v) => String(v.name)),
    users: created,
  }
  if (note.vhosts!.length || created.length) ctx.created?.({ ...note })
  logDiffs(diffs, ctx)
  await postDefinitions(e, ctx, defs)
  if (replaced.includes(e.user)) {
    ctx.log(
      `the archive replaced the password of "${e.user}", the user this restore logs in as; not checking the result`,
    )
  } else {
    checkAllThere(defs, await fetchDefinitions(e, ctx), 'the broker')
  }
  return `the whole broker: ${summary(archive)}`
}

/** Imports the archive into the endpoint's broker (or vhost); resolves once it is checked there. */
export async function restoreDefinitions(
  e: RabbitEndpoint,
  archive: Definitions,
  ctx: PluginContext,
): Promise<void> {
  const version = await brokerVersion(e, ctx)
  const what =
    e.vhost === undefined
      ? await restoreBroker(e, archive, ctx)
      : await restoreVhost(e, e.vhost, archive, ctx)
  ctx.log(`restored ${what} into RabbitMQ ${version} at ${e.base}`)
}

/** Removes the vhosts and users a failed restore had been about to create; idempotent. */
export async function undoCreated(
  e: RabbitEndpoint,
  note: UndoNote,
  ctx: PluginContext,
): Promise<void> {
  for (const [list, kind] of [
    ['vhosts', 'vhost'],
    ['users', 'user'],
  ] as const) {
    for (const name of note[list] ?? []) {
      const path = vhostPath(`/${list}`, name)
      const res = await request(e, ctx, 'DELETE', path, `delete a ${kind}`, { allow: [404] })
      if (res.status !== 404) {
        ctx.log(`removed ${kind} ${JSON.stringify(name)}, which the failed restore had created`)
      }
    }
  }
}
