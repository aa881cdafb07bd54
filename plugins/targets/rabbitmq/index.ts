// Target `rabbitmq`: a broker's definitions (users, vhosts, permissions,
// exchanges, queues, bindings, policies, parameters, limits), or one vhost's,
// exported through the management HTTP API as deterministic JSON
// (definitions.ts) and imported again into the same or another broker or
// vhost (restore.ts). Messages in queues are not part of it. Plain HTTP with
// global fetch (client.ts); nothing is spawned, nothing written to disk.
import { Readable } from 'node:stream'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import { defineTarget, type Endpoint, type PluginContext } from '../../sdk/types'
import {
  brokerVersion,
  fetchDefinitions,
  noSuchVhost,
  parseEndpoint,
  quoteVhost,
  vhostExists,
  type RabbitEndpoint,
} from './client'
import { parseArchive, serialize, summary, withoutVhost, type Definitions } from './definitions'
import { restoreDefinitions, undoCreated, type UndoNote } from './restore'

/** Slices the archive is streamed in (the whole of it is in memory already; definitions are small). */
const SLICE = 64 * 1024

/** The endpoint's definitions: its vhost's, or the whole broker's. */
async function exportDefinitions(
  e: RabbitEndpoint,
  ctx: PluginContext,
): Promise<{ defs: Definitions; version: string; scope: string }> {
  const version = await brokerVersion(e, ctx)
  if (e.vhost !== undefined && !(await vhostExists(e, ctx, e.vhost))) {
    throw await noSuchVhost(e, ctx, e.vhost)
  }
  const defs = await fetchDefinitions(e, ctx, e.vhost)
  if (e.vhost === undefined) return { defs, version, scope: 'the whole broker' }
  return { defs: withoutVhost(defs), version, scope: `vhost ${quoteVhost(e.vhost)}` }
}

async function backup(endpoint: Endpoint, ctx: PluginContext): Promise<Readable> {
  const e = parseEndpoint(endpoint)
  const { defs, version, scope } = await exportDefinitions(e, ctx)
  const data = serialize(defs)
  ctx.log(
    `exported ${scope} of RabbitMQ ${version} at ${e.base}: ${summary(defs)} (${Math.ceil(data.length / 1024)} KiB of JSON)`,
  )
  let offset = 0
  const stream = new Readable({
    read() {
      const end = Math.min(offset + SLICE, data.length)
      this.push(end > offset ? data.subarray(offset, end) : null)
      offset = end
    },
  })
  const onAbort = () => stream.destroy(new PluginAbortedError())
  ctx.signal.addEventListener('abort', onAbort, { once: true })
  stream.once('close', () => ctx.signal.removeEventListener('abort', onAbort))
  return stream
}

/** The whole archive as text; a broken or aborted stream is a PluginError, not a half import. */
async function readArchive(data: Readable, ctx: PluginContext): Promise<string> {
  const abort = () => data.destroy(new PluginAbortedError())
  ctx.signal.addEventListener('abort', abort, { once: true })
  try {
    if (ctx.signal.aborted) throw new PluginAbortedError()
    const chunks: Buffer[] = []
    for await (const chunk of data) chunks.push(Buffer.from(chunk as Buffer))
    return Buffer.concat(chunks).toString('utf8')
  } catch (err) {
    if (ctx.signal.aborted || err instanceof PluginAbortedError) throw new PluginAbortedError()
    if (err instanceof PluginError) throw err
    const e = err as NodeJS.ErrnoException
    const why = e.code === 'ERR_STREAM_PREMATURE_CLOSE' ? 'it ended early' : e.message
    throw new PluginError(
      `reading the archive failed (${why}); the broker was not changed`,
      'permanent',
      {
        cause: err,
      },
    )
  } finally {
    ctx.signal.removeEventListener('abort', abort)
  }
}

async function restore(endpoint: Endpoint, data: Readable, ctx: PluginContext): Promise<void> {
  try {
    const e = parseEndpoint(endpoint)
    const archive = parseArchive(await readArchive(data, ctx))
    await restoreDefinitions(e, archive, ctx)
  } catch (err) {
    data.destroy() // stop the archive's producer; nothing more will be read
    throw err
  }
}

async function test(endpoint: Endpoint, ctx: PluginContext): Promise<string> {
  const e = parseEndpoint(endpoint)
  const { defs, version, scope } = await exportDefinitions(e, ctx)
  return `RabbitMQ ${version} at ${e.base}, ${scope}: ${summary(defs)}`
}

async function undoRestore(
  endpoint: Endpoint,
  note: Record<string, unknown>,
  ctx: PluginContext,
): Promise<void> {
  const strings = (v: unknown) =>
    Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
  const undo: UndoNote = { vhosts: strings(note.vhosts), users: strings(note.users) }
  await undoCreated(parseEndpoint(endpoint), undo, ctx)
}

export default defineTarget({ backup, restore, test, undoRestore })
