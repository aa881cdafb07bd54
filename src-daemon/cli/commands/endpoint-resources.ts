// Targets and stores are the same shape (name, summary, plugin, endpoint; a
// target also has an agent), so one set of commands serves both.
import { ApiError, type BulwarkClient } from '../../client'
import {
  REDACTED,
  VAULT_PASSWORD,
  type ConnectionTest,
  type Created,
  type Deleted,
  type Store,
  type Target,
  type Updated,
} from '../../contract'
import type { FlagSpec } from '../args'
import type { Command, Context, Noun } from '../command'
import { CliError, EXIT_FAILED, EXIT_OK, UsageError } from '../errors'
import {
  applySets,
  fetchPlugin,
  parseEndpointJson,
  parseStoredEndpoint,
  splitSet,
  type EndpointObject,
} from '../endpoint'
import { fmtEndpoint, shortUuid, truncate } from '../format'
import { formatPairs } from '../output'
import { label, resolveRef, type Resolved } from '../refs'
import {
  checkSetSecretFlags,
  passwordStdinFlag,
  readPassword,
  readSetSecrets,
  setSecretFlag,
} from '../secrets'
import {
  REF_ARG,
  nameFlag,
  printCreated,
  printDone,
  requireSomeFlag,
  summaryFlag,
  unusedFilter,
  usageFlags,
} from './common'

type Item = Target | Store
type Body = {
  name: string
  summary?: string
  plugin: string
  endpoint: EndpointObject
  agent?: string
}

interface Api {
  list(c: BulwarkClient, q: { plugin?: string; unused?: boolean }): Promise<Item[]>
  get(c: BulwarkClient, uuid: string): Promise<Item>
  create(c: BulwarkClient, body: Body): Promise<Created>
  update(c: BulwarkClient, uuid: string, body: Body & { summary: string }): Promise<Updated>
  remove(c: BulwarkClient, uuid: string): Promise<Deleted>
  test(c: BulwarkClient, uuid: string): Promise<ConnectionTest>
}

export const endpointFlags = (kind: string): FlagSpec[] => [
  { name: 'endpoint', value: 'JSON', help: `the ${kind}'s endpoint configuration, a JSON object` },
  {
    name: 'set',
    value: 'KEY=VALUE',
    multi: true,
    help: "set one endpoint field, typed by the plugin's fields; applied after --endpoint",
  },
]

/** Checks --endpoint and --set before anything is sent, so typos fail fast. */
export function checkEndpointFlags(ctx: Context): EndpointObject | undefined {
  for (const item of ctx.flags.all('set')) splitSet(item, ctx.command)
  const text = ctx.flags.str('endpoint')
  return text === undefined ? undefined : parseEndpointJson(text, ctx.command)
}

/** --endpoint (or the stored endpoint) with --set and --unset applied. */
export async function endpointFor(ctx: Context, plugin: string, stored: string | undefined) {
  const base = checkEndpointFlags(ctx) ?? parseStoredEndpoint(stored ?? '{}')
  const sets = ctx.flags.all('set')
  const unsets = ctx.flags.all('unset')
  if (sets.length === 0 && unsets.length === 0) return base
  return applySets(base, sets, unsets, await fetchPlugin(ctx.client, plugin), ctx.command)
}

/** Checks --set-secret against --set before anything is sent. */
function checkSecretFlags(ctx: Context): void {
  const setKeys = ctx.flags.all('set').map((item) => splitSet(item, ctx.command)[0])
  checkSetSecretFlags(ctx, setKeys)
}

/** --set-secret NAME ...: the secrets into the endpoint, read from stdin or the terminal. */
async function withSetSecrets(
  ctx: Context,
  plugin: string,
  endpoint: EndpointObject,
): Promise<EndpointObject> {
  if (!ctx.flags.has(setSecretFlag.name)) return endpoint
  const values = await readSetSecrets(ctx, await fetchPlugin(ctx.client, plugin), plugin)
  return { ...endpoint, ...values }
}

export const vaultPasswordFlag: FlagSpec = passwordStdinFlag(
  "the password of the store's vault",
  'vault-password-stdin',
)

/** Refuses the password on argv next to --vault-password-stdin, so only one source counts. */
export function checkVaultPasswordFlags(ctx: Context): void {
  if (!ctx.flags.has(vaultPasswordFlag.name)) return
  const onArgv = ctx.flags
    .all('set')
    .some((item) => splitSet(item, ctx.command)[0] === VAULT_PASSWORD)
  if (onArgv) {
    throw new UsageError(
      `--set ${VAULT_PASSWORD}=… and --${vaultPasswordFlag.name} cannot be used together; ` +
        `keep --${vaultPasswordFlag.name} (arguments are visible to other users)`,
      ctx.command,
    )
  }
}

/** --vault-password-stdin: the password into the endpoint, read from stdin or the terminal. */
async function withVaultPassword(
  ctx: Context,
  endpoint: EndpointObject,
  confirm: boolean,
): Promise<EndpointObject> {
  if (!ctx.flags.has(vaultPasswordFlag.name)) return endpoint
  const password = await readPassword(ctx, {
    flag: vaultPasswordFlag.name,
    prompt: 'Vault password',
    confirm,
  })
  return { ...endpoint, [VAULT_PASSWORD]: password }
}

/** Editing a store never changes the password of its vault: that is vault change-password. */
const vaultPasswordEditError = (store: Resolved) =>
  new CliError(
    `store ${label(store)} already has a vault password, and editing the store does not change ` +
      'it (a password that does not open the vault would lock every backup out of it).\n' +
      `To change the password of its vault:  bulwark vault change-password ${store.uuid}`,
  )

/**
 * Refuses, before anything is sent, a vault password set with --set or
 * --endpoint on a store whose password Bulwark already keeps (the daemon
 * would answer 400 on endpoint.vault_password).
 */
function refuseVaultPasswordEdit(store: Resolved, endpoint: EndpointObject): void {
  const value = endpoint[VAULT_PASSWORD]
  if (value !== undefined && value !== REDACTED) throw vaultPasswordEditError(store)
}

const agentFlag: FlagSpec = {
  name: 'agent',
  value: 'NAME',
  help: 'the agent (bulwark list agents) that runs this target on the data\'s own host; "" for this host',
}

const VAULT_DETAILS =
  "A built-in store keeps its archives in an encrypted vault. Give the vault's password with\n" +
  '--vault-password-stdin (the first line of stdin, or asked on the terminal), never on the\n' +
  'command line; without one, Bulwark generates one on the first backup. Either way, keep the\n' +
  'recovery kit:  bulwark vault export-key STORE --output FILE'

const SET_SECRET_DETAILS =
  'Secret fields (a password, a secret key) belong on stdin, not in --set, where other users\n' +
  'can read them (ps, shell history): --set-secret NAME reads one line of stdin, or asks on the\n' +
  'terminal without echo; several --set-secret read one line each, in order. For example:\n' +
  `  printf '%s\\n' "$PGPASSWORD" | bulwark create target --name db --plugin postgres \\\n` +
  '        --set database=app --set-secret password'

const agentOf = (item: Item) => ('agent' in item ? item.agent : undefined)

export function endpointCommands(noun: Noun & ('target' | 'store'), api: Api): Command[] {
  const kind = noun
  const hasAgent = noun === 'target'
  const hasVault = noun === 'store'
  const list = (ctx: Context) => () => api.list(ctx.client, {})
  const resolve = (ctx: Context) => resolveRef(kind, ctx.args[0] ?? '', list(ctx))

  return [
    {
      verb: 'list',
      noun,
      summary: `list ${kind}s`,
      synopsis: '[--used|--unused] [--plugin NAME]',
      flags: [
        ...usageFlags,
        { name: 'plugin', value: 'NAME', help: `only ${kind}s using this plugin` },
      ],
      async run(ctx) {
        const items = await api.list(ctx.client, {
          plugin: ctx.flags.str('plugin'),
          unused: unusedFilter(ctx),
        })
        if (ctx.json) return ctx.out.json(items)
        const headers = [
          'UUID',
          'NAME',
          'PLUGIN',
          ...(hasAgent ? ['AGENT'] : []),
          'SUMMARY',
          'ENDPOINT',
        ]
        const rows = items.map((i) => [
          shortUuid(i.uuid),
          i.name,
          i.plugin,
          ...(hasAgent ? [agentOf(i)] : []),
          truncate(i.summary, 30),
          // Last, so a long endpoint runs off the end of its line instead of pushing columns.
          truncate(fmtEndpoint(i.endpoint), 100),
        ])
        ctx.out.table(headers, rows, `no ${kind}s`)
      },
    },
    {
      verb: 'show',
      noun,
      args: [REF_ARG(kind)],
      summary: `show one ${kind} (secrets are shown as <redacted>)`,
      async run(ctx) {
        const item = await api.get(ctx.client, (await resolve(ctx)).uuid)
        if (ctx.json) return ctx.out.json(item)
        const endpoint = parseStoredEndpoint(item.endpoint)
        const endpointText = Object.keys(endpoint).length
          ? formatPairs(
              Object.entries(endpoint).map(([k, v]) => [
                k,
                typeof v === 'string' ? v : JSON.stringify(v),
              ]),
            ).trimEnd()
          : item.endpoint
        ctx.out.pairs([
          ['UUID', item.uuid],
          ['Name', item.name],
          ['Summary', item.summary],
          ['Plugin', item.plugin],
          ...(hasAgent ? [['Agent', agentOf(item)] as const] : []),
          ['Endpoint', endpointText],
        ])
      },
    },
    {
      verb: 'create',
      noun,
      summary: `create a ${kind}`,
      synopsis:
        `--name NAME --plugin PLUGIN (--endpoint JSON | --set KEY=VALUE ...) [--set-secret NAME ...] [--summary TEXT]` +
        (hasAgent ? ' [--agent NAME]' : '') +
        (hasVault ? ' [--vault-password-stdin]' : ''),
      flags: [
        nameFlag(kind, true),
        {
          name: 'plugin',
          value: 'PLUGIN',
          required: true,
          help: `the ${kind} plugin (see: bulwark list plugins)`,
        },
        ...endpointFlags(kind),
        setSecretFlag,
        summaryFlag(kind),
        ...(hasAgent ? [agentFlag] : []),
        ...(hasVault ? [vaultPasswordFlag] : []),
      ],
      details:
        `Endpoint fields and their types come from the plugin: bulwark show plugin PLUGIN.\n` +
        `Example:  bulwark create ${kind} --name ${noun === 'store' ? 'local --plugin fs --set path=/srv/backups' : 'pg-main --plugin postgres --set host=db --set database=app'}\n\n` +
        SET_SECRET_DETAILS +
        (hasVault ? `\n\n${VAULT_DETAILS}` : ''),
      async run(ctx) {
        checkEndpointFlags(ctx)
        checkSecretFlags(ctx)
        if (hasVault) checkVaultPasswordFlags(ctx)
        const name = ctx.flags.str('name') ?? ''
        const plugin = ctx.flags.str('plugin') ?? ''
        let endpoint = await endpointFor(ctx, plugin, undefined)
        endpoint = await withSetSecrets(ctx, plugin, endpoint)
        if (hasVault) endpoint = await withVaultPassword(ctx, endpoint, true)
        const body: Body = { name, plugin, endpoint }
        const summary = ctx.flags.str('summary')
        if (summary !== undefined) body.summary = summary
        const agent = ctx.flags.str('agent')
        if (hasAgent && agent !== undefined) body.agent = agent
        printCreated(ctx, kind, name, await api.create(ctx.client, body))
      },
    },
    {
      verb: 'edit',
      noun,
      args: [REF_ARG(kind)],
      summary: `change a ${kind}; unset fields keep their values, secrets included`,
      flags: [
        nameFlag(kind, false),
        summaryFlag(kind),
        { name: 'plugin', value: 'PLUGIN', help: 'switch to another plugin' },
        ...endpointFlags(kind),
        {
          name: 'unset',
          value: 'KEY',
          multi: true,
          help: 'remove one endpoint field',
        },
        setSecretFlag,
        ...(hasAgent ? [agentFlag] : []),
        ...(hasVault ? [vaultPasswordFlag] : []),
      ],
      details:
        'Without --endpoint, --set and --unset change the stored endpoint. Secret fields read back as\n' +
        '<redacted>, and sending <redacted> keeps the stored secret, so editing never loses one.\n\n' +
        SET_SECRET_DETAILS +
        (hasVault
          ? '\n\n--vault-password-stdin tells Bulwark the password of the vault already in the store\n' +
            '(read from stdin, or asked on the terminal). To change the password of the vault\n' +
            'itself, use:  bulwark vault change-password STORE'
          : ''),
      async run(ctx) {
        checkEndpointFlags(ctx)
        checkSecretFlags(ctx)
        if (hasVault) checkVaultPasswordFlags(ctx)
        requireSomeFlag(ctx, [
          'name',
          'summary',
          'plugin',
          'endpoint',
          'set',
          'unset',
          setSecretFlag.name,
          ...(hasAgent ? ['agent'] : []),
          ...(hasVault ? [vaultPasswordFlag.name] : []),
        ])
        const ref = await resolve(ctx)
        const cur = await api.get(ctx.client, ref.uuid)
        const plugin = ctx.flags.str('plugin') ?? cur.plugin
        const body: Body & { summary: string } = {
          name: ctx.flags.str('name') ?? cur.name,
          summary: ctx.flags.str('summary') ?? cur.summary,
          plugin,
          endpoint: await withSetSecrets(ctx, plugin, await endpointFor(ctx, plugin, cur.endpoint)),
        }
        // Bulwark keeps a password for the vault: it reads back redacted.
        const kept = hasVault && parseStoredEndpoint(cur.endpoint)[VAULT_PASSWORD] === REDACTED
        if (kept) refuseVaultPasswordEdit(ref, body.endpoint)
        if (hasVault) body.endpoint = await withVaultPassword(ctx, body.endpoint, false)
        if (hasAgent) body.agent = ctx.flags.str('agent') ?? agentOf(cur) ?? ''
        const res = await api.update(ctx.client, ref.uuid, body).catch((err: unknown) => {
          // --vault-password-stdin with another password than the one kept.
          const field = `endpoint.${VAULT_PASSWORD}`
          if (kept && err instanceof ApiError && err.field === field) {
            throw vaultPasswordEditError(ref)
          }
          throw err
        })
        printDone(ctx, res, 'updated', kind, { uuid: ref.uuid, name: body.name })
      },
    },
    {
      verb: 'delete',
      noun,
      args: [REF_ARG(kind)],
      summary: `delete a ${kind} (refused while a job uses it)`,
      async run(ctx) {
        const ref = await resolve(ctx)
        printDone(ctx, await api.remove(ctx.client, ref.uuid), 'deleted', kind, ref)
      },
    },
    {
      verb: 'test',
      noun,
      args: [REF_ARG(kind)],
      summary: `check that the ${kind}'s plugin can reach it: print OK or FAILED, exit 0 or 1`,
      details:
        `The daemon asks the plugin to connect with the stored endpoint (secrets included), as a\n` +
        `backup would, and prints what it found ("OK: …") or what is wrong ("FAILED: …").\n` +
        `Nothing is ${noun === 'store' ? 'kept in the store' : 'backed up'}. With --json: {"ok","message","duration_ms"}.`,
      async run(ctx) {
        const ref = await resolve(ctx)
        const res = await api.test(ctx.client, ref.uuid)
        if (ctx.json) ctx.out.json(res)
        else ctx.out.line(`${res.ok ? 'OK' : 'FAILED'}: ${res.message}`)
        return res.ok ? EXIT_OK : EXIT_FAILED
      },
    },
  ]
}
