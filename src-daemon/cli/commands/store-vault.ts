// bulwark gc store, bulwark import store: a store's vault as a whole. Import
// creates a store from a vault already in it (another daemon's, a copy), opened
// with its password or the recovery kit, and catalogs the archives it holds;
// given a REF it reads the vault of a known store again.
import { readFileSync } from 'node:fs'
import { VAULT_PASSWORD, type StoreImportInput } from '../../contract'
import { oneOf, type FlagSpec } from '../args'
import type { Command, Context } from '../command'
import { CliError, UsageError } from '../errors'
import { plural } from '../format'
import { label } from '../refs'
import {
  checkPasswordSource,
  passwordFrom,
  passwordStdinFlag,
  readPassword,
  withSecretFields,
} from '../secrets'
import { nameFlag, owner, ownerFlag, summaryFlag } from './common'
import { checkEndpointFlags, endpointFlags, endpointFor } from './endpoint-flags'
import { FOLLOW_DETAILS, followFlag } from './follow'
import { custom, defineNoun, startTask } from './noun'

const RECOVERY_KEY = 'recovery_key'

const IMPORT_FLAGS: FlagSpec[] = [
  nameFlag('store', false),
  {
    name: 'plugin',
    value: 'PLUGIN',
    help: 'the store plugin (see: bulwark list plugins --kind store)',
  },
  ...endpointFlags('store'),
  summaryFlag('store'),
  { ...passwordStdinFlag("the vault's password"), aliases: ['vault-password-stdin'] },
  {
    name: 'recovery-key-file',
    value: 'FILE',
    help: 'open the vault with the recovery kit in FILE (bulwark vault export-key) instead',
  },
]

/** The flags that describe a new store; none of them goes with REF. */
const NEW_STORE_FLAGS = IMPORT_FLAGS.map((f) => f.name)

const PASSWORD = { flag: 'password-stdin', prompt: 'Vault password' }

/** The recovery kit in FILE (import store, recover vault), read before the daemon is asked. */
export function readKeyFile(file: string): string {
  try {
    const text = readFileSync(file, 'utf8').trim()
    if (text) return text
  } catch (err) {
    throw new CliError(`cannot read the recovery kit: ${(err as Error).message}`)
  }
  throw new CliError(`${file} is empty; it should hold the recovery kit (bulwark vault export-key)`)
}

async function importNew(ctx: Context): Promise<void> {
  for (const f of ['name', 'plugin']) {
    if (!ctx.flags.has(f)) {
      throw new UsageError(
        `missing --${f} for "import store" (or give the REF of a known store to read its vault again)`,
        ctx.command,
      )
    }
  }
  const keyFile = ctx.flags.str('recovery-key-file')
  const base = checkEndpointFlags(ctx) ?? {}
  const sets = ctx.flags.all('set').map((item) => item.split('=')[0]?.trim())
  const given = [VAULT_PASSWORD, RECOVERY_KEY].some((k) => k in base || sets.includes(k))
  const source = oneOf(ctx.flags, 'password-stdin', 'recovery-key-file', ctx.command)
  if (source !== undefined && given) {
    throw new UsageError(
      `the endpoint already has a ${VAULT_PASSWORD} or ${RECOVERY_KEY}; leave it out and keep --${source}`,
      ctx.command,
    )
  }
  if (source === undefined && !given) checkPasswordSource(ctx, PASSWORD)

  const name = ctx.flags.str('name') ?? ''
  const plugin = ctx.flags.str('plugin') ?? ''
  const endpoint = await endpointFor(ctx, plugin, undefined)
  if (keyFile !== undefined) endpoint[RECOVERY_KEY] = readKeyFile(keyFile)
  else if (!given) endpoint[VAULT_PASSWORD] = await readPassword(ctx, PASSWORD)
  const body: StoreImportInput = { name, plugin, endpoint }
  const summary = ctx.flags.str('summary')
  if (summary !== undefined) body.summary = summary

  const secret =
    keyFile !== undefined
      ? { name: 'the recovery kit', from: `in ${keyFile}` }
      : given
        ? { name: 'the vault password', from: 'in the endpoint' }
        : { name: 'the vault password', from: passwordFrom(ctx, PASSWORD.flag) }
  const res = await withSecretFields(
    { [`endpoint.${VAULT_PASSWORD}`]: secret, [`endpoint.${RECOVERY_KEY}`]: secret },
    () => ctx.client.importStore(body),
  )
  if (ctx.json) return ctx.out.json(res)
  ctx.out.line(
    `imported store "${name}" ${res.uuid}: found ${plural(res.archives, 'archive')} in its vault`,
  )
  noteSkipped(ctx, res.skipped)
}

/** Manifests that could not be read are named in the daemon's log, not in the answer. */
function noteSkipped(ctx: Context, skipped: number | undefined): void {
  if (!skipped) return
  ctx.out.note(
    `${plural(skipped, 'archive')} in the store could not be read (damaged manifests); ` +
      "the daemon's log names them",
  )
}

export const storeVaultCommands: Command[] = defineNoun({
  noun: 'store',
  refs: (c) => c.listStores(),
  verbs: [
    custom((n) => ({
      verb: 'import',
      args: [{ ...n.ref, optional: true }],
      summary: 'create a store from the vault already in it (with REF: read its vault again)',
      usages: [
        '--name NAME --plugin PLUGIN (--endpoint JSON | --set KEY=VALUE ...) [--summary TEXT] ' +
          '[--password-stdin | --recovery-key-file FILE]',
        'REF',
      ],
      flags: IMPORT_FLAGS,
      details:
        'Without REF: a new store, as create store, over a store that already holds a Bulwark vault\n' +
        '(another daemon wrote it, or it was copied). The vault is opened with its password (the first\n' +
        'line of stdin with --password-stdin, else asked on the terminal) or with its recovery kit\n' +
        '(--recovery-key-file FILE), and every archive found in it is cataloged, to list and restore.\n' +
        'With REF: the vault of that store is read again, and archives the catalog lacks are added.\n' +
        'Imported with the recovery kit alone, the store gets a password Bulwark generates; set your\n' +
        'own with:  bulwark vault change-password STORE\n' +
        'Example:  printf \'%s\\n\' "$PASSWORD" | bulwark import store --name old --plugin fs \\\n' +
        '            --set path=/mnt/old-backups --password-stdin',
      async run(ctx) {
        if (ctx.args[0] === undefined) return importNew(ctx)
        const extra = NEW_STORE_FLAGS.find((f) => ctx.flags.has(f))
        if (extra !== undefined) {
          throw new UsageError(
            `--${extra} is for importing a new store; with REF, the known store's vault is read again ` +
              '(to give Bulwark its password: bulwark edit store REF --vault-password-stdin)',
            ctx.command,
          )
        }
        const store = await n.resolve(ctx)
        const res = await ctx.client.rescanStore(store.uuid)
        if (ctx.json) return ctx.out.json(res)
        const added = res.archives === 0 ? 'no archive' : plural(res.archives, 'archive')
        ctx.out.line(`read the vault of store ${label(store)} again: ${added} added to the catalog`)
        if (res.gone) {
          ctx.out.line(
            `${plural(res.gone, 'archive')} the catalog listed ${res.gone === 1 ? 'is' : 'are'} no longer in the store (deleted elsewhere): marked purged`,
          )
        }
        noteSkipped(ctx, res.skipped)
      },
    })),
    startTask({
      verb: 'gc',
      summary: "delete the chunks no archive in a store's vault uses (garbage collection)",
      flags: [ownerFlag, followFlag],
      details:
        'Prints the task uuid (or follows it). A chunk no archive lists is deleted once it has been\n' +
        'unreferenced for the grace period (24 h by default), so a backup still being written never\n' +
        'loses one. Refused while a collection of the store is pending or running.\n\n' +
        FOLLOW_DETAILS,
      body(ctx) {
        const who = owner(ctx)
        return who ? { owner: who } : {}
      },
      call: (c, uuid, body) => c.gcStore(uuid, body),
    }),
  ],
})
