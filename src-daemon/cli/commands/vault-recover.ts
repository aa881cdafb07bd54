// bulwark recover vault STORE (also: vault recover): a lost vault.json written
// again from the recovery kit, with one key slot for the password Bulwark keeps
// or a new one (stdin or a prompt, never argv).
import { ApiError } from '../../client'
import { REDACTED, VAULT_PASSWORD } from '../../contract'
import type { Context } from '../command'
import { parseStoredEndpoint } from '../endpoint'
import { CliError } from '../errors'
import { label, type Resolved } from '../refs'
import { passwordFrom, passwordStdinFlag, readPassword, withSecretFields } from '../secrets'
import { custom } from './noun'
import { readKeyFile } from './store-vault'

export const NEW_PASSWORD = { flag: 'password-stdin', prompt: 'New vault password', confirm: true }

const ofStore = (store: Resolved) => `the vault of store ${label(store)}`

/** Whether Bulwark keeps a vault password for the store (a kept secret reads back redacted). */
async function keepsPassword(ctx: Context, store: Resolved): Promise<boolean> {
  const endpoint = parseStoredEndpoint((await ctx.client.getStore(store.uuid)).endpoint)
  return endpoint[VAULT_PASSWORD] === REDACTED
}

/**
 * The password for the recovered vault's key slot: --password-stdin (or the
 * prompt) when given, else none (the daemon uses the one it keeps), unless it
 * keeps none, when one must be given.
 */
async function recoveryPassword(ctx: Context, store: Resolved): Promise<string | undefined> {
  if (ctx.flags.has(NEW_PASSWORD.flag)) return readPassword(ctx, NEW_PASSWORD)
  if (await keepsPassword(ctx, store)) return undefined
  if (!ctx.stdin.isTTY) {
    const file = ctx.flags.str('recovery-key-file') ?? 'FILE'
    throw new CliError(
      `Bulwark keeps no password for store ${label(store)}, so the recovered vault needs a new ` +
        `one; give it on stdin with --${NEW_PASSWORD.flag}, like:\n` +
        `  printf '%s\\n' "$PASSWORD" | bulwark recover vault ${store.uuid} ` +
        `--recovery-key-file ${file} --${NEW_PASSWORD.flag}\n` +
        "(never as an argument: other users can see a command's arguments)",
    )
  }
  ctx.out.note(`Bulwark keeps no password for store ${label(store)}: choose one for its vault.`)
  return readPassword(ctx, NEW_PASSWORD)
}

export const recoverVault = custom((n) => ({
  verb: 'recover',
  args: [n.ref],
  summary: "rewrite a store's lost vault.json from the recovery kit",
  flags: [
    {
      name: 'recovery-key-file',
      value: 'FILE',
      required: true,
      help: 'the recovery kit of the vault (written by: bulwark vault export-key)',
    },
    passwordStdinFlag('a new password for the vault (default: the one Bulwark keeps)'),
  ],
  details:
    "For a store whose vault.json (the vault's id and its wrapped key) was deleted or lost while\n" +
    'its chunks and manifests are still there. The kit is checked against an archive of the\n' +
    'store, then vault.json is written again: the same vault and key, with one key slot, for the\n' +
    'password Bulwark keeps for the store, or for a new one (--password-stdin: the first line of\n' +
    'stdin; on a terminal it is asked). Passwords added with vault add-password are gone: add\n' +
    'them again. Refused while the store still has a vault.json. Also: bulwark vault recover.\n' +
    'Example:  bulwark recover vault local --recovery-key-file kit.txt',
  async run(ctx) {
    const file = ctx.flags.str('recovery-key-file') ?? ''
    const kit = readKeyFile(file)
    const store = await n.resolve(ctx)
    const password = await recoveryPassword(ctx, store)
    const body = password === undefined ? { recovery_key: kit } : { recovery_key: kit, password }
    const res = await withSecretFields(
      {
        recovery_key: { name: 'the recovery kit', from: `in ${file}` },
        password: { name: 'the new password', from: passwordFrom(ctx, NEW_PASSWORD.flag) },
      },
      () => ctx.client.recoverVault(store.uuid, body),
    ).catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 409 && /has a vault\.json/.test(err.message)) {
        throw new CliError(
          `store ${label(store)} still has its vault.json: there is nothing to recover. ` +
            `To change the vault's password:  bulwark vault change-password ${store.uuid}`,
        )
      }
      throw err
    })
    const vault = await ctx.client.getVault(store.uuid)
    if (ctx.json) return ctx.out.json({ ...res, store: store.uuid, vault_id: vault.vault_id })
    const slot =
      password === undefined
        ? 'the password Bulwark keeps for the store'
        : 'the new password, which Bulwark now keeps'
    ctx.out.line(
      `recovered ${ofStore(store)}: vault ${vault.vault_id}, its vault.json written again ` +
        `from the recovery kit, with one key slot, for ${slot}`,
    )
    ctx.out.line(
      `Next: check that an archive reads back whole:  bulwark verify archive UUID --follow\n` +
        `(${vault.archives === 1 ? '1 archive' : `${vault.archives} archives`} in the vault; ` +
        `list them with:  bulwark list archives --store ${store.uuid}).\n` +
        'Other passwords the vault had are gone; add them again with:  ' +
        `bulwark vault add-password ${store.uuid}`,
    )
  },
}))
