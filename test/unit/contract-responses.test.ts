// The response schemas (contract/responses*.ts) and the response types the
// client and the UI are written against must say the same thing: each pair is
// checked both ways at compile time (npm run typecheck fails on a drift), and
// every schema compiles.
import type { Static, TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { describe, expect, it } from 'vitest'
import * as c from '../../src-daemon/contract'
import type { AgentCreated, AgentToken, AgentView } from '../../src-daemon/contract/agents'
import type { ArchiveDeleted, TaskCanceled } from '../../src-daemon/client'

/** true only when A and B are assignable to each other. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
type Agrees<S extends TSchema, T> = Same<Static<S>, T>

const agree: true[] = [
  true satisfies Agrees<typeof c.TargetSchema, c.Target>,
  true satisfies Agrees<typeof c.StoreSchema, c.Store>,
  true satisfies Agrees<typeof c.ScheduleSchema, c.Schedule>,
  true satisfies Agrees<typeof c.RetentionSchema, c.Retention>,
  true satisfies Agrees<typeof c.JobSchema, c.Job>,
  true satisfies Agrees<typeof c.ArchiveSchema, c.Archive>,
  true satisfies Agrees<typeof c.TaskSchema, c.Task>,
  true satisfies Agrees<typeof c.DaemonStatusSchema, c.DaemonStatus & { vault_format: number }>,
  true satisfies Agrees<typeof c.SchedulePreviewResultSchema, c.SchedulePreviewResult>,
  true satisfies Agrees<typeof c.ConnectionTestSchema, c.ConnectionTest>,
  true satisfies Agrees<typeof c.PingSchema, c.Ping>,
  true satisfies Agrees<typeof c.CreatedSchema, c.Created>,
  true satisfies Agrees<typeof c.UpdatedSchema, c.Updated>,
  true satisfies Agrees<typeof c.DeletedSchema, c.Deleted>,
  true satisfies Agrees<typeof c.ScheduledSchema, c.Scheduled>,
  true satisfies Agrees<typeof c.ArchiveDeletedSchema, ArchiveDeleted>,
  true satisfies Agrees<typeof c.TaskCanceledSchema, TaskCanceled>,
  true satisfies Agrees<typeof c.DownloadLinkSchema, c.DownloadLink>,
  true satisfies Agrees<typeof c.VaultInfoSchema, c.VaultInfo>,
  true satisfies Agrees<typeof c.StoreLocksSchema, c.StoreLocks>,
  true satisfies Agrees<typeof c.ImportResultSchema, c.ImportResult>,
  true satisfies Agrees<typeof c.RescanResultSchema, c.RescanResult>,
  true satisfies Agrees<typeof c.ApiErrorSchema, c.ApiErrorBody>,
  true satisfies Agrees<typeof c.PluginInfoSchema, c.PluginInfo>,
  true satisfies Agrees<typeof c.ChannelSchema, c.Channel>,
  true satisfies Agrees<typeof c.DeliverySchema, c.Delivery>,
  true satisfies Agrees<typeof c.ChannelKindInfoSchema, c.ChannelKindInfo>,
  true satisfies Agrees<typeof c.HealthReportSchema, c.HealthReport>,
  true satisfies Agrees<typeof c.AgentViewSchema, AgentView>,
  true satisfies Agrees<typeof c.AgentCreatedSchema, AgentCreated>,
  true satisfies Agrees<typeof c.AgentTokenSchema, AgentToken>,
  true satisfies Agrees<typeof c.SignInResultSchema, c.SignInResult>,
  true satisfies Agrees<typeof c.SignInLinkSchema, c.SignInLink>,
  true satisfies Agrees<typeof c.TreePageSchema, c.TreePage>,
  true satisfies Agrees<typeof c.TreeDiffSchema, c.TreeDiff>,
]

describe('response schemas', () => {
  it('agree with the response types (checked by the compiler) and compile', () => {
    expect(agree.every((a) => a)).toBe(true)
    const schemas = Object.entries(c).filter(([name]) => name.endsWith('Schema'))
    expect(schemas.length).toBeGreaterThanOrEqual(agree.length)
    for (const [, schema] of schemas)
      expect(() => TypeCompiler.Compile(schema as TSchema)).not.toThrow()
  })

  it('are closed: a field the types do not have is refused', () => {
    const check = TypeCompiler.Compile(c.PingSchema)
    expect(check.Check({ ok: 'pong', version: '1' })).toBe(true)
    expect(check.Check({ ok: 'pong', version: '1', extra: 1 })).toBe(false)
  })
})
