// What the daemon says about itself: status, installed plugins.
import {
  BulwarkError,
  ErrorCode,
  type DaemonStatus,
  type PluginInfo,
  type PluginKind,
} from '../contract'
import { toIso } from '../platform/clock'
import type { ServiceContext } from './context'

export class MetaService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly info: { version: string; startedAt: number; dataDir: string },
  ) {}

  status(): DaemonStatus {
    const c = this.ctx.catalog
    return {
      version: this.info.version,
      started_at: toIso(this.info.startedAt),
      uptime_seconds: Math.floor((this.ctx.clock.now() - this.info.startedAt) / 1000),
      data_dir: this.info.dataDir,
      timezone: this.ctx.timezone,
      counts: {
        targets: c.targets.count(),
        stores: c.stores.count(),
        schedules: c.schedules.count(),
        retention: c.retention.count(),
        jobs: c.jobs.count(),
        archives: c.archives.count(),
      },
      tasks: c.tasks.countByStatus(),
    }
  }

  plugins(kind?: PluginKind): PluginInfo[] {
    return this.ctx.registry.list(kind)
  }

  plugin(name: string, kind?: PluginKind): PluginInfo {
    const found = this.ctx.registry.named(name).filter((p) => !kind || p.kind === kind)
    const first = found[0]
    if (!first) {
      throw new BulwarkError(ErrorCode.NotFound, `no plugin named "${name}" is installed`, 'name')
    }
    return first
  }
}
