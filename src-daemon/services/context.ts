// What every service needs, built once by the composition root.
import type { Catalog } from '../catalog/catalog'
import type { PluginRegistry } from '../plugin-host/registry'
import type { Clock } from '../platform/clock'
import type { Logger } from '../platform/logger'
import type { SecretStore } from '../platform/secrets'
import type { TaskQueue } from '../tasks/queue'
import type { EventBus } from './events'

export interface ServiceContext {
  catalog: Catalog
  registry: PluginRegistry
  secrets: SecretStore
  clock: Clock
  events: EventBus
  queue: TaskQueue
  log: Logger
  /** The daemon's own timezone: the default for new schedules. */
  timezone: string
}
