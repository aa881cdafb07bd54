// Events on the daemon's server-sent event stream (GET /v1/events).
import type { TaskStatus } from './resources'

export type ResourceKind =
  'target' | 'store' | 'schedule' | 'retention' | 'job' | 'archive' | 'task'

export type DaemonEvent =
  | {
      type: 'resource'
      kind: ResourceKind
      uuid: string
      action: 'created' | 'updated' | 'deleted'
    }
  | { type: 'task'; uuid: string; status: TaskStatus; progress: number | null; bytes: number }
  | { type: 'task-log'; uuid: string; line: string; at: string }
  | { type: 'heartbeat'; at: string }
