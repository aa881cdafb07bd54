// bulwark show vault STORE (also: vault show), and vault change-password |
// add-password | remove-password | export-key, and recover vault
// (vault-recover.ts). A store's
// vault is addressed by the store's REF; passwords come from stdin or a
// prompt, never argv.
import { closeSync, fchmodSync, fsyncSync, openSync, writeSync } from 'node:fs'
import { ApiError } from '../../client'
import type { VaultInfo } from '../../contract'
import type { Command, Context } from '../command'
import { CliError } from '../errors'
import { fmtDate, fmtRatio, fmtSize, shortUuid } from '../format'
import { formatTable } from '../output'
import { isUuid, label, pickRef, type Resolved } from '../refs'
import {
  checkPasswordSource,
  passwordFrom,
  passwordStdinFlag,
  readPassword,
  withSecretFields,
} from '../secrets'
import { custom, defineNoun } from './noun'
import { NEW_PASSWORD, recoverVault } from './vault-recover'

const STORE_ARG = {
  name: 'STORE',
  help: 'the store: its uuid, a unique uuid prefix (4+ characters) or its exact name',
}

const ofStore = (store: Resolved) => `the vault of store ${label(store)}`

function printVault(ctx: Context, store: Resolved, v: VaultInfo): void {
  const c = v.chunking
  ctx.out.pairs([
    ['Store', label(store)],
    ['Vault', v.vault_id],
    ['Created', fmtDate(v.created_at, true)],
    ['Chunking', `${fmtSize(c.min)} min, ${fmtSize(c.avg)} average, ${fmtSize(c.max)} max`],
    ['Archives', v.archives],
    ['Logical size', `${fmtSize(v.logical_bytes)} (${v.logical_bytes})`],
    ['Chunks', v.chunks],
    ['Stored size', `${fmtSize(v.stored_bytes)} (${v.stored_bytes})`],
    ['Dedup ratio', `${fmtRatio(v.logical_bytes, v.stored_bytes)} (logical size / stored size)`],
  ])
  const slots = formatTable(
    ['ID', 'LABEL', 'CREATED'],
    v.key_slots.map((s) => [shortUuid(s.id), s.label, fmtDate(s.created_at)]),
  )
  ctx.out.line(`\nKey slots (${v.key_slots.length}, one per password):`)
  ctx.out.line(slots.trimEnd().replace(/^/gm, '  '))
}

/** SLOT_ID: a slot id, a unique prefix of one, or a slot's exact label. */
async function resolveSlot(ctx: Context, store: Resolved, ref: string) {
  if (isUuid(ref)) return { id: ref, label: undefined }
  const slots = (await ctx.client.getVault(store.uuid)).key_slots
  const slot = pickRef(
    'key slot',
    ref,
    slots.map((s) => ({ uuid: s.id, name: s.label })),
  )
  return { id: slot.uuid, label: slot.name }
}

/** Writes the kit to a new or truncated file that only its owner can read. */
function writePrivate(file: string, text: string): void {
  let fd: number
  try {
    fd = openSync(file, 'w', 0o600)
  } catch (err) {
    throw new CliError(`cannot write ${file}: ${(err as Error).message}`)
  }
  try {
    fchmodSync(fd, 0o600) // an existing file keeps its mode on open: tighten it
    writeSync(fd, text)
    fsyncSync(fd)
  } catch (err) {
    throw new CliError(`cannot write ${file}: ${(err as Error).message}`)
  } finally {
    closeSync(fd)
  }
}

export const vaultCommands: Command[] = defineNoun({
  noun: 'vault',
  kind: 'store',
  ref: STORE_ARG,
  refs: (c) => c.listStores(),
  verbs: [
    custom((n) => ({
      verb: 'show',
      args: [n.ref],
      summary: "show a store's vault: key slots, chunks, sizes, dedup ratio",
      details:
        'The logical size is what the archives hold, the stored size what their chunks take in the\n' +
        'store after deduplication and compression; the dedup ratio is the first over the second.\n' +
        'A store has a vault from its first backup on. Also written: bulwark vault show STORE',
      async run(ctx) {
        const store = await n.resolve(ctx)
        const v = await ctx.client.getVault(store.uuid)
        if (ctx.json) return ctx.out.json(v)
        printVault(ctx, store, v)
      },
    })),
    custom((n) => ({
      verb: 'change-password',
      nounFirst: true,
      args: [n.ref],
      summary: "change the password of a store's vault",
      flags: [passwordStdinFlag('the new password')],
      details:
        'The new password is asked twice on the terminal with echo off, or read from the first line\n' +
        'of stdin with --password-stdin; never give it as an argument. Bulwark opens the vault with\n' +
        'the password it keeps for the store, adds a key slot for the new one, removes the old one,\n' +
        'and keeps the new one. No archive is rewritten, and the recovery kit stays valid.\n' +
        'Example:  printf \'%s\\n\' "$NEW_PASSWORD" | bulwark vault change-password local --password-stdin',
      async run(ctx) {
        checkPasswordSource(ctx, NEW_PASSWORD)
        const store = await n.resolve(ctx)
        const password = await readPassword(ctx, NEW_PASSWORD)
        const from = passwordFrom(ctx, NEW_PASSWORD.flag)
        const res = await withSecretFields(
          { new_password: { name: 'the new password', from } },
          () => ctx.client.changeVaultPassword(store.uuid, { new_password: password }),
        ).catch((err: unknown) => {
          // The daemon opens the vault with the password it keeps: without one, it cannot.
          if (!(err instanceof ApiError) || err.field !== 'password') throw err
          throw new CliError(
            `${err.message}\nGive Bulwark the current password first:  ` +
              `bulwark edit store ${store.uuid} --vault-password-stdin`,
          )
        })
        if (ctx.json) ctx.out.json(res)
        else ctx.out.line(`changed the password of ${ofStore(store)}`)
      },
    })),
    custom((n) => ({
      verb: 'add-password',
      nounFirst: true,
      args: [n.ref],
      summary: "add a password that opens a store's vault (a key slot)",
      flags: [
        {
          name: 'label',
          value: 'TEXT',
          help: 'what the slot is for, like "ops team" (a REF for it)',
        },
        passwordStdinFlag('the password to add'),
      ],
      details:
        'Each password has its own key slot; any one of them opens the vault. Bulwark keeps using\n' +
        'its own password; the new one is for you (to import the store elsewhere, say). Remove it\n' +
        'with:  bulwark vault remove-password STORE SLOT_ID',
      async run(ctx) {
        const req = { flag: 'password-stdin', prompt: 'Password to add', confirm: true }
        checkPasswordSource(ctx, req)
        const store = await n.resolve(ctx)
        const password = await readPassword(ctx, req)
        const text = ctx.flags.str('label')
        const res = await withSecretFields(
          { password: { name: 'the password', from: passwordFrom(ctx, req.flag) } },
          () =>
            ctx.client.addVaultSlot(
              store.uuid,
              text === undefined ? { password } : { password, label: text },
            ),
        )
        if (ctx.json) return ctx.out.json(res)
        const named = text === undefined ? '' : ` "${text}"`
        ctx.out.line(`added key slot${named} ${res.uuid} to ${ofStore(store)}`)
      },
    })),
    custom((n) => ({
      verb: 'remove-password',
      nounFirst: true,
      args: [
        STORE_ARG,
        {
          name: 'SLOT_ID',
          help: 'the key slot: its id, a unique prefix of it, or its exact label',
        },
      ],
      summary: "remove a password (a key slot) from a store's vault",
      details: 'The slots and their ids are listed by:  bulwark show vault STORE',
      async run(ctx) {
        const store = await n.resolve(ctx)
        const slot = await resolveSlot(ctx, store, ctx.args[1] ?? '')
        const res = await ctx.client.deleteVaultSlot(store.uuid, slot.id)
        if (ctx.json) return ctx.out.json(res)
        const named = slot.label ? ` "${slot.label}"` : ''
        ctx.out.line(`removed key slot${named} ${slot.id} from ${ofStore(store)}`)
      },
    })),
    custom((n) => ({
      verb: 'export-key',
      nounFirst: true,
      args: [n.ref],
      summary: "print the recovery kit of a store's vault, or write it to a file",
      flags: [
        {
          name: 'output',
          value: 'FILE',
          aliases: ['o'],
          help: 'write the kit to FILE (created or overwritten, mode 0600) instead of stdout',
        },
      ],
      details:
        'The kit holds the vault id and its master key: with it, and the store, anyone can read every\n' +
        'archive, and nothing else can if every password is lost. Keep it offline, never next to the\n' +
        'store. Give it back with:  bulwark import store … --recovery-key-file FILE\n' +
        'With --json: {"store","recovery_kit"}, or {"ok":"written","file"} with --output.',
      async run(ctx) {
        const store = await n.resolve(ctx)
        const kit = await ctx.client.recoveryKit(store.uuid)
        const file = ctx.flags.str('output')
        if (file !== undefined) writePrivate(file, kit)
        ctx.out.note(
          `Warning: anyone who holds this recovery kit can read every archive in store ${label(store)},\n` +
            'with no password. Keep it offline and away from the store.',
        )
        if (file === undefined) {
          if (ctx.json) ctx.out.json({ store: store.uuid, recovery_kit: kit })
          else ctx.out.write(kit.endsWith('\n') ? kit : `${kit}\n`)
        } else if (ctx.json) {
          ctx.out.json({ ok: 'written', file })
        } else {
          ctx.out.line(`wrote the recovery kit of ${ofStore(store)} to ${file} (mode 0600)`)
        }
      },
    })),
    recoverVault,
  ],
})
