// Builds every service from one context; the API and the scheduler use these.
import { ArchiveService } from './archives'
import type { ServiceContext } from './context'
import { JobService } from './jobs'
import { MetaService } from './meta'
import { PluginResourceService } from './plugin-resources'
import { RetentionService } from './retention'
import { ScheduleService } from './schedules'
import { TaskService } from './tasks'
import { VaultService } from './vault'

export type { ServiceContext } from './context'
export { EventBus } from './events'

export function createServices(
  ctx: ServiceContext,
  info: { version: string; startedAt: number; dataDir: string },
) {
  const targets = new PluginResourceService(ctx, 'target')
  const stores = new PluginResourceService(ctx, 'store')
  const schedules = new ScheduleService(ctx)
  const vault = new VaultService(ctx, stores)
  const archives = new ArchiveService(ctx, targets, stores, vault)
  return {
    targets,
    stores,
    schedules,
    retention: new RetentionService(ctx),
    jobs: new JobService(ctx, targets, stores, schedules, archives),
    archives,
    tasks: new TaskService(ctx),
    vault,
    meta: new MetaService(ctx, info),
    events: ctx.events,
  }
}

export type Services = ReturnType<typeof createServices>
