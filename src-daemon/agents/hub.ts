// The agents' listener and who is connected. Agents dial in over TLS (the
// daemon's self-signed certificate, pinned by the agent at pairing) on a
// listener of its own (--agent-listen), since it must be reachable from other
// hosts while the API stays on 127.0.0.1. Each connection proves itself
// first: with the one-time pairing token (once, giving its public key), or by
// signing the daemon's nonce with its key (sign-in.ts). Tasks for an agent wait for it to
// be connected (linkFor), up to a limit.
import { createPrivateKey, createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createServer, type Server } from 'node:https'
import { hostname } from 'node:os'
import { WebSocketServer, type WebSocket } from 'ws'
import type { Catalog } from '../catalog/catalog'
import type { Clock } from '../platform/clock'
import { toIso } from '../platform/clock'
import type { ListenAddress } from '../platform/listen'
import { loadOrCreateIdentity } from '../platform/keys'
import type { Logger } from '../platform/logger'
import { PluginAbortedError } from '../../plugins/sdk/errors'
import { DEFAULT_AGENT_PORT } from '../contract/agents'
import { AgentGoneError, AgentLink } from './link'
import {
  AGENT_PATH,
  CLOSE_REFUSED,
  daemonAuthMessage,
  readFrame,
  type FromAgent,
  type ToAgent,
} from './protocol'
import { authAgent, pairAgent } from './sign-in'
import { loadOrCreateAgentTls, type AgentTls } from './tls'

export { tokenHash } from './sign-in'

export interface HubDeps {
  catalog: Catalog
  clock: Clock
  log: Logger
  dataDir: string
  version: string
  /** How long a task waits for its agent to connect (BULWARK_AGENT_WAIT_SECONDS, default 600). */
  waitMs?: number
}

export class AgentHub {
  private readonly links = new Map<string, AgentLink>()
  private readonly waiters = new Set<() => void>()
  private server: Server | undefined
  private wss: WebSocketServer | undefined
  private tls: AgentTls | undefined
  private address: ListenAddress | undefined
  private heartbeat: NodeJS.Timeout | undefined

  constructor(private readonly deps: HubDeps) {}

  /** The listener's TLS identity (made on first use). */
  async identity(): Promise<AgentTls> {
    this.tls ??= await loadOrCreateAgentTls(this.deps.dataDir)
    return this.tls
  }

  /** Where agents dial: the listener's address, or where it would be when it is off. */
  url(): string {
    const a = this.address
    const host =
      !a || a.host === '0.0.0.0' || a.host === '::' || a.host === '' ? hostname() : a.host
    const shown = host.includes(':') ? `[${host}]` : host
    return `https://${shown}:${a?.port ?? DEFAULT_AGENT_PORT}`
  }

  get listening(): boolean {
    return this.address !== undefined
  }

  async listen(at: ListenAddress): Promise<void> {
    const tls = await this.identity()
    const server = createServer({ key: tls.key, cert: tls.cert })
    const wss = new WebSocketServer({ server, path: AGENT_PATH, maxPayload: 64 * 1024 * 1024 })
    wss.on('connection', (ws) => this.accept(ws))
    server.on('request', (_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' })
      res.end(
        'This is the Bulwark daemon\'s agent listener; agents connect here with "bulwark agent".\n',
      )
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(at.port, at.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    const bound = server.address()
    this.address = {
      host: at.host,
      port: typeof bound === 'object' && bound ? bound.port : at.port,
    }
    this.server = server
    this.wss = wss
    // A link whose agent stopped answering is dropped, so tasks do not wait on a dead socket.
    this.heartbeat = setInterval(() => {
      for (const ws of wss.clients) {
        const w = ws as WebSocket & { alive?: boolean }
        if (w.alive === false) {
          w.terminate()
          continue
        }
        w.alive = false
        w.ping()
      }
    }, 15_000)
    this.heartbeat.unref()
    this.deps.log.info(`agents' listener on ${this.url()} (certificate ${tls.fingerprint})`)
  }

  /** The agent's link if it is connected now. */
  linkNow(uuid: string): AgentLink | undefined {
    const link = this.links.get(uuid)
    return link?.open ? link : undefined
  }

  connected(uuid: string): boolean {
    return this.links.get(uuid)?.open === true
  }

  connectedCount(): number {
    return [...this.links.values()].filter((l) => l.open).length
  }

  /**
   * The agent's link, once it is connected: waits (saying so in the task's
   * log) until it connects, the wait runs out, or the task is canceled.
   */
  async linkFor(
    uuid: string,
    ctx: { signal: AbortSignal; log(line: string): void },
  ): Promise<AgentLink> {
    const row = this.deps.catalog.agents.get(uuid)
    if (!row) throw new AgentGoneError("the target's agent no longer exists")
    const now = this.links.get(uuid)
    if (now?.open) return now
    const waitMs = this.deps.waitMs ?? 600_000
    const seen = row.last_seen ? `last seen ${toIso(row.last_seen)}` : 'never connected'
    ctx.log(
      `waiting for agent "${row.name}" to connect (${seen}; the task fails after ${Math.round(waitMs / 1000)} s)`,
    )
    return new Promise<AgentLink>((resolve, reject) => {
      const check = () => {
        const link = this.links.get(uuid)
        if (link?.open) {
          done()
          ctx.log(`agent "${row.name}" connected`)
          resolve(link)
        }
      }
      const timer = setTimeout(() => {
        done()
        reject(
          new AgentGoneError(
            `agent "${row.name}" is offline (${seen}): start it on its host ("bulwark agent", or its service) and make sure it can reach ${this.url()}`,
          ),
        )
      }, waitMs)
      const onAbort = () => {
        done()
        reject(new PluginAbortedError())
      }
      const done = () => {
        clearTimeout(timer)
        this.waiters.delete(check)
        ctx.signal.removeEventListener('abort', onAbort)
      }
      this.waiters.add(check)
      ctx.signal.addEventListener('abort', onAbort, { once: true })
      if (ctx.signal.aborted) onAbort()
    })
  }

  /** Disconnects a removed agent. */
  revoke(uuid: string): void {
    const link = this.links.get(uuid)
    if (!link) return
    this.links.delete(uuid)
    link.close(new AgentGoneError('the agent was removed'))
    const ws = this.sockets.get(link)
    ws?.send(JSON.stringify({ t: 'refused', message: 'this agent was removed from the daemon' }))
    ws?.close(CLOSE_REFUSED, 'removed')
  }

  private readonly sockets = new WeakMap<AgentLink, WebSocket>()
  private signingKey: KeyObject | undefined

  /** The daemon's identity key (identity.pem, made at its first start). */
  private identityKey(): KeyObject {
    loadOrCreateIdentity(this.deps.dataDir)
    this.signingKey ??= createPrivateKey(
      readFileSync(join(this.deps.dataDir, 'identity.pem'), 'utf8'),
    )
    return this.signingKey
  }

  private accept(ws: WebSocket): void {
    const w = ws as WebSocket & { alive?: boolean }
    w.alive = true
    ws.on('pong', () => (w.alive = true))
    ws.on('error', () => undefined)
    const nonce = randomBytes(24).toString('base64url')
    const send = (msg: ToAgent) => ws.send(JSON.stringify(msg))
    send({ t: 'hello', nonce, version: this.deps.version })
    const refuse = (message: string) => {
      this.deps.log.warn(`agent connection refused: ${message}`)
      send({ t: 'refused', message })
      ws.close(CLOSE_REFUSED, 'refused')
    }
    const timer = setTimeout(() => refuse('no credentials within 10 s'), 10_000)
    let link: AgentLink | undefined
    ws.on('message', (data, binary) => {
      try {
        if (link) {
          if (binary) link.frame(readFrame(data as Buffer))
          else link.message(JSON.parse(String(data)) as FromAgent)
          return
        }
        clearTimeout(timer)
        if (binary) return refuse('binary data before signing in')
        const msg = JSON.parse(String(data)) as FromAgent
        const row =
          msg.t === 'pair'
            ? pairAgent(this.deps.catalog, this.deps.clock.now(), msg, refuse)
            : msg.t === 'auth'
              ? authAgent(this.deps.catalog, this.deps.clock.now(), msg, nonce, refuse)
              : (refuse('expected pair or auth'), undefined)
        if (!row) return
        link = new AgentLink(row.uuid, row.name, ws)
        this.links.get(row.uuid)?.close(new AgentGoneError(`agent "${row.name}" reconnected`))
        this.links.set(row.uuid, link)
        this.sockets.set(link, ws)
        const identity = this.identityKey()
        send({
          t: 'welcome',
          uuid: row.uuid,
          name: row.name,
          daemon_key: createPublicKey(identity).export({ type: 'spki', format: 'pem' }).toString(),
          signature: sign(
            null,
            daemonAuthMessage(String((msg as { challenge?: unknown }).challenge), row.uuid),
            identity,
          ).toString('base64'),
        })
        this.deps.log.info(
          `agent "${row.name}" connected from ${row.host} (Bulwark ${row.version})`,
        )
        for (const wake of [...this.waiters]) wake()
      } catch (err) {
        refuse(`a malformed message (${(err as Error).message})`)
      }
    })
    ws.on('close', () => {
      clearTimeout(timer)
      if (!link) return
      if (this.links.get(link.uuid) === link) {
        this.links.delete(link.uuid)
        this.deps.log.info(`agent "${link.name}" disconnected`)
      }
      if (this.deps.catalog.agents.get(link.uuid)) {
        this.deps.catalog.agents.update(link.uuid, { last_seen: this.deps.clock.now() })
      }
      link.close(new AgentGoneError(`agent "${link.name}" disconnected`))
    })
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat)
    for (const link of this.links.values()) link.close(new AgentGoneError('the daemon is stopping'))
    this.links.clear()
    for (const ws of this.wss?.clients ?? []) ws.terminate()
    this.wss?.close()
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    )
    this.server?.closeAllConnections?.()
  }
}
