// What a task handler needs from the daemon. Endpoints arrive already
// resolved (secrets included), so handlers never see the secret store;
// stores and their archives are reached through the vault's repository.
import type { AgentHub } from '../agents/hub'
import type { Catalog } from '../catalog/catalog'
import type { TaskRow } from '../catalog/rows'
import type { PluginRegistry } from '../plugin-host/registry'
import type { Clock } from '../platform/clock'
import type { Logger } from '../platform/logger'
import type { Endpoint, PluginContext } from '../../plugins/sdk/types'
import type { TaskQueue } from './queue'
import type { VaultArchives } from '../vault/archives'

export interface TaskEnv {
  catalog: Catalog
  queue: TaskQueue
  clock: Clock
  registry: PluginRegistry
  /** The vault's archive repository: stores, sessions, archive I/O. */
  vault: VaultArchives
  log: Logger
  /** A target's plugin name and endpoint, secrets included. */
  target(uuid: string): { plugin: string; endpoint: Endpoint }
  /** Connected remote agents: a target with an agent runs there. */
  agents?: AgentHub
  /** How long an unreferenced chunk is kept before GC deletes it. */
  gcGraceMs: number
}

export type TaskHandler = (task: TaskRow, ctx: PluginContext, env: TaskEnv) => Promise<void>

/** A failure the handler already explained; its message is the task's error. */
export class TaskFailure extends Error {}
