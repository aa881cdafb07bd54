// What a task handler needs from the daemon. Endpoints arrive already
// resolved (secrets included) through `endpoint`, so handlers never see the
// secret store.
import type { Catalog } from '../catalog/catalog'
import type { TaskRow } from '../catalog/rows'
import type { PluginRegistry } from '../plugin-host/registry'
import type { Clock } from '../platform/clock'
import type { Logger } from '../platform/logger'
import type { ArchiveIO } from '../vault/archive-io'
import type { Endpoint, PluginContext } from '../../plugins/sdk/types'
import type { TaskQueue } from './queue'

export interface TaskEnv {
  catalog: Catalog
  queue: TaskQueue
  clock: Clock
  registry: PluginRegistry
  archives: ArchiveIO
  log: Logger
  endpoint(kind: 'target' | 'store', uuid: string): { plugin: string; endpoint: Endpoint }
}

export type TaskHandler = (task: TaskRow, ctx: PluginContext, env: TaskEnv) => Promise<void>

/** A failure the handler already explained; its message is the task's error. */
export class TaskFailure extends Error {}
