// The agent: `bulwark agent` on the data's own host. It pairs once (a
// one-time token from "bulwark create agent", which also carries the
// fingerprint of the daemon's agent-listener certificate, pinned from then
// on), keeps its ed25519 key in its data directory (agent.json, 0600), dials
// out and holds one connection, reconnecting with backoff. It runs the target
// plugins the daemon asks for: a backup's dump is cut into the vault's chunks
// here (with the chunk-id key only, never the vault's encryption key or the
// store's credentials) and only chunks the store lacks are sent.
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
} from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { PassThrough, type Readable } from 'node:stream'
import WebSocket from 'ws'
import type { TLSSocket } from 'node:tls'
import type { PluginContext, TargetPlugin } from '../../plugins/sdk/types'
import type { PluginRegistry } from '../plugin-host/registry'
import { writeFileAtomic } from '../platform/files'
import type { Logger } from '../platform/logger'
import { Chunker, gearTable } from '../vault/chunker'
import {
  AGENT_PATH,
  BATCHES_IN_FLIGHT,
  BATCH_BYTES,
  BATCH_CHUNKS,
  CLOSE_REFUSED,
  FRAME_DATA,
  STREAM_WINDOW,
  authMessage,
  daemonAuthMessage,
  chunkFrame,
  dataFrame,
  readFrame,
  type FromAgent,
  type ToAgent,
} from './protocol'
import { certFingerprint } from './tls'
import { splitToken } from './hub'

export const AGENT_FILE = 'agent.json'

export interface AgentConfig {
  server: string
  /** The daemon's agent-listener certificate, pinned at pairing. */
  fingerprint: string
  /** Set once paired. */
  uuid?: string
  name?: string
  private_key: string
  public_key: string
  /** The daemon's identity key (SPKI PEM), pinned at pairing. */
  daemon_key?: string
}

export class AgentRefusedError extends Error {}

export function loadAgentConfig(dataDir: string): AgentConfig | undefined {
  const file = join(dataDir, AGENT_FILE)
  if (!existsSync(file)) return undefined
  return JSON.parse(readFileSync(file, 'utf8')) as AgentConfig
}

/** A new key pair and the server's pinned fingerprint, from a pairing token. */
export function newAgentConfig(server: string, token: string): AgentConfig {
  const parts = splitToken(token)
  if (!parts) {
    throw new AgentRefusedError(
      'that is not a pairing token: copy the whole token "bulwark create agent" printed',
    )
  }
  const url = new URL(server)
  if (url.protocol !== 'https:') {
    throw new AgentRefusedError(
      `--server must be an https:// URL (the daemon's agent listener), not ${server}`,
    )
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  return {
    server: url.origin,
    fingerprint: parts.fingerprint,
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  }
}

export interface AgentOptions {
  dataDir: string
  config: AgentConfig
  registry: PluginRegistry
  log: Logger
  version: string
  /** The pairing token's secret, for the first connection. */
  pairWith?: string
  /** Backoff between reconnects: first and longest wait (ms). */
  backoffMs?: [number, number]
}

/** Runs until stop(): connects, serves operations, reconnects. */
export class Agent {
  private ws: WebSocket | undefined
  private stopped = false
  private readonly ops = new Map<number, (msg: ToAgent | { frame: Buffer }) => void>()
  private readonly cancels = new Map<number, AbortController>()
  private wake: (() => void) | undefined
  /** Resolves once the first connection was accepted (or rejects if refused). */
  readonly ready: Promise<void>
  private settleReady!: { resolve(): void; reject(err: Error): void }
  private loop: Promise<void> | undefined

  constructor(private readonly opts: AgentOptions) {
    this.ready = new Promise((resolve, reject) => (this.settleReady = { resolve, reject }))
    this.ready.catch(() => undefined)
  }

  start(): Promise<void> {
    this.loop ??= this.run()
    return this.loop
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const c of this.cancels.values()) c.abort()
    this.ws?.terminate()
    this.wake?.()
    await this.loop
  }

  private async run(): Promise<void> {
    const [first, longest] = this.opts.backoffMs ?? [1000, 30_000]
    let delay = first
    while (!this.stopped) {
      const outcome = await this.connectOnce()
      if (outcome === 'refused' || this.stopped) return
      if (outcome === 'served') delay = first
      this.opts.log.info(`reconnecting in ${(delay / 1000).toFixed(1)} s`)
      await new Promise<void>((r) => {
        const t = setTimeout(r, delay)
        this.wake = () => {
          clearTimeout(t)
          r()
        }
      })
      delay = Math.min(longest, delay * 2)
    }
  }

  /** One connection, to its end: 'served' if it was accepted, 'failed' if not, 'refused' to stop. */
  private connectOnce(): Promise<'served' | 'failed' | 'refused'> {
    const { config, log } = this.opts
    return new Promise((resolve) => {
      let accepted = false
      let refused: string | undefined
      const challenge = randomBytes(24).toString('base64url')
      const ws = new WebSocket(config.server.replace(/^https:/, 'wss:') + AGENT_PATH, {
        rejectUnauthorized: false, // self-signed: pinned below instead
        maxPayload: 64 * 1024 * 1024,
        handshakeTimeout: 15_000,
      })
      this.ws = ws
      let lastPing = Date.now()
      const watchdog = setInterval(() => {
        if (Date.now() - lastPing > 45_000) ws.terminate()
      }, 5000)
      ws.on('ping', () => (lastPing = Date.now()))
      ws.on('upgrade', (res) => {
        const socket = res.socket as TLSSocket
        const cert = socket.getPeerCertificate?.()
        if (!cert?.raw || certFingerprint(cert.raw) !== config.fingerprint) {
          refused = `the server at ${config.server} is not the daemon this agent paired with (its certificate changed): pair again with a new token`
          ws.terminate()
        }
      })
      ws.on('message', (data, binary) => {
        if (binary) {
          const buf = data as Buffer
          this.ops.get(buf.readUInt32BE(0))?.({ frame: buf })
          return
        }
        const msg = JSON.parse(String(data)) as ToAgent
        if (msg.t === 'hello') {
          const hello = this.opts.pairWith
            ? {
                t: 'pair' as const,
                token: this.opts.pairWith,
                public_key: config.public_key,
                host: hostname(),
                version: this.opts.version,
                challenge,
              }
            : {
                t: 'auth' as const,
                uuid: config.uuid ?? '',
                signature: sign(
                  null,
                  authMessage(msg.nonce, config.uuid ?? ''),
                  createPrivateKey(config.private_key),
                ).toString('base64'),
                host: hostname(),
                version: this.opts.version,
                challenge,
              }
          this.send(hello)
        } else if (msg.t === 'welcome') {
          // The daemon proves its identity key: the one pinned at pairing (or, pairing, the one it sends).
          const key = config.daemon_key ?? msg.daemon_key
          let proven: boolean
          try {
            proven = verify(
              null,
              daemonAuthMessage(challenge, msg.uuid),
              createPublicKey(key),
              Buffer.from(msg.signature, 'base64'),
            )
          } catch {
            proven = false
          }
          if (!proven) {
            refused = `the daemon at ${config.server} did not prove the identity key this agent paired with: pair again with a new token`
            ws.terminate()
            return
          }
          config.daemon_key = key
          accepted = true
          if (this.opts.pairWith) {
            config.uuid = msg.uuid
            config.name = msg.name
            writeFileAtomic(
              join(this.opts.dataDir, AGENT_FILE),
              JSON.stringify(config, null, 2),
              0o600,
            )
            this.opts.pairWith = undefined
            log.info(
              `paired as agent "${msg.name}" (${msg.uuid}); its key is in ${join(this.opts.dataDir, AGENT_FILE)}`,
            )
          }
          log.info(`connected to ${config.server} as agent "${msg.name}"`)
          this.settleReady.resolve()
        } else if (msg.t === 'refused') {
          refused = msg.message
        } else if ('op' in msg) {
          if (msg.t === 'backup' || msg.t === 'restore' || msg.t === 'test' || msg.t === 'undo') {
            this.serve(msg)
          } else if (msg.t === 'cancel') {
            this.cancels.get(msg.op)?.abort()
          } else this.ops.get(msg.op)?.(msg)
        }
      })
      ws.on('error', (err) => {
        if (!accepted) log.warn(`cannot reach ${config.server}: ${err.message}`)
      })
      ws.on('close', (code) => {
        clearInterval(watchdog)
        for (const c of this.cancels.values()) c.abort()
        if (refused || code === CLOSE_REFUSED) {
          const message = refused ?? 'the daemon refused this agent'
          log.error(message)
          this.settleReady.reject(new AgentRefusedError(message))
          return resolve('refused')
        }
        if (accepted) log.warn(`disconnected from ${config.server}`)
        resolve(accepted ? 'served' : 'failed')
      })
    })
  }

  private send(msg: FromAgent): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg))
  }

  private sendFrame(buf: Buffer): Promise<void> {
    const ws = this.ws
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error('disconnected'))
    return new Promise((resolve, reject) => ws.send(buf, (err) => (err ? reject(err) : resolve())))
  }

  /** Runs one operation from the daemon, reporting its end (done or error). */
  private serve(msg: Extract<ToAgent, { t: 'backup' | 'restore' | 'test' | 'undo' }>): void {
    const { op } = msg
    const abort = new AbortController()
    this.cancels.set(op, abort)
    const ctx: PluginContext = {
      signal: abort.signal,
      log: (line) => this.send({ t: 'log', op, line }),
    }
    const what = `${msg.t} (${msg.plugin})`
    this.opts.log.info(`operation ${op}: ${what} started`)
    const work = async (): Promise<string | undefined> => {
      const plugin = await this.opts.registry.target(msg.plugin)
      switch (msg.t) {
        case 'test':
          return plugin.test(msg.endpoint, ctx)
        case 'undo':
          await plugin.undoRestore?.(msg.endpoint, msg.note, ctx)
          return undefined
        case 'backup': {
          const stream = await plugin.backup(msg.endpoint, ctx)
          const size = msg.chunking
            ? await this.sendChunks(op, stream, msg.chunking, abort.signal)
            : await this.sendStream(op, stream, abort.signal)
          this.send({ t: 'end', op, size })
          return 'ended'
        }
        case 'restore':
          await this.receiveRestore(op, plugin, msg.endpoint, ctx)
          return undefined
      }
    }
    work()
      .then((result) => {
        if (result !== 'ended') this.send({ t: 'done', op, result })
        this.opts.log.info(`operation ${op}: ${what} done`)
      })
      .catch((err: Error) => {
        const message = abort.signal.aborted ? 'canceled' : err.message
        this.send({ t: 'error', op, message, name: err.name })
        this.opts.log.warn(`operation ${op}: ${what} failed: ${message}`)
      })
      .finally(() => {
        this.cancels.delete(op)
        this.ops.delete(op)
      })
  }

  /** Waits for `ready()` to hold, re-checking on each message of the operation. */
  private async until(op: number, signal: AbortSignal, ready: () => boolean): Promise<void> {
    while (!ready()) {
      if (signal.aborted) throw new Error('canceled')
      await new Promise<void>((resolve) => {
        const prev = this.ops.get(op)
        const onAbort = () => resolve()
        signal.addEventListener('abort', onAbort, { once: true })
        this.ops.set(op, (m) => {
          prev?.(m)
          this.ops.set(op, prev!)
          signal.removeEventListener('abort', onAbort)
          resolve()
        })
      })
    }
  }

  /** The dump as one stream (a store without a vault). */
  private async sendStream(op: number, stream: Readable, signal: AbortSignal): Promise<number> {
    let inFlight = 0
    let size = 0
    this.ops.set(op, (m) => {
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
      await this.sendFrame(dataFrame(op, buf))
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
  private async sendChunks(
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
          await this.sendFrame(chunkFrame(op, id, data))
        }
      }
    }
    this.ops.set(op, (m) => {
      if (!('t' in m)) return
      if (m.t === 'want') {
        wants.push({ batch: m.batch, ids: m.ids })
        answering = answering.then(answer).catch((err: Error) => {
          failure ??= err
          this.ops.get(op)?.({ t: 'credit', op, bytes: 0 }) // wakes a wait in until()
        })
      } else if (m.t === 'ack') unacked.delete(m.batch)
    })
    signal.addEventListener('abort', () => stream.destroy(new Error('canceled')), { once: true })
    const sendBatch = async () => {
      const batch = batchNo++
      held.set(batch, chunks)
      unacked.add(batch)
      this.send({ t: 'chunks', op, batch, list })
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
  private async receiveRestore(
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
        this.send({ t: 'created', op, id, note })
        return () => this.send({ t: 'withdrawn', op, id })
      },
    }
    this.ops.set(op, (m) => {
      if ('frame' in m) {
        const f = readFrame(m.frame)
        if (f.kind !== FRAME_DATA) return
        feed.write(f.data, () => this.send({ t: 'credit', op, bytes: f.data.length }))
      } else if (m.t === 'end') feed.end()
    })
    ctx.signal.addEventListener('abort', () => feed.destroy(new Error('canceled')), { once: true })
    await plugin.restore(endpoint, feed, restoreCtx)
  }
}
