// A store's vault: what it holds, its password and key slots, the recovery
// kit, garbage collection, and importing a store that already holds a vault.
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import {
  ArchiveVerify,
  CreatedSchema,
  DeletedSchema,
  ImportResultSchema,
  RescanResultSchema,
  ScheduledSchema,
  StoreLocksSchema,
  UpdatedSchema,
  VaultInfoSchema,
  LockBreakQuery,
  LockParams,
  SlotParams,
  StoreImport,
  UuidParams,
  VaultPasswordChange,
  VaultRecover,
  VaultSlotCreate,
  type Created,
  type Deleted,
  type ImportResult,
  type StoreLocks,
  type RescanResult,
  type Scheduled,
  type Updated,
  type VaultInfo,
} from '../../contract'
import type { Services } from '../../services'
import { answers, bytes } from '../responses'
import { optionalBody } from '../validation'

type Uuid = { Params: Static<typeof UuidParams> }
const NoBody = Type.Object({}, { additionalProperties: false })

export function vaultRoutes(app: FastifyInstance, s: Services): void {
  app.post<Uuid & { Body: Static<typeof ArchiveVerify> }>(
    '/v1/store/:uuid/gc',
    {
      schema: {
        params: UuidParams,
        body: optionalBody(ArchiveVerify),
        response: answers(ScheduledSchema),
      },
    },
    async (req): Promise<Scheduled> => {
      const task = await s.vault.gc(req.params.uuid, req.body.owner ?? 'anon')
      return { ok: 'scheduled', task_uuid: task.uuid }
    },
  )
  app.get<Uuid>(
    '/v1/store/:uuid/vault',
    { schema: { params: UuidParams, response: answers(VaultInfoSchema) } },
    (req): Promise<VaultInfo> => s.vault.info(req.params.uuid),
  )
  app.post<Uuid & { Body: Static<typeof VaultPasswordChange> }>(
    '/v1/store/:uuid/vault/password',
    { schema: { params: UuidParams, body: VaultPasswordChange, response: answers(UpdatedSchema) } },
    async (req): Promise<Updated> => {
      await s.vault.changePassword(req.params.uuid, req.body)
      return { ok: 'updated' }
    },
  )
  app.post<Uuid & { Body: Static<typeof VaultSlotCreate> }>(
    '/v1/store/:uuid/vault/slots',
    { schema: { params: UuidParams, body: VaultSlotCreate, response: answers(CreatedSchema) } },
    async (req): Promise<Created> => ({
      ok: 'created',
      uuid: await s.vault.addKeySlot(req.params.uuid, req.body),
    }),
  )
  app.delete<{ Params: Static<typeof SlotParams> }>(
    '/v1/store/:uuid/vault/slot/:id',
    { schema: { params: SlotParams, response: answers(DeletedSchema) } },
    async (req): Promise<Deleted> => {
      await s.vault.removeKeySlot(req.params.uuid, req.params.id)
      return { ok: 'deleted' }
    },
  )
  // The one response that carries a secret, on purpose: kept out of caches.
  app.get<Uuid>(
    '/v1/store/:uuid/vault/recovery-kit',
    {
      schema: {
        params: UuidParams,
        response: bytes('text/plain; charset=utf-8', 'the recovery kit'),
      },
    },
    async (req, reply) => {
      const kit = await s.vault.recoveryKit(req.params.uuid)
      return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(kit)
    },
  )
  app.get<Uuid>(
    '/v1/store/:uuid/locks',
    { schema: { params: UuidParams, response: answers(StoreLocksSchema) } },
    (req): Promise<StoreLocks> => s.vault.locks(req.params.uuid),
  )
  app.delete<{ Params: Static<typeof LockParams>; Querystring: Static<typeof LockBreakQuery> }>(
    '/v1/store/:uuid/lock/:id',
    {
      schema: { params: LockParams, querystring: LockBreakQuery, response: answers(DeletedSchema) },
    },
    async (req): Promise<Deleted> => {
      const force = req.query.force === 't' || req.query.force === 'true'
      await s.vault.breakLock(req.params.uuid, req.params.id, force, 'a user of the API')
      return { ok: 'deleted' }
    },
  )
  app.post<Uuid & { Body: Static<typeof VaultRecover> }>(
    '/v1/store/:uuid/vault/recover',
    { schema: { params: UuidParams, body: VaultRecover, response: answers(UpdatedSchema) } },
    async (req): Promise<Updated> => {
      await s.vault.recoverConfig(req.params.uuid, req.body)
      return { ok: 'updated' }
    },
  )
  app.post<{ Body: Static<typeof StoreImport> }>(
    '/v1/stores/import',
    { schema: { body: StoreImport, response: answers(ImportResultSchema) } },
    (req): Promise<ImportResult> => s.vault.importStore(req.body),
  )
  app.post<Uuid>(
    '/v1/store/:uuid/import',
    {
      schema: {
        params: UuidParams,
        body: optionalBody(NoBody),
        response: answers(RescanResultSchema),
      },
    },
    (req): Promise<RescanResult> => s.vault.rescan(req.params.uuid),
  )
}
