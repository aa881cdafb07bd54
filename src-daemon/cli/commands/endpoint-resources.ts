// Targets and stores are the same shape (name, summary, plugin, endpoint; a
// target also has an agent), so one table serves both; the endpoint and
// vault-password flags are in endpoint-flags.ts.
import type { BulwarkClient } from '../../client'
import type { ConnectionTest, Created, Deleted, Store, Target, Updated } from '../../contract'
import type { Command, Noun } from '../command'
import { parseStoredEndpoint, type EndpointObject } from '../endpoint'
import { fmtEndpoint, shortUuid, truncate } from '../format'
import { formatPairs } from '../output'
import {
  SET_SECRET_DETAILS,
  VAULT_DETAILS,
  agentFlag,
  checkEndpointFlags,
  checkSecretFlags,
  checkVaultPasswordFlags,
  endpointFlags,
  endpointFor,
  keptVaultPassword,
  vaultPasswordFlag,
  vaultPasswordRefusal,
  withSetSecrets,
  withVaultPassword,
} from './endpoint-flags'
import { nameFlag, summaryFlag, unusedFilter, usageFlags } from './common'
import { action, create, defineNoun, edit, list, show, test, type Column } from './noun'
import { setSecretFlag } from '../secrets'

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

const agentOf = (item: Item) => ('agent' in item ? item.agent : undefined)

/** The stored endpoint one field a line, or as stored when it is not an object. */
function endpointText(item: Item): string {
  const endpoint = parseStoredEndpoint(item.endpoint)
  if (Object.keys(endpoint).length === 0) return item.endpoint
  const pairs = Object.entries(endpoint).map(
    ([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)] as const,
  )
  return formatPairs(pairs).trimEnd()
}

export function endpointCommands(noun: Noun & ('target' | 'store'), api: Api): Command[] {
  const kind = noun
  const hasAgent = noun === 'target'
  const hasVault = noun === 'store'
  const agentColumn = (title: string): Column<Item>[] =>
    hasAgent ? [[title, (i) => agentOf(i)]] : []

  return defineNoun({
    noun,
    refs: (c) => api.list(c, {}),
    verbs: [
      list({
        summary: `list ${kind}s`,
        synopsis: '[--used|--unused] [--plugin NAME]',
        flags: [
          ...usageFlags,
          { name: 'plugin', value: 'NAME', help: `only ${kind}s using this plugin` },
        ],
        fetch: (ctx) =>
          api.list(ctx.client, { plugin: ctx.flags.str('plugin'), unused: unusedFilter(ctx) }),
        columns: [
          ['UUID', (i) => shortUuid(i.uuid)],
          ['NAME', (i) => i.name],
          ['PLUGIN', (i) => i.plugin],
          ...agentColumn('AGENT'),
          ['SUMMARY', (i) => truncate(i.summary, 30)],
          // Last, so a long endpoint runs off the end of its line instead of pushing columns.
          ['ENDPOINT', (i) => truncate(fmtEndpoint(i.endpoint), 100)],
        ],
        empty: `no ${kind}s`,
      }),
      show({
        summary: `show one ${kind} (secrets are shown as <redacted>)`,
        get: api.get,
        fields: [
          ['UUID', (i) => i.uuid],
          ['Name', (i) => i.name],
          ['Summary', (i) => i.summary],
          ['Plugin', (i) => i.plugin],
          ...agentColumn('Agent'),
          ['Endpoint', endpointText],
        ],
      }),
      create({
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
        async body(ctx) {
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
          return body
        },
        call: api.create,
      }),
      edit({
        summary: `change a ${kind}; unset fields keep their values, secrets included`,
        flags: [
          nameFlag(kind, false),
          summaryFlag(kind),
          { name: 'plugin', value: 'PLUGIN', help: 'switch to another plugin' },
          ...endpointFlags(kind),
          { name: 'unset', value: 'KEY', multi: true, help: 'remove one endpoint field' },
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
        check(ctx) {
          checkEndpointFlags(ctx)
          checkSecretFlags(ctx)
          if (hasVault) checkVaultPasswordFlags(ctx)
        },
        load: async (ctx, ref) => ({ ref, cur: await api.get(ctx.client, ref.uuid), kept: false }),
        async body(ctx, loaded, ref) {
          const { cur } = loaded
          const plugin = ctx.flags.str('plugin') ?? cur.plugin
          const endpoint = await endpointFor(ctx, plugin, cur.endpoint)
          const body: Body & { summary: string } = {
            name: ctx.flags.str('name') ?? cur.name,
            summary: ctx.flags.str('summary') ?? cur.summary,
            plugin,
            endpoint: await withSetSecrets(ctx, plugin, endpoint),
          }
          if (hasVault) {
            loaded.kept = keptVaultPassword(ref, cur.endpoint, body.endpoint)
            body.endpoint = await withVaultPassword(ctx, body.endpoint, false)
          }
          if (hasAgent) body.agent = ctx.flags.str('agent') ?? agentOf(cur) ?? ''
          return body
        },
        call: (ctx, uuid, body, { ref, kept }) =>
          api.update(ctx.client, uuid, body).catch(vaultPasswordRefusal(ref, kept)),
      }),
      action({
        verb: 'delete',
        summary: `delete a ${kind} (refused while a job uses it)`,
        call: api.remove,
      }),
      test({
        summary: `check that the ${kind}'s plugin can reach it: print OK or FAILED, exit 0 or 1`,
        details:
          `The daemon asks the plugin to connect with the stored endpoint (secrets included), as a\n` +
          `backup would, and prints what it found ("OK: …") or what is wrong ("FAILED: …").\n` +
          `Nothing is ${noun === 'store' ? 'kept in the store' : 'backed up'}. With --json: {"ok","message","duration_ms"}.`,
        call: api.test,
        message: (res) => res.message,
      }),
    ],
  })
}
