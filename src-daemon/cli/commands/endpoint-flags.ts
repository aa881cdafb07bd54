// The flags that carry a target's or a store's endpoint (--endpoint, --set,
// --unset, --set-secret) and a store's vault password, checked before anything
// is sent and applied to the body the daemon gets. Secrets come from stdin or
// the terminal, never argv.
import { ApiError } from '../../client'
import { REDACTED, VAULT_PASSWORD } from '../../contract'
import type { FlagSpec } from '../args'
import type { Context } from '../command'
import { CliError, UsageError } from '../errors'
import {
  applySets,
  fetchPlugin,
  parseEndpointJson,
  parseStoredEndpoint,
  splitSet,
  type EndpointObject,
} from '../endpoint'
import { label, type Resolved } from '../refs'
import {
  checkSetSecretFlags,
  passwordStdinFlag,
  readPassword,
  readSetSecrets,
  setSecretFlag,
} from '../secrets'

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
export function checkSecretFlags(ctx: Context): void {
  const setKeys = ctx.flags.all('set').map((item) => splitSet(item, ctx.command)[0])
  checkSetSecretFlags(ctx, setKeys)
}

/** --set-secret NAME ...: the secrets into the endpoint, read from stdin or the terminal. */
export async function withSetSecrets(
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
export async function withVaultPassword(
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
export const vaultPasswordEditError = (store: Resolved) =>
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
export function refuseVaultPasswordEdit(store: Resolved, endpoint: EndpointObject): void {
  const value = endpoint[VAULT_PASSWORD]
  if (value !== undefined && value !== REDACTED) throw vaultPasswordEditError(store)
}

export const agentFlag: FlagSpec = {
  name: 'agent',
  value: 'NAME',
  help: 'the agent (bulwark list agents) that runs this target on the data\'s own host; "" for this host',
}

export const VAULT_DETAILS =
  "A built-in store keeps its archives in an encrypted vault. Give the vault's password with\n" +
  '--vault-password-stdin (the first line of stdin, or asked on the terminal), never on the\n' +
  'command line; without one, Bulwark generates one on the first backup. Either way, keep the\n' +
  'recovery kit:  bulwark vault export-key STORE --output FILE'

export const SET_SECRET_DETAILS =
  'Secret fields (a password, a secret key) belong on stdin, not in --set, where other users\n' +
  'can read them (ps, shell history): --set-secret NAME reads one line of stdin, or asks on the\n' +
  'terminal without echo; several --set-secret read one line each, in order. For example:\n' +
  `  printf '%s\\n' "$PGPASSWORD" | bulwark create target --name db --plugin postgres \\\n` +
  '        --set database=app --set-secret password'

/**
 * Whether Bulwark keeps a password for the store's vault (it reads back
 * redacted); an edit then refuses a new one given with --set or --endpoint
 * before anything is sent (the daemon would answer 400 on endpoint.vault_password).
 */
export function keptVaultPassword(store: Resolved, stored: string, endpoint: EndpointObject) {
  const kept = parseStoredEndpoint(stored)[VAULT_PASSWORD] === REDACTED
  if (kept) refuseVaultPasswordEdit(store, endpoint)
  return kept
}

/** The daemon's refusal of --vault-password-stdin with another password than the one kept. */
export function vaultPasswordRefusal(store: Resolved, kept: boolean) {
  return (err: unknown): never => {
    if (kept && err instanceof ApiError && err.field === `endpoint.${VAULT_PASSWORD}`) {
      throw vaultPasswordEditError(store)
    }
    throw err
  }
}
