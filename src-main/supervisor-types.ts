// The supervisor's vocabulary, shared with the app's adapter and the tray:
// its states, the connection to a ready daemon, its health checks, its options.
import type { BackoffOptions } from './backoff'
import type { DaemonCommand } from './daemon-process'

export type SupervisorState = 'starting' | 'ready' | 'restarting' | 'failing' | 'stopped'

export interface DaemonConnection {
  url: string
  /** Kept in memory only; give it to the API client, never to a log. */
  token: string
  pid: number
  version: string
  /** Found running rather than started by this supervisor. */
  attached: boolean
  /** Runs detached from the app (background mode): quitting may leave it running. */
  background: boolean
}

export interface StateChange {
  state: SupervisorState
  /** Set while ready. */
  connection: DaemonConnection | null
  /** Times the daemon died and was (or will be) started again. */
  restarts: number
  /** For restarting and failing: how long until the next start. */
  delayMs?: number
  /** For restarting, failing and stopped: what happened, in one line. */
  reason?: string
  at: number
}

export interface HealthCheck {
  ok: boolean
  at: number
  error?: string
}

export interface SupervisorOptions extends DaemonCommand {
  dataDir: string
  /** Start a daemon that outlives the app (detached); see daemon-process.ts. */
  background?: boolean
  /** How often to check the daemon answers (default 5 s). */
  healthMs?: number
  /** A check not answered within this long failed (default 5 s). */
  healthTimeoutMs?: number
  /** An unready daemon is killed and counted as dead after this long (default 60 s). */
  readyTimeoutMs?: number
  /** Each step of stop() (stdin closed, SIGTERM) waits this long before the next (default 15 s). */
  stopGraceMs?: number
  /** A daemon of ours that fails this many health checks in a row is hung: killed and restarted (default 3). */
  hungAfter?: number
  backoff?: BackoffOptions
  /** Lines kept for the logs view (default 500). */
  logLines?: number
}
