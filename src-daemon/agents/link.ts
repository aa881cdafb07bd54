// One connected agent, daemon side: operations multiplexed over its
// connection, and the target plugin that runs there. `target(plugin)` is a
// TargetPlugin whose backup, restore, test and undo run on the agent's host,
// so the backup and restore tasks treat a remote target like a local one.
// For a store with a vault, `chunks()` is the cheaper backup: the agent cuts
// the dump into the vault's chunks and sends only those the store lacks
// (remote-chunks.ts).
import { Readable } from 'node:stream'
import type WebSocket from 'ws'
import { PluginAbortedError, PluginError } from '../../plugins/sdk/errors'
import type { Endpoint, PluginContext, TargetPlugin } from '../../plugins/sdk/types'
import type { ChunkerParams } from '../vault/chunker'
import type { RemoteChunk, ChunkClaims } from '../vault/writer'
import {
  FRAME_DATA,
  STREAM_WINDOW,
  dataFrame,
  type Frame,
  type FromAgent,
  type ToAgent,
} from './protocol'
import { chunkStream, type OpPort } from './remote-chunks'

/** Receives what the agent sends for one operation. */
export interface OpHandler {
  message(msg: FromAgent): void
  frame(frame: Frame): void
  /** The connection closed (or the agent was removed): the operation cannot go on. */
  gone(err: Error): void
}

export class AgentGoneError extends PluginError {}

export class AgentLink {
  private nextOp = 1
  private readonly ops = new Map<number, OpHandler>()
  private closedWith: Error | undefined

  constructor(
    readonly uuid: string,
    readonly name: string,
    private readonly ws: WebSocket,
  ) {}

  get open(): boolean {
    return this.closedWith === undefined
  }

  send(msg: ToAgent): void {
    if (this.closedWith) return
    this.ws.send(JSON.stringify(msg))
  }

  /** Sends a binary frame; resolves once it is handed to the socket. */
  sendFrame(buf: Buffer): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith)
    return new Promise((resolve, reject) =>
      this.ws.send(buf, (err) => (err ? reject(err) : resolve())),
    )
  }

  /** Routes a message from the agent to its operation. */
  message(msg: FromAgent): void {
    if ('op' in msg) this.ops.get(msg.op)?.message(msg)
  }

  frame(frame: Frame): void {
    this.ops.get(frame.op)?.frame(frame)
  }

  /** The connection is gone: every operation on it fails with `err`. */
  close(err: Error): void {
    if (this.closedWith) return
    this.closedWith = err
    for (const op of [...this.ops.values()]) op.gone(err)
    this.ops.clear()
  }

  private begin(handler: OpHandler): number {
    if (this.closedWith) throw this.closedWith
    const op = this.nextOp++
    this.ops.set(op, handler)
    return op
  }

  private end(op: number): void {
    this.ops.delete(op)
  }

  private agentLog(ctx: PluginContext, line: string): void {
    ctx.log(`[agent ${this.name}] ${line}`)
  }

  /** A target plugin that runs on the agent's host. */
  target(plugin: string): TargetPlugin {
    return {
      backup: (endpoint, ctx) => this.backupStream(plugin, endpoint, ctx),
      restore: (endpoint, data, ctx) => this.restoreStream(plugin, endpoint, data, ctx),
      test: (endpoint, ctx) => this.call({ t: 'test', plugin, endpoint }, ctx),
      undoRestore: async (endpoint, note, ctx) => {
        await this.call({ t: 'undo', plugin, endpoint, note }, ctx)
      },
    }
  }

  /** An operation that ends with done (its result) or error. */
  private call(
    msg:
      | { t: 'test'; plugin: string; endpoint: Endpoint }
      | { t: 'undo'; plugin: string; endpoint: Endpoint; note: Record<string, unknown> },
    ctx: PluginContext,
  ): Promise<string> {
    return this.operation(ctx, (op) => ({ ...msg, op }))
  }

  /**
   * An operation that ends with done or error: registers it, sends `start`,
   * routes its log lines, and on cancel tells the agent and fails with
   * PluginAbortedError. `finish` settles it once, however it ends; `settle`
   * runs then, and `started` once the agent was asked (not if already canceled).
   */
  private operation(
    ctx: PluginContext,
    start: (op: number) => ToAgent,
    more: {
      message?: (m: FromAgent) => void
      settle?: (err?: Error) => void
      started?: (op: number, finish: (err?: Error) => void) => void
    } = {},
  ): Promise<string> {
    return new Promise((resolve, reject) => {
      let op = 0
      let settled = false
      const finish = (err?: Error, result?: string) => {
        if (settled) return
        settled = true
        ctx.signal.removeEventListener('abort', onAbort)
        this.end(op)
        more.settle?.(err)
        if (err) reject(err)
        else resolve(result ?? '')
      }
      const onAbort = () => {
        this.send({ t: 'cancel', op })
        finish(new PluginAbortedError())
      }
      op = this.begin({
        message: (m) => {
          if (m.t === 'log') this.agentLog(ctx, m.line)
          else if (m.t === 'done') finish(undefined, m.result)
          else if (m.t === 'error') finish(new PluginError(m.message))
          else more.message?.(m)
        },
        frame: () => undefined,
        gone: (err) => finish(err),
      })
      if (ctx.signal.aborted) return onAbort()
      ctx.signal.addEventListener('abort', onAbort, { once: true })
      this.send(start(op))
      more.started?.(op, finish)
    })
  }

  /** A backup as one stream: the dump's bytes, compressed on the wire, with credit-based flow control. */
  private async backupStream(
    plugin: string,
    endpoint: Endpoint,
    ctx: PluginContext,
  ): Promise<Readable> {
    let credit = 0
    let op = 0
    const stream = new Readable({
      highWaterMark: 1024 * 1024,
      read: () => {
        if (credit > 0) {
          this.send({ t: 'credit', op, bytes: credit })
          credit = 0
        }
      },
      destroy: (err, cb) => {
        ctx.signal.removeEventListener('abort', onAbort)
        if (this.ops.has(op)) {
          this.send({ t: 'cancel', op })
          this.end(op)
        }
        cb(err)
      },
    })
    const onAbort = () => stream.destroy(new PluginAbortedError())
    op = this.begin({
      message: (m) => {
        if (m.t === 'log') this.agentLog(ctx, m.line)
        else if (m.t === 'end') {
          this.end(op)
          stream.push(null)
        } else if (m.t === 'error') {
          this.end(op)
          stream.destroy(new PluginError(m.message))
        }
      },
      frame: (f) => {
        if (f.kind !== FRAME_DATA) return
        credit += f.data.length
        stream.push(f.data)
      },
      gone: (err) => stream.destroy(err),
    })
    ctx.signal.addEventListener('abort', onAbort, { once: true })
    this.send({ t: 'backup', op, plugin, endpoint })
    return stream
  }

  /** A restore: the archive's bytes go to the agent, which feeds the plugin's restore there. */
  private async restoreStream(
    plugin: string,
    endpoint: Endpoint,
    data: Readable,
    ctx: PluginContext,
  ): Promise<void> {
    let inFlight = 0
    let wake: (() => void) | undefined
    let settled = false
    const withdrawals = new Map<number, () => void>()
    await this.operation(ctx, (op) => ({ t: 'restore', op, plugin, endpoint }), {
      message: (m) => {
        if (m.t === 'credit') {
          inFlight -= m.bytes
          wake?.()
        } else if (m.t === 'created') {
          const withdraw = ctx.created?.(m.note)
          if (withdraw) withdrawals.set(m.id, withdraw)
        } else if (m.t === 'withdrawn') {
          withdrawals.get(m.id)?.()
          withdrawals.delete(m.id)
        }
      },
      settle: (err) => {
        settled = true
        wake?.()
        if (err) data.destroy()
      },
      started: (op, finish) => {
        const pump = async () => {
          let pending: Buffer[] = []
          let pendingBytes = 0
          const flush = async () => {
            if (pendingBytes === 0) return
            while (inFlight + pendingBytes > STREAM_WINDOW && inFlight > 0 && !settled) {
              await new Promise<void>((r) => (wake = r))
              wake = undefined
            }
            if (settled) return
            const buf = Buffer.concat(pending)
            pending = []
            inFlight += pendingBytes
            pendingBytes = 0
            await this.sendFrame(dataFrame(op, buf))
          }
          for await (const part of data) {
            if (settled) return
            const buf = Buffer.isBuffer(part) ? part : Buffer.from(part as Uint8Array)
            pending.push(buf)
            pendingBytes += buf.length
            if (pendingBytes >= 1024 * 1024) await flush()
          }
          await flush()
          if (!settled) this.send({ t: 'end', op })
        }
        pump().catch((err: unknown) => {
          if (settled) return
          this.send({ t: 'cancel', op })
          finish(err instanceof Error ? err : new Error(String(err)))
        })
      },
    })
  }

  /**
   * A backup in chunks, for a store with a vault: the agent cuts the dump
   * with the vault's chunking and keyed ids, lists them in batches, and sends
   * (compressed) only the chunks `claims` does not know. Yields the archive's
   * chunks in order; each one's data arrives as the agent sends it.
   */
  chunks(
    plugin: string,
    endpoint: Endpoint,
    chunking: { params: ChunkerParams; idKey: Buffer },
    ctx: PluginContext,
    onProgress: (bytes: number) => void,
  ): (claims: ChunkClaims) => AsyncIterable<RemoteChunk> {
    const port: OpPort = {
      begin: (handler) => this.begin(handler),
      end: (op) => this.end(op),
      send: (msg) => this.send(msg),
      agentLog: (line) => this.agentLog(ctx, line),
    }
    return (claims) => chunkStream(port, plugin, endpoint, chunking, ctx, onProgress, claims)
  }
}
