// The data of the agent's operations: a backup's dump sent as one stream or
// cut into the vault's chunks, and a restore's archive received, each with
// the daemon's flow control (credits, batches, acknowledgements). Messages
// for an operation reach it through the agent's per-operation handlers.
import { createHmac } from 'node:crypto'
import { PassThrough, type Readable } from 'node:stream'
import type { PluginContext, TargetPlugin } from '../../plugins/sdk/types'
import { Chunker, gearTable } from '../vault/chunker'
import {
  BATCHES_IN_FLIGHT,
  BATCH_BYTES,
  BATCH_CHUNKS,
  FRAME_DATA,
  STREAM_WINDOW,
  chunkFrame,
  dataFrame,
  readFrame,
  type FromAgent,
  type ToAgent,
} from './protocol'

/** A message or binary frame from the daemon, for one operation. */
export type OpMessage = ToAgent | { frame: Buffer }

/** What the operations need of the agent's connection. */
export interface AgentPort {
  /** Each running operation's handler; an operation waiting for a message replaces its own. */
  readonly ops: Map<number, (msg: OpMessage) => void>
  send(msg: FromAgent): void
  sendFrame(buf: Buffer): Promise<void>
}

export class AgentStreams {
  constructor(private readonly port: AgentPort) {}

  /** Waits for `ready()` to hold, re-checking on each message of the operation. */
  private async until(op: number, signal: AbortSignal, ready: () => boolean): Promise<void> {
    while (!ready()) {
      if (signal.aborted) throw new Error('canceled')
      await new Promise<void>((resolve) => {
        const prev = this.port.ops.get(op)
        const onAbort = () => resolve()
        signal.addEventListener('abort', onAbort, { once: true })
        this.port.ops.set(op, (m) => {
          prev?.(m)
          this.port.ops.set(op, prev!)
          signal.removeEventListener('abort', onAbort)
          resolve()
        })
      })
    }
  }

  /** The dump as one stream (a store without a vault). */
  async sendStream(op: number, stream: Readable, signal: AbortSignal): Promise<number> {
    let inFlight = 0
    let size = 0
    this.port.ops.set(op, (m) => {
      if ('t' in m && m.t === 'credit') inFlight -= m.bytes
    })
    signal.addEventListener('abort', () => stream.destroy(new Error('canceled')), { once: true })
    let pending: Buffer[] = []
    let pendingBytes = 0
    const flush = async () => {
      if (pendingBytes === 0) return
      await this.until(op, signal, () => inFlight === 0 || inFlight + pendingBytes <= STREAM_WINDOW)
      inFlight += pendingBytes
      const buf = Buffer.concat(pending)
      pending = []
      pendingBytes = 0
      await this.port.sendFrame(dataFrame(op, buf))
    }
    for await (const part of stream) {
      const buf = Buffer.isBuffer(part) ? part : Buffer.from(part as Uint8Array)
      pending.push(buf)
      pendingBytes += buf.length
      size += buf.length
      if (pendingBytes >= 1024 * 1024) await flush()
    }
    await flush()
    return size
  }

  /**
   * The dump cut into the vault's chunks: lists them in batches, sends the
   * ones the daemon asks for, and keeps at most BATCHES_IN_FLIGHT batches
   * waiting for the daemon's acknowledgement (so memory stays bounded).
   */
  async sendChunks(
    op: number,
    stream: Readable,
    chunking: NonNullable<Extract<ToAgent, { t: 'backup' }>['chunking']>,
    signal: AbortSignal,
  ): Promise<number> {
    const idKey = Buffer.from(chunking.idKey, 'base64')
    const chunker = new Chunker(gearTable(idKey), chunking.params)
    const held = new Map<number, Map<string, Buffer>>()
    const unacked = new Set<number>()
    const wants: { batch: number; ids: string[] }[] = []
    let failure: Error | undefined
    let batchNo = 0
    let list: [string, number][] = []
    let bytes = 0
    let size = 0
    let chunks = new Map<string, Buffer>()
    /** Sends the chunks of each want list, in order, as they arrive. */
    let answering = Promise.resolve()
    const answer = async () => {
      while (wants.length > 0 && !failure) {
        const w = wants.shift()!
        const these = held.get(w.batch)
        held.delete(w.batch)
        for (const id of w.ids) {
          const data = these?.get(id)
          if (!data) {
            throw new Error(
              `the daemon asked for chunk ${id.slice(0, 12)}, not in batch ${w.batch}`,
            )
          }
          await this.port.sendFrame(chunkFrame(op, id, data))
        }
      }
    }
    this.port.ops.set(op, (m) => {
      if (!('t' in m)) return
      if (m.t === 'want') {
        wants.push({ batch: m.batch, ids: m.ids })
        answering = answering.then(answer).catch((err: Error) => {
          failure ??= err
          this.port.ops.get(op)?.({ t: 'credit', op, bytes: 0 }) // wakes a wait in until()
        })
      } else if (m.t === 'ack') unacked.delete(m.batch)
    })
    signal.addEventListener('abort', () => stream.destroy(new Error('canceled')), { once: true })
    const sendBatch = async () => {
      const batch = batchNo++
      held.set(batch, chunks)
      unacked.add(batch)
      this.port.send({ t: 'chunks', op, batch, list })
      list = []
      chunks = new Map()
      bytes = 0
      // At most BATCHES_IN_FLIGHT batches are held for the daemon.
      await this.until(op, signal, () => !!failure || unacked.size < BATCHES_IN_FLIGHT)
      if (failure) throw failure
    }
    const pendingCuts: Buffer[] = []
    const emit = (c: Buffer) => pendingCuts.push(c)
    const take = async () => {
      while (pendingCuts.length > 0) {
        const c = pendingCuts.shift()!
        const id = createHmac('sha256', idKey).update(c).digest('hex')
        list.push([id, c.length])
        if (!chunks.has(id)) chunks.set(id, c)
        bytes += c.length
        if (list.length >= BATCH_CHUNKS || bytes >= BATCH_BYTES) await sendBatch()
      }
    }
    for await (const part of stream) {
      if (failure) throw failure
      const buf = Buffer.isBuffer(part) ? part : Buffer.from(part as Uint8Array)
      size += buf.length
      chunker.push(buf, emit)
      await take()
    }
    chunker.finish(emit)
    await take()
    if (list.length > 0 || batchNo === 0) await sendBatch()
    await this.until(op, signal, () => !!failure || unacked.size === 0)
    if (failure) throw failure
    return size
  }

  /** A restore: the archive's bytes arrive as frames, credited back as the plugin consumes them. */
  async receiveRestore(
    op: number,
    plugin: TargetPlugin,
    endpoint: Record<string, unknown>,
    ctx: PluginContext,
  ): Promise<void> {
    const feed = new PassThrough({ highWaterMark: 1024 * 1024 })
    let notes = 0
    const restoreCtx: PluginContext = {
      ...ctx,
      created: (note) => {
        const id = ++notes
        this.port.send({ t: 'created', op, id, note })
        return () => this.port.send({ t: 'withdrawn', op, id })
      },
    }
    this.port.ops.set(op, (m) => {
      if ('frame' in m) {
        const f = readFrame(m.frame)
        if (f.kind !== FRAME_DATA) return
        feed.write(f.data, () => this.port.send({ t: 'credit', op, bytes: f.data.length }))
      } else if (m.t === 'end') feed.end()
    })
    ctx.signal.addEventListener('abort', () => feed.destroy(new Error('canceled')), { once: true })
    await plugin.restore(endpoint, feed, restoreCtx)
  }
}
