// Over ~300 lines on purpose: one method per route, read as a table of the API (transport: http.ts, queries: queries.ts).
// Typed HTTP client for the daemon's /v1 API. Browser-safe: it uses only the
// global fetch (or one passed in) and imports nothing but the contract, so the
// renderer, the desktop shell and the CLI all speak to the daemon through it.
import type {
  ArchiveRestoreInput,
  TreeDownloadPart,
  TreeDiff,
  TreePage,
  Channel,
  ChannelCreateInput,
  ChannelKindInfo,
  Delivery,
  HealthReport,
  Archive,
  ConnectionTest,
  EndpointTestInput,
  Created,
  DaemonEvent,
  DaemonStatus,
  Deleted,
  DownloadLink,
  ImportResult,
  Job,
  JobInput,
  Ping,
  PluginInfo,
  PluginKind,
  RescanResult,
  Retention,
  RetentionInput,
  Schedule,
  ScheduleInput,
  SchedulePreviewInput,
  SchedulePreviewResult,
  SignInLink,
  SignInResult,
  Scheduled,
  Store,
  StoreImportInput,
  StoreInput,
  Target,
  TargetInput,
  Task,
  Updated,
  VaultInfo,
  StoreLocks,
  VaultPasswordInput,
  VaultRecoverInput,
  VaultSlotInput,
} from '../contract'
import { dispositionFilename, HttpClient, queryString, seg, type ListPage } from './http'
import type {
  ArchiveDownload,
  ArchiveDeleted,
  ArchivesQuery,
  JobsQuery,
  JobUpdate,
  RetentionUpdate,
  ScheduleUpdate,
  StoreUpdate,
  TargetUpdate,
  TaskCanceled,
  TasksQuery,
  UsageQuery,
} from './queries'
import { openEventStream, type EventStream, type SubscribeOptions } from './event-stream'

export { ApiError, DaemonUnreachableError } from './errors'
export type { EventStream, SubscribeOptions } from './event-stream'
export { dispositionFilename, type ClientOptions, type HttpMethod, type ListPage } from './http'
export type * from './queries'

/** Importing a store reads every manifest in it: as long as the daemon gives its scan. */
const IMPORT_TIMEOUT_MS = 30 * 60_000

export class BulwarkClient extends HttpClient {
  // --- meta ---------------------------------------------------------------
  ping = () => this.request<Ping>('GET', '/v1/ping')
  status = () => this.request<DaemonStatus>('GET', '/v1/status')
  pubkey = () => this.requestText('GET', '/v1/meta/pubkey')

  // --- browser sign-in ------------------------------------------------------
  /** Trades a one-time code from a sign-in link for the token (needs no token). */
  signIn = (code: string) => this.request<SignInResult>('POST', '/v1/auth/signin', { code })
  /** A fresh one-time link that signs a browser in. */
  signInLink = () => this.request<SignInLink>('POST', '/v1/auth/link')

  // --- plugins ------------------------------------------------------------
  listPlugins = (kind?: PluginKind) =>
    this.request<PluginInfo[]>('GET', `/v1/plugins${queryString({ kind })}`)
  getPlugin = (name: string) => this.request<PluginInfo>('GET', `/v1/plugin/${seg(name)}`)

  // --- schedules ----------------------------------------------------------
  listSchedules = (q?: Pick<UsageQuery, 'unused'>) =>
    this.request<Schedule[]>('GET', `/v1/schedules${queryString(q)}`)
  getSchedule = (uuid: string) => this.request<Schedule>('GET', `/v1/schedule/${seg(uuid)}`)
  createSchedule = (input: ScheduleInput) => this.request<Created>('POST', '/v1/schedules', input)
  updateSchedule = (uuid: string, input: ScheduleUpdate) =>
    this.request<Updated>('PUT', `/v1/schedule/${seg(uuid)}`, input)
  deleteSchedule = (uuid: string) => this.request<Deleted>('DELETE', `/v1/schedule/${seg(uuid)}`)
  previewSchedule = (input: SchedulePreviewInput) =>
    this.request<SchedulePreviewResult>('POST', '/v1/schedules/preview', input)

  // --- retention policies -------------------------------------------------
  listRetention = (q?: Pick<UsageQuery, 'unused'>) =>
    this.request<Retention[]>('GET', `/v1/retention${queryString(q)}`)
  getRetention = (uuid: string) => this.request<Retention>('GET', `/v1/retention/${seg(uuid)}`)
  createRetention = (input: RetentionInput) => this.request<Created>('POST', '/v1/retention', input)
  updateRetention = (uuid: string, input: RetentionUpdate) =>
    this.request<Updated>('PUT', `/v1/retention/${seg(uuid)}`, input)
  deleteRetention = (uuid: string) => this.request<Deleted>('DELETE', `/v1/retention/${seg(uuid)}`)

  // --- targets ------------------------------------------------------------
  listTargets = (q?: UsageQuery) => this.request<Target[]>('GET', `/v1/targets${queryString(q)}`)
  getTarget = (uuid: string) => this.request<Target>('GET', `/v1/target/${seg(uuid)}`)
  createTarget = (input: TargetInput) => this.request<Created>('POST', '/v1/targets', input)
  updateTarget = (uuid: string, input: TargetUpdate) =>
    this.request<Updated>('PUT', `/v1/target/${seg(uuid)}`, input)
  deleteTarget = (uuid: string) => this.request<Deleted>('DELETE', `/v1/target/${seg(uuid)}`)
  /** Asks the plugin whether it can reach the target; `ok: false` is an answer, not an error. */
  testTarget = (uuid: string) =>
    this.request<ConnectionTest>('POST', `/v1/target/${seg(uuid)}/test`)
  /** Tests a target endpoint not saved yet (checked as create checks it). */
  testNewTarget = (input: EndpointTestInput) =>
    this.request<ConnectionTest>('POST', '/v1/targets/test', input)

  // --- stores -------------------------------------------------------------
  listStores = (q?: UsageQuery) => this.request<Store[]>('GET', `/v1/stores${queryString(q)}`)
  getStore = (uuid: string) => this.request<Store>('GET', `/v1/store/${seg(uuid)}`)
  createStore = (input: StoreInput) => this.request<Created>('POST', '/v1/stores', input)
  updateStore = (uuid: string, input: StoreUpdate) =>
    this.request<Updated>('PUT', `/v1/store/${seg(uuid)}`, input)
  deleteStore = (uuid: string) => this.request<Deleted>('DELETE', `/v1/store/${seg(uuid)}`)
  testStore = (uuid: string) => this.request<ConnectionTest>('POST', `/v1/store/${seg(uuid)}/test`)
  /** Tests a store endpoint not saved yet; its vault password is checked, never given to the plugin. */
  testNewStore = (input: EndpointTestInput) =>
    this.request<ConnectionTest>('POST', '/v1/stores/test', input)
  /** Schedules garbage collection of the store's vault (409 while one is pending or running). */
  gcStore = (uuid: string, opts: { owner?: string } = {}) =>
    this.request<Scheduled>('POST', `/v1/store/${seg(uuid)}/gc`, opts)
  /** Creates a store from a vault already in it; the endpoint carries vault_password or recovery_key. */
  importStore = (input: StoreImportInput) =>
    this.request<ImportResult>('POST', '/v1/stores/import', input, {
      timeoutMs: IMPORT_TIMEOUT_MS,
    })
  /** Reads the store's vault again and catalogs the archives the catalog lacks. */
  rescanStore = (uuid: string) =>
    this.request<RescanResult>('POST', `/v1/store/${seg(uuid)}/import`, undefined, {
      timeoutMs: IMPORT_TIMEOUT_MS,
    })

  // --- notification channels ---------------------------------------------
  /** Each kind of channel with its settings as field specs. */
  listChannelKinds = () => this.request<ChannelKindInfo[]>('GET', '/v1/channel-kinds')
  listChannels = () => this.request<Channel[]>('GET', '/v1/channels')
  getChannel = (uuid: string) => this.request<Channel>('GET', `/v1/channel/${seg(uuid)}`)
  createChannel = (input: ChannelCreateInput) =>
    this.request<Created>('POST', '/v1/channels', input)
  updateChannel = (uuid: string, input: ChannelCreateInput) =>
    this.request<Updated>('PUT', `/v1/channel/${seg(uuid)}`, input)
  deleteChannel = (uuid: string) => this.request<Deleted>('DELETE', `/v1/channel/${seg(uuid)}`)
  /** Sends a test message now; `ok: false` is an answer (the receiver's words), not an error. */
  testChannel = (uuid: string) => this.request<Delivery>('POST', `/v1/channel/${seg(uuid)}/test`)
  /** Sends a test message through a channel not saved yet (checked as create checks it). */
  testNewChannel = (input: ChannelCreateInput) =>
    this.request<Delivery>('POST', '/v1/channels/test', input)

  // --- health -------------------------------------------------------------
  /** The health signals raised now (stale jobs, shrunk archives, low space, overdue verifies). */
  getHealth = () => this.request<HealthReport>('GET', '/v1/health')

  // --- vaults -------------------------------------------------------------
  /** The store's vault: id, key slots, chunk and size totals (409 before its first backup). */
  getVault = (uuid: string) => this.request<VaultInfo>('GET', `/v1/store/${seg(uuid)}/vault`)
  changeVaultPassword = (uuid: string, input: VaultPasswordInput) =>
    this.request<Updated>('POST', `/v1/store/${seg(uuid)}/vault/password`, input)
  addVaultSlot = (uuid: string, input: VaultSlotInput) =>
    this.request<Created>('POST', `/v1/store/${seg(uuid)}/vault/slots`, input)
  deleteVaultSlot = (uuid: string, id: string) =>
    this.request<Deleted>('DELETE', `/v1/store/${seg(uuid)}/vault/slot/${seg(id)}`)
  /** The lock objects in the store's vault, stale ones marked. */
  listLocks = (uuid: string) => this.request<StoreLocks>('GET', `/v1/store/${seg(uuid)}/locks`)
  /** Breaks a lock: a stale one, or any with force (409 for a live one without it). */
  breakLock = (uuid: string, id: string, opts: { force?: boolean } = {}) =>
    this.request<Deleted>(
      'DELETE',
      `/v1/store/${seg(uuid)}/lock/${seg(id)}${opts.force ? '?force=t' : ''}`,
    )
  /**
   * Rewrites a lost vault.json from the recovery kit, with one key slot for the
   * password given or the one Bulwark keeps (409 while the store has a vault.json).
   */
  recoverVault = (uuid: string, input: VaultRecoverInput) =>
    this.request<Updated>('POST', `/v1/store/${seg(uuid)}/vault/recover`, input, {
      timeoutMs: IMPORT_TIMEOUT_MS,
    })
  /** The recovery kit as text: whoever holds it can read every archive in the store. */
  recoveryKit = (uuid: string) =>
    this.requestText('GET', `/v1/store/${seg(uuid)}/vault/recovery-kit`)

  // --- jobs ---------------------------------------------------------------
  listJobs = (q?: JobsQuery) => this.request<Job[]>('GET', `/v1/jobs${queryString(q)}`)
  getJob = (uuid: string) => this.request<Job>('GET', `/v1/job/${seg(uuid)}`)
  createJob = (input: JobInput) => this.request<Created>('POST', '/v1/jobs', input)
  updateJob = (uuid: string, input: JobUpdate) =>
    this.request<Updated>('PUT', `/v1/job/${seg(uuid)}`, input)
  deleteJob = (uuid: string) => this.request<Deleted>('DELETE', `/v1/job/${seg(uuid)}`)
  pauseJob = (uuid: string) => this.request<Updated>('POST', `/v1/job/${seg(uuid)}/pause`)
  unpauseJob = (uuid: string) => this.request<Updated>('POST', `/v1/job/${seg(uuid)}/unpause`)
  /** Backs up now; `full_read` reads every file of a directory, even unchanged ones. */
  runJob = (uuid: string, opts: { owner?: string; full_read?: boolean } = {}) =>
    this.request<Scheduled>('POST', `/v1/job/${seg(uuid)}/run`, opts)

  // --- archives -----------------------------------------------------------
  listArchives = (q?: ArchivesQuery) =>
    this.request<Archive[]>('GET', `/v1/archives${queryString(q)}`)
  /** One page (`limit`, from `cursor`) with the total matching and the next page's cursor. */
  listArchivesPage = (q: ArchivesQuery = {}): Promise<ListPage<Archive>> =>
    this.requestPage<Archive>(`/v1/archives${queryString(q)}`)
  /** Every archive matching `q`, read `q.limit` at a time (all at once without one). */
  eachArchive = (q: ArchivesQuery = {}): AsyncGenerator<Archive> =>
    this.allPages('/v1/archives', q, (p) => this.requestPage<Archive>(p))
  getArchive = (uuid: string) => this.request<Archive>('GET', `/v1/archive/${seg(uuid)}`)
  updateArchive = (uuid: string, input: { notes: string }) =>
    this.request<Updated>('PUT', `/v1/archive/${seg(uuid)}`, input)
  deleteArchive = (uuid: string) =>
    this.request<ArchiveDeleted>('DELETE', `/v1/archive/${seg(uuid)}`)
  /**
   * Restores an archive into its target (or `target`). For a tree archive,
   * `paths` picks files or directories, `to` an absolute directory instead of
   * the target's, and `conflict` what happens to files already there.
   */
  restoreArchive = (uuid: string, opts: ArchiveRestoreInput = {}) =>
    this.request<Scheduled>('POST', `/v1/archive/${seg(uuid)}/restore`, opts)
  /** A tree archive's directory (direct entries, by name), a page at a time. */
  listTree = (uuid: string, q: { path?: string; limit?: number; cursor?: string } = {}) =>
    this.request<TreePage>('GET', `/v1/archive/${seg(uuid)}/tree${queryString(q)}`)
  /** Entries of a tree archive whose name (or path, for a pattern with '/') matches a glob. */
  findInTree = (uuid: string, q: { pattern: string; limit?: number; cursor?: string }) =>
    this.request<TreePage>('GET', `/v1/archive/${seg(uuid)}/find${queryString(q)}`)
  /** What changed from `against` (the older tree archive) to `uuid`. */
  diffArchives = (uuid: string, against: string) =>
    this.request<TreeDiff>('GET', `/v1/archive/${seg(uuid)}/diff${queryString({ against })}`)
  /** Schedules a task that reads the archive back from its store and authenticates every byte. */
  verifyArchive = (uuid: string, opts: { owner?: string } = {}) =>
    this.request<Scheduled>('POST', `/v1/archive/${seg(uuid)}/verify`, opts)
  /**
   * A link (relative to the daemon) that downloads the archive once within 60 s
   * without the token: what a browser needs, as it cannot send the token on a link.
   */
  downloadLink = (uuid: string, part: TreeDownloadPart = {}) =>
    this.request<DownloadLink>('POST', `/v1/archive/${seg(uuid)}/download-link`, part)

  /**
   * Streams the archive's restored bytes (the dump the target plugin would
   * get). Errors before the transfer (not found, invalid archive) throw
   * ApiError; read the body to the end, or abort `signal` to stop.
   */
  async download(
    uuid: string,
    signal?: AbortSignal,
    part: TreeDownloadPart = {},
  ): Promise<ArchiveDownload> {
    const res = await this.send(
      'GET',
      `/v1/archive/${seg(uuid)}/download${queryString(part)}`,
      undefined,
      'application/octet-stream',
      signal,
      true,
    )
    const length = res.headers.get('content-length')
    return {
      body: res.body ?? new ReadableStream({ start: (c) => c.close() }),
      filename: dispositionFilename(res.headers.get('content-disposition')),
      size: length !== null && /^\d+$/.test(length) ? Number(length) : null,
    }
  }

  // --- tasks --------------------------------------------------------------
  listTasks = (q?: TasksQuery) => this.request<Task[]>('GET', `/v1/tasks${queryString(q)}`)
  /** One page (`limit`, default 500 newest, from `cursor`) with the total and the next cursor. */
  listTasksPage = (q: TasksQuery = {}): Promise<ListPage<Task>> =>
    this.requestPage<Task>(`/v1/tasks${queryString(q)}`)
  /** Every task matching `q` (not only the 500 newest), a page at a time. */
  eachTask = (q: TasksQuery = {}): AsyncGenerator<Task> =>
    this.allPages('/v1/tasks', q, (p) => this.requestPage<Task>(p))
  /** The task and its log; with `since`, only the log lines after that seq. */
  getTask = (uuid: string, q: { since?: number } = {}) =>
    this.request<Task>('GET', `/v1/task/${seg(uuid)}${queryString(q)}`)
  cancelTask = (uuid: string, q: { owner?: string } = {}) =>
    this.request<TaskCanceled>('DELETE', `/v1/task/${seg(uuid)}${queryString(q)}`)

  // --- events -------------------------------------------------------------
  /**
   * Opens the daemon's event stream (GET /v1/events, SSE) and resolves once the
   * daemon has answered: it subscribes before it sends its first byte, so every
   * event from then on is in the stream. Read it until `signal` aborts or it ends.
   * A dropped connection is reopened with Last-Event-ID (see SubscribeOptions),
   * so no event is lost; a `reset` event says the daemon could not replay them.
   */
  subscribe(signal?: AbortSignal, options?: SubscribeOptions): Promise<EventStream> {
    return openEventStream(
      (lastEventId, s) =>
        this.send(
          'GET',
          '/v1/events',
          undefined,
          'text/event-stream',
          s,
          true,
          undefined,
          lastEventId === undefined ? {} : { 'last-event-id': String(lastEventId) },
        ),
      signal,
      options,
    )
  }

  /** The daemon's event stream (GET /v1/events, SSE) until `signal` aborts or it ends. */
  async *events(signal?: AbortSignal): AsyncGenerator<DaemonEvent> {
    yield* await this.subscribe(signal)
  }
}
