// Health signals the daemon computes on its own (services/health.ts) and raises
// as events: the warnings that matter before a restore is needed.

export type HealthSignalKind =
  /** A job has had no valid archive for longer than twice its schedule's period (or its RPO). */
  | 'stale'
  /** An archive much smaller than the previous ones of the same target (< half the median of the last five). */
  | 'shrunk'
  /** A store is running out of space (fs: free space; S3: a configured quota). */
  | 'low-space'
  /** A job with a verify schedule whose newest valid archive has not been verified in time. */
  | 'verify-overdue'
  /** Verify found damage: an archive was marked invalid. */
  | 'invalid'

export interface HealthSignal {
  /** Stable for one condition on one subject, e.g. "stale:job:<uuid>". */
  id: string
  signal: HealthSignalKind
  severity: 'warning' | 'failure'
  subject: { kind: 'job' | 'store' | 'archive'; uuid: string; name: string }
  /** One sentence a person can act on. */
  message: string
  /** When the condition was first seen (ISO 8601 UTC). */
  since: string
  /** Figures behind it (sizes, ages in seconds, ...), for the dashboard and notifications. */
  details: Record<string, number | string | null>
}

/** GET /v1/health */
export interface HealthReport {
  signals: HealthSignal[]
  /** When the daemon last computed them. */
  checked_at: string | null
}
