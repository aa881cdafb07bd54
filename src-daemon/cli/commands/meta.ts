// bulwark status, bulwark ping, bulwark ui.
import type { Command } from '../command'
import { fmtDate, fmtUptime } from '../format'

export const metaCommands: Command[] = [
  {
    verb: 'status',
    summary: "show the daemon's version, data directory and what it holds",
    async run(ctx) {
      const s = await ctx.client.status()
      if (ctx.json) return ctx.out.json(s)
      // Status shows the rest even when the health signals cannot be had (an older daemon).
      const health = await ctx.client.getHealth().catch((err: Error) => err)
      const c = s.counts
      const tasks = Object.entries(s.tasks)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')
      ctx.out.pairs([
        ['Daemon', `bulwark ${s.version} at ${ctx.client.baseUrl}`],
        ['Started', `${fmtDate(s.started_at)} (up ${fmtUptime(s.uptime_seconds)})`],
        ['Data dir', s.data_dir],
        ['Timezone', s.timezone],
        ['Targets', c.targets],
        ['Stores', c.stores],
        ['Schedules', c.schedules],
        ['Retention', c.retention],
        ['Jobs', c.jobs],
        ['Archives', c.archives],
        ['Tasks', tasks],
        [
          'Health',
          health instanceof Error
            ? `unknown (${health.message})`
            : health.signals.length === 0
              ? 'all healthy'
              : `${health.signals.length} signal(s) raised (docs/health.md)`,
        ],
      ])
      for (const signal of health instanceof Error ? [] : health.signals) {
        ctx.out.line(`  ${signal.severity}: ${signal.signal}: ${signal.message}`)
      }
    },
  },
  {
    verb: 'ui',
    summary: 'print a link that signs a browser in to the web UI (it works once)',
    async run(ctx) {
      const link = await ctx.client.signInLink()
      if (ctx.json) return ctx.out.json(link)
      ctx.out.line(link.url)
      ctx.out.line(`Open it in a browser before ${fmtDate(link.expires_at)}; it signs in once.`)
    },
  },
  {
    verb: 'ping',
    summary: 'check that the daemon answers (needs no token)',
    async run(ctx) {
      const p = await ctx.client.ping()
      if (ctx.json) return ctx.out.json(p)
      ctx.out.line(`pong: bulwark daemon ${p.version} at ${ctx.client.baseUrl}`)
    },
  },
]
