// Builds every service from one context; the API and the scheduler use these.
import { AgentHub } from '../agents/hub'
import { AgentService } from './agents'
import { ArchiveService } from './archives'
import { ChannelService } from './channels'
import type { ServiceContext } from './context'
import { HealthService } from './health'
import { JobService } from './jobs'
import { MetaService } from './meta'
import { MetricsService } from './metrics'
import { PluginResourceService } from './plugin-resources'
import { RetentionService } from './retention'
import { ScheduleService } from './schedules'
import { TaskService } from './tasks'
import { TreeService } from './trees'
import { VaultService } from './vault'

export type { ServiceContext } from './context'
export { EventBus } from './events'

export function createServices(
  ctx: ServiceContext,
  info: { version: string; startedAt: number; dataDir: string },
  locking: { lockLeaseMs: number; lockWaitMs: number } = {
    lockLeaseMs: 300_000,
    lockWaitMs: 1_800_000,
  },
  agentWaitMs?: number,
) {
  const agentHub = new AgentHub({
    catalog: ctx.catalog,
    clock: ctx.clock,
    log: ctx.log,
    dataDir: info.dataDir,
    version: info.version,
    waitMs: agentWaitMs,
  })
  const agents = new AgentService(ctx, agentHub)
  const targets = new PluginResourceService(ctx, 'target', agents)
  const stores = new PluginResourceService(ctx, 'store')
  const schedules = new ScheduleService(ctx)
  const vault = new VaultService(ctx, stores, { daemon: info.dataDir, ...locking })
  const archives = new ArchiveService(ctx, targets, stores, vault)
  return {
    agentHub,
    agents,
    targets,
    stores,
    schedules,
    retention: new RetentionService(ctx),
    jobs: new JobService(ctx, targets, stores, schedules, archives),
    archives,
    trees: new TreeService(ctx, archives, vault),
    tasks: new TaskService(ctx),
    vault,
    meta: new MetaService(ctx, info),
    health: new HealthService(ctx),
    channels: new ChannelService(ctx),
    metrics: new MetricsService({
      catalog: ctx.catalog,
      clock: ctx.clock,
      version: info.version,
      agentsConnected: () => agentHub.connectedCount(),
    }),
    events: ctx.events,
  }
}

export type Services = ReturnType<typeof createServices>
