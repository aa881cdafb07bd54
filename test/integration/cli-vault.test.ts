// The real `bulwark` binary against real daemons, for a store's vault: backups
// with the `exec` target into an `fs` store, the vault shown, archives
// verified (and a damaged chunk named), the password changed, passwords added
// and removed, the recovery kit exported, the store imported into a second
// daemon with the kit, and garbage collected. Passwords only ever go in on
// stdin, and no output (but the recovery kit's) shows a secret.
import { randomBytes } from 'node:crypto'
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Archive, Task, VaultInfo } from '../../src-daemon/contract'
import { runCli, startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/
const PASSWORDS = {
  first: 'first vault password 1',
  second: 'second vault password 2',
  extra: 'ops team password 3',
  wrong: 'not the vault password',
}

const work = tempDir('bulwark-cli-vault-')
const storeDir = join(work, 'store')
const source = join(work, 'source.bin')
const kitFile = join(work, 'recovery-kit.txt')
const shared: { vaultId?: string; archives?: string[] } = {}

/** Every CLI run of this file, to check that no secret was printed or passed as an argument. */
const runs: { args: string[]; stdout: string; stderr: string }[] = []

function useCli(daemon: () => RunningDaemon) {
  async function cli(args: string[], input?: string) {
    for (const secret of Object.values(PASSWORDS)) {
      for (const a of args) expect(a).not.toContain(secret)
    }
    const r = await runCli(
      args,
      input === undefined
        ? { dataDir: daemon().dataDir }
        : {
            dataDir: daemon().dataDir,
            input,
          },
    )
    runs.push({ args, stdout: r.stdout, stderr: r.stderr })
    return r
  }
  async function ok(...args: string[]): Promise<string> {
    const r = await cli(args)
    expect(r.stderr, `bulwark ${args.join(' ')}`).toBe('')
    expect(r.code, `bulwark ${args.join(' ')}\n${r.stdout}`).toBe(0)
    return r.stdout
  }
  const json = async <T = unknown>(...args: string[]) =>
    JSON.parse(await ok(...args, '--json')) as T
  async function created(kind: string, name: string, ...args: string[]): Promise<string> {
    const out = await ok('create', kind, '--name', name, ...args)
    const m = new RegExp(`"${name}" (${UUID.source})\\n$`).exec(out)
    expect(m, out).not.toBeNull()
    return m?.[1] ?? ''
  }
  const execTarget = (name: string, backup: string, restore: string) =>
    created(
      'target',
      name,
      '--plugin',
      'exec',
      '--set',
      `backup_command=${backup}`,
      '--set',
      `restore_command=${restore}`,
    )
  return { cli, ok, json, created, execTarget }
}

const lastLine = (out: string) => out.trimEnd().split('\n').at(-1) ?? ''
const pair = (out: string, key: string) =>
  new RegExp(`^${key}: +(.*)$`, 'm').exec(out)?.[1] ?? `(no ${key} line)`
const chunkFiles = () =>
  readdirSync(join(storeDir, 'chunks')).flatMap((dir) =>
    readdirSync(join(storeDir, 'chunks', dir)).map((id) => ({
      id,
      file: join(storeDir, 'chunks', dir, id),
    })),
  )

afterAll(() => rmSync(work, { recursive: true, force: true }))

describe('vault command lines, checked before any daemon is contacted', () => {
  const dir = tempDir('bulwark-cli-vault-nodaemon-')
  const cli = (args: string[], input?: string) =>
    runCli(args, input === undefined ? { dataDir: dir } : { dataDir: dir, input })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('documents the vault commands, written noun first or verb first', async () => {
    const [help, vaultHelp, cmdHelp, importHelp] = await Promise.all([
      cli(['help']),
      cli(['help', 'vault']),
      cli(['change-password', 'vault', '--help']),
      cli(['import', 'store', '--help']),
    ])
    expect(help.stdout).toMatch(/^ {2}vault change-password STORE {2,}change the password/m)
    expect(help.stdout).toMatch(/^ {2}show vault STORE {2,}/m)
    expect(help.stdout).toMatch(/^ {2}verify archive UUID {2,}/m)
    expect(help.stdout).toMatch(/^ {2}gc store REF {2,}/m)
    expect(help.stdout).toMatch(/^ {2}import store \[REF\] {2,}/m)
    expect(vaultHelp.stdout).toContain('bulwark vault export-key STORE [--output FILE]')
    expect(cmdHelp.stdout).toMatch(/^Usage: {2}bulwark vault change-password STORE/)
    expect(importHelp.stdout).toMatch(
      /^Usage: {2}bulwark import store --name NAME .*\n {8}bulwark import store REF\n/,
    )
  })

  it('refuses wrong vault command lines with exit 2', async () => {
    const [bare, typo, noTty, both, withRef, missing] = await Promise.all([
      cli(['vault']),
      cli(['vault', 'chnage-password', 'x']),
      cli(['vault', 'add-password', 'x']),
      cli([
        'create',
        'store',
        '--name',
        's',
        '--plugin',
        'fs',
        '--set',
        'vault_password=abcdefgh',
        '--vault-password-stdin',
      ]),
      cli(['import', 'store', 'x', '--password-stdin']),
      cli(['import', 'store', '--plugin', 'fs']),
    ])
    for (const r of [bare, typo, noTty, both, withRef, missing]) {
      expect(r.code, r.stderr).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr).not.toContain('no Bulwark daemon')
    }
    expect(bare.stderr).toContain('"vault" needs a command: one of show, change-password,')
    expect(typo.stderr).toContain('did you mean "vault change-password"?')
    expect(noTty.stderr).toContain('stdin is not one; give it on stdin with --password-stdin')
    expect(both.stderr).toContain('--set vault_password=… and --vault-password-stdin cannot')
    expect(withRef.stderr).toContain('--password-stdin is for importing a new store')
    expect(missing.stderr).toContain('missing --name for "import store"')
  })
})

describe("bulwark manages a store's vault", () => {
  let d: RunningDaemon
  const restored = join(work, 'restored.bin')
  const { cli, ok, json, created, execTarget } = useCli(() => d)

  beforeAll(async () => {
    // Random bytes: three chunks or so, and nothing for zstd to shrink.
    writeFileSync(source, randomBytes(3 * 1024 * 1024 + 12345))
    d = await startDaemon()
    const r = await cli(
      [
        'create',
        'store',
        '--name',
        'vaulted',
        '--plugin',
        'fs',
        '--set',
        `path=${storeDir}`,
        '--vault-password-stdin',
      ],
      `${PASSWORDS.first}\n`,
    )
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(new RegExp(`^created store "vaulted" ${UUID.source}\\n$`))
    await created('schedule', 'nightly', '--when', 'daily 4am')
    await created('retention', 'week', '--expires', '7d')
    await execTarget('data', `cat '${source}'`, `cat > '${restored}'`)
    await created(
      'job',
      'data-job',
      '--target',
      'data',
      '--store',
      'vaulted',
      '--schedule',
      'nightly',
      '--retention',
      'week',
      '--paused',
    )
  }, 30_000)
  afterAll(async () => {
    await d?.stop()
  })

  it('backs up through the CLI; show vault has one key slot, chunks and sizes', async () => {
    const before = await cli(['show', 'vault', 'vaulted'])
    expect(before.code).toBe(1)
    expect(before.stderr).toMatch(/^bulwark: .*no vault yet/)

    const run = await cli(['run', 'job', 'data-job', '--follow'])
    expect(run.stderr).toBe('')
    expect(run.code, run.stdout).toBe(0)
    expect(lastLine(run.stdout)).toMatch(/^Task \S+ done in /)

    const v = await json<VaultInfo>('show', 'vault', 'vaulted')
    expect(v.vault_id).toMatch(UUID)
    expect(v.key_slots).toHaveLength(1)
    expect(v.chunks).toBeGreaterThan(0)
    expect(v.archives).toBe(1)
    expect(v.logical_bytes).toBe(statSync(source).size)
    shared.vaultId = v.vault_id

    const text = await ok('show', 'vault', 'vaulted')
    expect(pair(text, 'Vault')).toBe(v.vault_id)
    expect(pair(text, 'Chunks')).toBe(String(v.chunks))
    expect(pair(text, 'Archives')).toBe('1')
    expect(pair(text, 'Logical size')).toBe(`3.0 MiB (${v.logical_bytes})`)
    expect(pair(text, 'Stored size')).toMatch(/^3\.0 MiB \(\d+\)$/)
    expect(pair(text, 'Dedup ratio')).toMatch(/^[01]\.\d\dx \(logical size \/ stored size\)$/)
    expect(text).toMatch(/^Key slots \(1, one per password\):\n {2}ID +LABEL +CREATED\n {2}\S{8} /m)
    // Also written noun first.
    expect(await ok('vault', 'show', 'vaulted')).toBe(text)

    const [a] = await json<Archive[]>('list', 'archives')
    expect(a).toMatchObject({ format: 'vault', chunk_count: expect.any(Number) })
    const table = await ok('list', 'archives')
    expect(table.split('\n')[0]).toMatch(/^UUID +TAKEN +TARGET +STORE +STATUS +SIZE +NEW +FORMAT /)
    expect(
      table
        .split('\n')[1]!
        .split(/\s{2,}/)
        .slice(4, 8),
    ).toEqual(['valid', '3.0 MiB', '+3.0 MiB', 'vault'])
    for (const line of table.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(120)
    const shown = await ok('show', 'archive', a!.uuid)
    expect(pair(shown, 'Format')).toBe(`vault, ${a!.chunk_count} chunks`)
    expect(pair(shown, 'Stored')).toMatch(/^3\.0 MiB, \+3\.0 MiB new$/)
  })

  it('verify archive --follow: exit 0 when whole, exit 1 naming a damaged chunk', async () => {
    const [a] = await json<Archive[]>('list', 'archives')
    const uuid = (await ok('verify', 'archive', a!.uuid.slice(0, 8))).trim()
    expect(uuid).toMatch(new RegExp(`^${UUID.source}$`))

    const whole = await cli(['verify', 'archive', a!.uuid, '--follow'])
    expect(whole.stderr).toBe('')
    expect(whole.code, whole.stdout).toBe(0)
    expect(whole.stdout).toMatch(/^Type: +verify$/m)
    expect(lastLine(whole.stdout)).toMatch(/^Task \S+ done in /)

    // Every chunk in the store is this archive's: damage one in the middle of its body.
    const [chunk] = chunkFiles()
    const original = readFileSync(chunk!.file)
    const damaged = Buffer.from(original)
    const at = damaged.length >> 1
    damaged[at] = damaged[at]! ^ 0xff
    writeFileSync(chunk!.file, damaged)
    try {
      const bad = await cli(['verify', 'archive', a!.uuid, '-f'])
      expect(bad.stderr).toBe('')
      expect(bad.code, bad.stdout).toBe(1)
      expect(lastLine(bad.stdout)).toMatch(/^Task \S+ failed after .*: .*corrupt/)
      expect(lastLine(bad.stdout)).toContain(chunk!.id.slice(0, 12))
      expect((await json<Archive>('show', 'archive', a!.uuid)).status).toBe('invalid')
      const json1 = await cli(['verify', 'archive', a!.uuid, '-f', '--json'])
      expect(json1.code).toBe(1)
      expect(JSON.parse(lastLine(json1.stdout))).toMatchObject({ type: 'task', status: 'failed' })
    } finally {
      writeFileSync(chunk!.file, original)
    }
    // Repaired: a verify finds it whole and marks it valid again.
    expect((await cli(['verify', 'archive', a!.uuid, '-f'])).code).toBe(0)
    expect((await json<Archive>('show', 'archive', a!.uuid)).status).toBe('valid')
  })

  it('vault change-password reads stdin; a new backup and a restore still work', async () => {
    const noTty = await cli(['vault', 'change-password', 'vaulted'])
    expect(noTty.code).toBe(2)
    expect(noTty.stdout).toBe('')
    expect(noTty.stderr).toContain('stdin is not one; give it on stdin with --password-stdin')
    expect(noTty.stderr).toContain(
      `printf '%s\\n' "$PASSWORD" | bulwark vault change-password vaulted --password-stdin`,
    )
    const empty = await cli(['vault', 'change-password', 'vaulted', '--password-stdin'], '')
    expect(empty.code).toBe(2)
    expect(empty.stderr).toContain('--password-stdin found no password')
    const short = await cli(['vault', 'change-password', 'vaulted', '--password-stdin'], 'short\n')
    expect(short.code).toBe(1)
    expect(short.stderr).toBe(
      'bulwark: the new password must be at least 8 characters long (read from --password-stdin)\n',
    )

    const slotBefore = (await json<VaultInfo>('show', 'vault', 'vaulted')).key_slots[0]!.id
    const changed = await cli(
      ['vault', 'change-password', 'vaulted', '--password-stdin'],
      `${PASSWORDS.second}\nignored second line\n`,
    )
    expect(changed.stderr).toBe('')
    expect(changed.code).toBe(0)
    expect(changed.stdout).toMatch(
      new RegExp(`^changed the password of the vault of store "vaulted" \\(${UUID.source}\\)\\n$`),
    )
    const slots = (await json<VaultInfo>('show', 'vault', 'vaulted')).key_slots
    expect(slots).toHaveLength(1)
    expect(slots[0]!.id).not.toBe(slotBefore)

    // The daemon opens the vault with the new password: another backup, then a restore.
    const run = await cli(['run', 'job', 'data-job', '-f'])
    expect(run.code, run.stdout).toBe(0)
    const archives = await json<Archive[]>('list', 'archives')
    expect(archives).toHaveLength(2)
    shared.archives = archives.map((x) => x.uuid)
    // The same bytes again: nothing new but a little metadata.
    expect(archives[0]!.new_bytes).toBeLessThan(64 * 1024)
    const restore = await cli(['restore', 'archive', archives[0]!.uuid, '--follow'])
    expect(restore.stderr).toBe('')
    expect(restore.code, restore.stdout).toBe(0)
    expect(readFileSync(restored).equals(readFileSync(source))).toBe(true)
    const v = await json<VaultInfo>('show', 'vault', 'vaulted')
    expect(v.archives).toBe(2)
    expect(pair(await ok('show', 'vault', 'vaulted'), 'Dedup ratio')).toMatch(/^[12]\.\d\dx /)
  })

  it('vault add-password and remove-password manage key slots', async () => {
    const added = await cli(
      ['vault', 'add-password', 'vaulted', '--label', 'ops', '--password-stdin'],
      `${PASSWORDS.extra}\n`,
    )
    expect(added.stderr).toBe('')
    expect(added.code).toBe(0)
    const id = new RegExp(
      `^added key slot "ops" (${UUID.source}) to the vault of store "vaulted"`,
    ).exec(added.stdout)?.[1]
    expect(id, added.stdout).toBeDefined()
    const slots = (await json<VaultInfo>('show', 'vault', 'vaulted')).key_slots
    expect(slots.map((s) => s.label)).toContain('ops')
    expect(slots).toHaveLength(2)

    const missing = await cli(['vault', 'remove-password', 'vaulted', 'nosuchslot'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('no key slot matches "nosuchslot"')
    expect(await ok('vault', 'remove-password', 'vaulted', 'ops')).toMatch(
      new RegExp(`^removed key slot "ops" ${id} from the vault of store "vaulted"`),
    )
    expect((await json<VaultInfo>('show', 'vault', 'vaulted')).key_slots).toHaveLength(1)
  })

  it('vault export-key --output writes a 0600 file holding the vault id, with a warning', async () => {
    const r = await cli(['vault', 'export-key', 'vaulted', '--output', kitFile])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(
      new RegExp(
        `^wrote the recovery kit of the vault of store "vaulted" \\(${UUID.source}\\) to `,
      ),
    )
    expect(r.stdout).toContain(` to ${kitFile} (mode 0600)\n`)
    expect(r.stderr).toMatch(/^Warning: anyone who holds this recovery kit can read every archive/)
    expect(statSync(kitFile).mode & 0o777).toBe(0o600)
    const kit = readFileSync(kitFile, 'utf8')
    expect(kit).toContain(shared.vaultId!)
    expect(kit).toMatch(/^Recovery key: \S{88}$/m)
    const printed = await cli(['vault', 'export-key', 'vaulted'])
    expect(printed.code).toBe(0)
    expect(printed.stdout).toBe(kit)
    expect(printed.stderr).toContain('Warning: anyone who holds this recovery kit')
  })

  it('gc store --follow collects the store, exit 0', async () => {
    const r = await cli(['gc', 'store', 'vaulted', '--follow'])
    expect(r.stderr).toBe('')
    expect(r.code, r.stdout).toBe(0)
    expect(r.stdout).toMatch(/^Type: +gc$/m)
    expect(lastLine(r.stdout)).toMatch(/^Task \S+ done in /)
    const tasks = await json<Task[]>('list', 'tasks', '--all')
    expect(tasks.find((t) => t.type === 'gc')?.status).toBe('done')
    // What gc keeps: both archives still restore from their chunks.
    expect((await cli(['verify', 'archive', shared.archives![1]!, '-f'])).code).toBe(0)
  })

  it('never shows a vault password, in any output or in the daemon log', () => {
    for (const secret of Object.values(PASSWORDS)) {
      for (const r of runs) {
        expect(r.stdout).not.toContain(secret)
        expect(r.stderr).not.toContain(secret)
      }
      expect(d.stderr.join('\n')).not.toContain(secret)
    }
  })
})

describe('a second daemon imports the store with its recovery kit', () => {
  let d: RunningDaemon
  const restored = join(work, 'restored-elsewhere.bin')
  const { cli, ok, json, execTarget } = useCli(() => d)
  const importArgs = [
    'import',
    'store',
    '--name',
    'recovered',
    '--plugin',
    'fs',
    '--set',
    `path=${storeDir}`,
  ]

  beforeAll(async () => {
    d = await startDaemon()
    await execTarget('sink', 'true', `cat > '${restored}'`)
  }, 30_000)
  afterAll(async () => {
    await d?.stop()
  })

  it('refuses a wrong password with a clear message, exit 1, and creates nothing', async () => {
    const r = await cli([...importArgs, '--password-stdin'], `${PASSWORDS.wrong}\n`)
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe('bulwark: the vault password is wrong (read from --password-stdin)\n')
    expect(await ok('list', 'stores')).toBe('no stores\n')
    const noSource = await cli(importArgs)
    expect(noSource.code).toBe(2)
    expect(noSource.stderr).toContain('--password-stdin')
  })

  it('import store --recovery-key-file lists the archives, and they restore here', async () => {
    const r = await cli([...importArgs, '--recovery-key-file', kitFile])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(
      new RegExp(`^imported store "recovered" ${UUID.source}: found 2 archives in its vault\\n$`),
    )
    const archives = await json<Archive[]>('list', 'archives')
    expect(archives.map((a) => a.uuid).sort()).toEqual([...shared.archives!].sort())
    expect(archives.every((a) => a.format === 'vault' && a.store_name === 'recovered')).toBe(true)

    const restore = await cli(['restore', 'archive', archives[0]!.uuid, '--to', 'sink', '-f'])
    expect(restore.stderr).toBe('')
    expect(restore.code, restore.stdout).toBe(0)
    expect(readFileSync(restored).equals(readFileSync(source))).toBe(true)

    expect(await ok('import', 'store', 'recovered')).toMatch(
      /^read the vault of store "recovered" \(\S+\) again: no archive added to the catalog\n$/,
    )
    expect((await json<VaultInfo>('show', 'vault', 'recovered')).vault_id).toBe(shared.vaultId)
  })

  it('prints the recovery key only where it was asked for', () => {
    const key = /^Recovery key: (\S+)$/m.exec(readFileSync(kitFile, 'utf8'))?.[1] ?? ''
    expect(key).toHaveLength(88)
    for (const r of runs) {
      if (r.args[1] === 'export-key') continue
      expect(r.stdout).not.toContain(key)
      expect(r.stderr).not.toContain(key)
      expect(r.args.join(' ')).not.toContain(key)
    }
    for (const secret of Object.values(PASSWORDS)) {
      expect(d.stderr.join('\n')).not.toContain(secret)
    }
  })
})
