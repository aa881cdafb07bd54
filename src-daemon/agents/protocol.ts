// The agent link's messages: JSON text frames for control, binary frames for
// data. One connection carries many operations (a backup, a restore, a test),
// each numbered by the daemon (`op`). The agent dials out (wss to the daemon's
// agent listener), so the daemon never connects to it.
//
// Binary frame: u32 op, u8 kind, payload. Kind DATA carries a zstd-compressed
// piece of a stream (a restore's archive to the agent, a backup's dump to the
// daemon for stores without a vault); kind CHUNK carries a chunk the daemon
// asked for: its 32-byte id, then its zstd-compressed plaintext.
import * as zstd from 'zstd-napi'
import type { ChunkerParams } from '../vault/chunker'

export const AGENT_PATH = '/v1/agent-link'

export const FRAME_DATA = 0
export const FRAME_CHUNK = 1

/** Bytes of a stream in flight before the sender waits for the receiver's credit. */
export const STREAM_WINDOW = 8 * 1024 * 1024
/** A chunk-mode backup sends its chunk list in batches of at most this many... */
export const BATCH_CHUNKS = 32
/** ...or this many plaintext bytes, and keeps at most this many batches unacknowledged. */
export const BATCH_BYTES = 16 * 1024 * 1024
export const BATCHES_IN_FLIGHT = 2

/** Close codes the daemon uses to refuse an agent (the agent stops retrying on these). */
export const CLOSE_REFUSED = 4401

export type Endpoint = Record<string, unknown>

/** Daemon → agent. */
export type ToAgent =
  | { t: 'hello'; nonce: string; version: string }
  /**
   * Accepted. `signature` signs daemonAuthMessage(challenge, uuid) with the
   * daemon's identity key (identity.pem, served at /v1/meta/pubkey), whose
   * public half, `daemon_key`, the agent pins at pairing.
   */
  | { t: 'welcome'; uuid: string; name: string; daemon_key: string; signature: string }
  /** Sent just before the daemon closes a connection it will not accept; the agent stops. */
  | { t: 'refused'; message: string }
  | {
      t: 'backup'
      op: number
      plugin: string
      endpoint: Endpoint
      /** Present for a store with a vault: cut into chunks, send only what the store lacks. */
      chunking?: { params: ChunkerParams; idKey: string }
    }
  | { t: 'restore'; op: number; plugin: string; endpoint: Endpoint }
  | { t: 'undo'; op: number; plugin: string; endpoint: Endpoint; note: Record<string, unknown> }
  | { t: 'test'; op: number; plugin: string; endpoint: Endpoint }
  | { t: 'want'; op: number; batch: number; ids: string[] }
  | { t: 'ack'; op: number; batch: number }
  | { t: 'credit'; op: number; bytes: number }
  | { t: 'end'; op: number }
  | { t: 'cancel'; op: number }

/** Agent → daemon. */
export type FromAgent =
  | {
      t: 'pair'
      token: string
      public_key: string
      host: string
      version: string
      /** A nonce of the agent's, for the daemon to sign. */
      challenge: string
    }
  | { t: 'auth'; uuid: string; signature: string; host: string; version: string; challenge: string }
  | { t: 'log'; op: number; line: string }
  | { t: 'chunks'; op: number; batch: number; list: [string, number][] }
  | { t: 'end'; op: number; size: number }
  | { t: 'done'; op: number; result?: string }
  | { t: 'error'; op: number; message: string; name?: string }
  | { t: 'created'; op: number; id: number; note: Record<string, unknown> }
  | { t: 'withdrawn'; op: number; id: number }
  | { t: 'credit'; op: number; bytes: number }

/** What an agent signs to prove its key: the daemon's nonce and its own uuid. */
export const authMessage = (nonce: string, uuid: string): Buffer =>
  Buffer.from(`bulwark-agent-auth\n${nonce}\n${uuid}`)

/** What the daemon signs to prove its identity key: the agent's challenge and the agent's uuid. */
export const daemonAuthMessage = (challenge: string, uuid: string): Buffer =>
  Buffer.from(`bulwark-daemon-auth\n${challenge}\n${uuid}`)

export function dataFrame(op: number, data: Buffer): Buffer {
  const packed = zstd.compress(data, { compressionLevel: 1 })
  const head = Buffer.alloc(5)
  head.writeUInt32BE(op, 0)
  head[4] = FRAME_DATA
  return Buffer.concat([head, packed])
}

export function chunkFrame(op: number, id: string, plaintext: Buffer): Buffer {
  const packed = zstd.compress(plaintext, { compressionLevel: 1 })
  const head = Buffer.alloc(37)
  head.writeUInt32BE(op, 0)
  head[4] = FRAME_CHUNK
  head.write(id, 5, 32, 'hex')
  return Buffer.concat([head, packed])
}

/** A decoded binary frame; `wire` is its size as sent (compressed). */
export type Frame =
  | { op: number; kind: typeof FRAME_DATA; data: Buffer; wire: number }
  | { op: number; kind: typeof FRAME_CHUNK; id: string; data: Buffer; wire: number }

/** Decodes a binary frame; throws on a malformed one. */
export function readFrame(buf: Buffer): Frame {
  if (buf.length < 5) throw new Error('a binary frame shorter than its header')
  const op = buf.readUInt32BE(0)
  const kind = buf[4]
  if (kind === FRAME_DATA)
    return { op, kind, data: zstd.decompress(buf.subarray(5)), wire: buf.length }
  if (kind === FRAME_CHUNK && buf.length >= 37) {
    return {
      op,
      kind,
      id: buf.subarray(5, 37).toString('hex'),
      data: zstd.decompress(buf.subarray(37)),
      wire: buf.length,
    }
  }
  throw new Error(`a binary frame of unknown kind ${kind}`)
}
