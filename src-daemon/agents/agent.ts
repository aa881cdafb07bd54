// The agent: `bulwark agent` on the data's own host. It pairs once (a
// one-time token from "bulwark create agent", which also carries the
// fingerprint of the daemon's agent-listener certificate, pinned from then
// on), keeps its ed25519 key in its data directory (agent.json, 0600), dials
// out and holds one connection, reconnecting with backoff. It runs the target
// plugins the daemon asks for: a backup's dump is cut into the vault's chunks
// here (with the chunk-id key only, never the vault's encryption key or the
// store's credentials) and only chunks the store lacks are sent. Its file is
// agent-config.ts; the data of each operation moves in agent-streams.ts.
import { createPrivateKey, createPublicKey, randomBytes, sign, verify } from 'node:crypto'
import { hostname } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'
import type { TLSSocket } from 'node:tls'
import type { PluginContext } from '../../plugins/sdk/types'
import type { PluginRegistry } from '../plugin-host/registry'
import { writeFileAtomic } from '../platform/files'
import type { Logger } from '../platform/logger'
import { AGENT_FILE, AgentRefusedError, type AgentConfig } from './agent-config'
import { AgentStreams, type OpMessage } from './agent-streams'
import {
  AGENT_PATH,
  CLOSE_REFUSED,
  authMessage,
  daemonAuthMessage,
  type FromAgent,
  type ToAgent,
} from './protocol'
import { certFingerprint } from './tls'

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
  private readonly ops = new Map<number, (msg: OpMessage) => void>()
  private readonly io = new AgentStreams({
    ops: this.ops,
    send: (msg) => this.send(msg),
    sendFrame: (buf) => this.sendFrame(buf),
  })
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
            ? await this.io.sendChunks(op, stream, msg.chunking, abort.signal)
            : await this.io.sendStream(op, stream, abort.signal)
          this.send({ t: 'end', op, size })
          return 'ended'
        }
        case 'restore':
          await this.io.receiveRestore(op, plugin, msg.endpoint, ctx)
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
}
