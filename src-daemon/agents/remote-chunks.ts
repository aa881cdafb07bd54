// A backup in chunks over an agent link, daemon side: the agent lists the
// dump's chunks (cut with the vault's chunking and keyed ids) in batches, this
// asks for the ones the store lacks and yields every chunk in order, each
// one's data arriving as the agent sends it. AgentLink.chunks() starts it.
import { PluginAbortedError, PluginError } from '../../plugins/sdk/errors'
import type { Endpoint, PluginContext } from '../../plugins/sdk/types'
import { formatBytes } from '../contract/format-bytes'
import type { ChunkerParams } from '../vault/chunker'
import type { ChunkClaims, RemoteChunk } from '../vault/writer'
import type { OpHandler } from './link'
import { FRAME_CHUNK, type ToAgent } from './protocol'

/** What an operation needs of its link. */
export interface OpPort {
  begin(handler: OpHandler): number
  end(op: number): void
  send(msg: ToAgent): void
  /** A line of the agent's log, into the task's log. */
  agentLog(line: string): void
}

export async function* chunkStream(
  link: OpPort,
  plugin: string,
  endpoint: Endpoint,
  chunking: { params: ChunkerParams; idKey: Buffer },
  ctx: PluginContext,
  onProgress: (bytes: number) => void,
  claims: ChunkClaims,
): AsyncGenerator<RemoteChunk> {
  type Deferred = { resolve(b: Buffer): void; reject(e: Error): void }
  const batches: { batch: number; list: [string, number][] }[] = []
  const waiting = new Map<string, Deferred>()
  let ended: number | undefined
  let failed: Error | undefined
  let wire = 0
  let sent = 0
  let listed = 0
  let wake: (() => void) | undefined
  const poke = () => {
    const w = wake
    wake = undefined
    w?.()
  }
  const fail = (err: Error) => {
    failed ??= err
    for (const d of waiting.values()) d.reject(err)
    waiting.clear()
    poke()
  }
  const op = link.begin({
    message: (m) => {
      if (m.t === 'log') link.agentLog(m.line)
      else if (m.t === 'chunks') batches.push({ batch: m.batch, list: m.list })
      else if (m.t === 'end') ended = m.size
      else if (m.t === 'error') fail(new PluginError(m.message))
      poke()
    },
    frame: (f) => {
      if (f.kind !== FRAME_CHUNK) return
      const d = waiting.get(f.id)
      if (!d)
        return fail(
          new PluginError(`the agent sent chunk ${f.id.slice(0, 12)}, which was not asked for`),
        )
      waiting.delete(f.id)
      wire += f.wire
      sent++
      d.resolve(f.data)
    },
    gone: fail,
  })
  const onAbort = () => fail(new PluginAbortedError())
  ctx.signal.addEventListener('abort', onAbort, { once: true })
  let done = false
  try {
    link.send({
      t: 'backup',
      op,
      plugin,
      endpoint,
      chunking: { params: chunking.params, idKey: chunking.idKey.toString('base64') },
    })
    let size = 0
    for (;;) {
      while (!failed && batches.length === 0 && ended === undefined) {
        await new Promise<void>((r) => (wake = r))
      }
      if (failed) throw failed
      const next = batches.shift()
      if (!next) break // ended, every batch handed on
      const wanted: string[] = []
      const items: RemoteChunk[] = []
      let left = next.list.length
      const stored = () => {
        if (--left === 0) link.send({ t: 'ack', op, batch: next.batch })
      }
      for (const [id, n] of next.list) {
        if (!/^[0-9a-f]{64}$/.test(id) || !Number.isInteger(n) || n < 0) {
          throw new PluginError('the agent listed a malformed chunk')
        }
        let data: Promise<Buffer> | null = null
        if (!(await claims.known(id))) {
          wanted.push(id)
          data = new Promise<Buffer>((resolve, reject) => waiting.set(id, { resolve, reject }))
          data.catch(() => undefined)
        }
        items.push({ id, size: n, data, stored })
        size += n
        listed++
      }
      link.send({ t: 'want', op, batch: next.batch, ids: wanted })
      if (next.list.length === 0) link.send({ t: 'ack', op, batch: next.batch })
      for (const item of items) yield item
      onProgress(size)
    }
    if (ended !== size) {
      throw new PluginError(`the agent's dump ended at ${ended} bytes, but its chunks hold ${size}`)
    }
    ctx.log(
      `the agent sent ${sent} of ${listed} chunks: ${formatBytes(wire)} (${wire} bytes) on the wire for ${formatBytes(size)} of data`,
    )
    done = true
  } finally {
    ctx.signal.removeEventListener('abort', onAbort)
    if (!done) link.send({ t: 'cancel', op })
    link.end(op)
  }
}
