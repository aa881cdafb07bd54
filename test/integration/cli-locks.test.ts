// The real `bulwark` binary against a real daemon, for the locks in a store's
// vault and a lost vault.json: lock objects planted in an `fs` store (stale
// ones of a holder on another host, a live one of a process that is running)
// are listed, broken by id or unique prefix, a live one refused without
// --force, confirmations asked on a terminal and required (--yes) without one;
// editing a store never changes its vault password; and a deleted vault.json
// is recovered from the recovery kit, after which an archive restores byte for
// byte.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli as runCliInProcess } from '../../src-daemon/cli/main'
import type { Stdin } from '../../src-daemon/cli/stdin'
import type { Archive, StoreLocks, VaultInfo } from '../../src-daemon/contract'
import { runCli, startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/
const HOUR = 3600_000

const work = tempDir('bulwark-cli-locks-')
const storeDir = join(work, 'store')
const source = join(work, 'source.bin')
const restored = join(work, 'restored.bin')
const kitFile = join(work, 'recovery-kit.txt')

/** Two stale locks sharing a 4-digit prefix, and a live one. */
const IDS = {
  staleA: `aaaa1${'0'.repeat(27)}`,
  staleB: `aaaa2${'0'.repeat(27)}`,
  live: `bbbb${'1'.repeat(28)}`,
}
const lockFile = (id: string) => join(storeDir, 'locks', id)

/** Writes a lock object as vault/store-lock.ts does (locks/<id>, one JSON line). */
function plantLock(
  id: string,
  o: { operation: string; exclusive: boolean; host: string; pid: number; at: number },
): void {
  const iso = new Date(o.at).toISOString()
  const lock = {
    format: 'bulwark-lock',
    version: 1,
    id,
    exclusive: o.exclusive,
    operation: o.operation,
    host: o.host,
    pid: o.pid,
    instance: 'planted-by-test',
    daemon: '/elsewhere/bulwark',
    created_at: iso,
    refreshed_at: iso,
    lease_ms: 60_000,
  }
  mkdirSync(join(storeDir, 'locks'), { recursive: true })
  writeFileSync(lockFile(id), `${JSON.stringify(lock)}\n`)
}

afterAll(() => rmSync(work, { recursive: true, force: true }))

describe('lock and recover command lines, checked before any daemon is contacted', () => {
  const dir = tempDir('bulwark-cli-locks-nodaemon-')
  const cli = (...args: string[]) => runCli(args, { dataDir: dir })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('documents list locks, break lock and recover vault', async () => {
    const [help, breakHelp, recoverHelp] = await Promise.all([
      cli('help'),
      cli('break', 'lock', '--help'),
      cli('vault', 'recover', '--help'),
    ])
    expect(help.stdout).toMatch(/^Locks: /m)
    expect(help.stdout).toMatch(/^ {2}list locks STORE {2,}list the locks in a store's vault/m)
    expect(help.stdout).toMatch(/^ {2}break lock STORE LOCK_ID {2,}remove a lock/m)
    expect(help.stdout).toMatch(/^ {2}recover vault STORE {2,}rewrite a store's lost vault\.json/m)
    expect(breakHelp.stdout).toMatch(
      /^Usage: {2}bulwark break lock STORE LOCK_ID \[--force\] \[--yes\]/,
    )
    expect(breakHelp.stdout).toContain('certainly dead')
    expect(recoverHelp.stdout).toMatch(
      /^Usage: {2}bulwark recover vault STORE --recovery-key-file FILE \[--password-stdin\]/,
    )
  })

  it('refuses them with exit 2, or 1 for an unreadable kit, without a daemon', async () => {
    const [noYes, notHex, noKit, missingKit] = await Promise.all([
      cli('break', 'lock', 'local', 'aaaa', '--force'),
      cli('break', 'lock', 'local', 'not-a-lock', '--yes'),
      cli('recover', 'vault', 'local'),
      cli('recover', 'vault', 'local', '--recovery-key-file', join(dir, 'no-such-kit.txt')),
    ])
    for (const r of [noYes, notHex, noKit]) {
      expect(r.code, r.stderr).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr).not.toContain('no Bulwark daemon')
    }
    expect(noYes.stderr).toContain(
      '"bulwark break lock" asks for confirmation on a terminal, but stdin is not one; ' +
        'give --yes to break the lock without asking',
    )
    expect(notHex.stderr).toContain('"not-a-lock" is not a lock id')
    expect(noKit.stderr).toContain('--recovery-key-file')
    expect(missingKit.code).toBe(1)
    expect(missingKit.stderr).toMatch(/^bulwark: cannot read the recovery kit: ENOENT/)
  })
})

describe("bulwark lists and breaks a store's locks, and recovers its vault", () => {
  let d: RunningDaemon
  let storeUuid = ''
  const cli = (...args: string[]) => runCli(args, { dataDir: d.dataDir })
  async function ok(...args: string[]): Promise<string> {
    const r = await cli(...args)
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
  /** The CLI in this process, with a terminal on stdin that answers `answer`. */
  async function onTerminal(answer: string, ...args: string[]) {
    let stdout = ''
    let stderr = ''
    const asked: string[] = []
    const stdin: Stdin = {
      isTTY: true,
      readLine: () => {
        asked.push(stderr)
        return Promise.resolve(answer)
      },
      askHidden: () => Promise.reject(new Error('no password is asked for here')),
    }
    const code = await runCliInProcess([...args, '--url', d.url, '--token', d.token], {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      env: {},
      stdin,
    })
    return { code, stdout, stderr, asked }
  }

  beforeAll(async () => {
    // Random bytes: a few chunks, and nothing for zstd to shrink.
    writeFileSync(source, randomBytes(2 * 1024 * 1024 + 4321))
    d = await startDaemon()
    storeUuid = await created('store', 'local', '--plugin', 'fs', '--set', `path=${storeDir}`)
    await created('schedule', 'nightly', '--when', 'daily 4am')
    await created('retention', 'week', '--expires', '7d')
    await created(
      'target',
      'data',
      '--plugin',
      'exec',
      '--set',
      `backup_command=cat '${source}'`,
      '--set',
      `restore_command=cat > '${restored}'`,
    )
    await created(
      'job',
      'data-job',
      '--target',
      'data',
      '--store',
      'local',
      '--schedule',
      'nightly',
      '--retention',
      'week',
      '--paused',
    )
    // The first backup creates the vault, with a password Bulwark generates and keeps.
    const run = await cli('run', 'job', 'data-job', '--follow')
    expect(run.code, run.stdout + run.stderr).toBe(0)
  }, 60_000)
  afterAll(async () => {
    await d?.stop()
  })

  it('list locks says "no locks" when the store has none', async () => {
    expect(await ok('list', 'locks', 'local')).toBe('no locks\n')
    expect(await json<StoreLocks>('list', 'locks', 'local')).toEqual({ locks: [] })
  })

  it('list locks shows each lock: short id, operation, holder, since, heartbeat, stale', async () => {
    const old = Date.now() - 2 * HOUR
    plantLock(IDS.staleA, {
      operation: 'gc',
      exclusive: true,
      host: 'gone.example',
      pid: 4242,
      at: old,
    })
    plantLock(IDS.staleB, {
      operation: 'backup',
      exclusive: false,
      host: 'gone.example',
      pid: 4343,
      at: old + 1000,
    })
    // Held by this very test process, alive and on the daemon's host, refreshed just now.
    plantLock(IDS.live, {
      operation: 'rescan',
      exclusive: true,
      host: hostname(),
      pid: process.pid,
      at: Date.now(),
    })

    const { locks } = await json<StoreLocks>('list', 'locks', 'local')
    expect(locks.map((l) => [l.id, l.operation, l.stale])).toEqual([
      [IDS.staleA, 'gc', true],
      [IDS.staleB, 'backup', true],
      [IDS.live, 'rescan', false],
    ])
    const table = (await ok('list', 'locks', storeUuid.slice(0, 8))).trimEnd().split('\n')
    expect(table[0]).toMatch(/^ID +OPERATION +HOLDER +SINCE +LAST HEARTBEAT +STALE$/)
    const cells = table.slice(1).map((l) => l.split(/ {2,}/))
    const date = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/
    expect(cells.map((c) => [c[0], c[1], c[2], c[5]])).toEqual([
      ['aaaa1000', 'gc (exclusive)', 'gone.example/4242', 'yes'],
      ['aaaa2000', 'backup (shared)', 'gone.example/4343', 'yes'],
      ['bbbb1111', 'rescan (exclusive)', `${hostname()}/${process.pid}`, 'no'],
    ])
    for (const c of cells) {
      expect(c[3]).toMatch(date)
      expect(c[4]).toMatch(date)
    }
  })

  it('break lock takes a unique id prefix: too short, ambiguous and unknown ones are named', async () => {
    const [short, ambiguous, unknown] = await Promise.all([
      cli('break', 'lock', 'local', 'aaa', '--yes'),
      cli('break', 'lock', 'local', 'aaaa', '--yes'),
      cli('break', 'lock', 'local', 'cccc', '--yes'),
    ])
    for (const r of [short, ambiguous, unknown]) {
      expect(r.code, r.stderr).toBe(1)
      expect(r.stdout).toBe('')
    }
    expect(short.stderr).toBe('bulwark: a lock id prefix needs at least 4 characters, not "aaa"\n')
    expect(ambiguous.stderr).toContain('2 locks of store "local"')
    expect(ambiguous.stderr).toContain('have ids starting with "aaaa"; use more of the id:')
    expect(ambiguous.stderr).toContain(IDS.staleA)
    expect(ambiguous.stderr).toContain(IDS.staleB)
    expect(unknown.stderr).toContain(
      'has no lock matching "cccc"; its locks: aaaa1000, aaaa2000, bbbb1111',
    )
    for (const id of Object.values(IDS)) expect(existsSync(lockFile(id))).toBe(true)

    const broke = await ok('break', 'lock', 'local', 'AAAA1', '--yes')
    expect(broke).toBe(
      `broke the stale exclusive "gc" lock ${IDS.staleA} of store "local" (${storeUuid})\n`,
    )
    expect(existsSync(lockFile(IDS.staleA))).toBe(false)
    expect(d.stderr.join('\n')).toContain(`broke an exclusive "gc" lock (${IDS.staleA})`)
  })

  it('refuses a live lock without --force, and without --yes off a terminal', async () => {
    const live = await cli('break', 'lock', 'local', 'bbbb', '--yes')
    expect(live.code).toBe(1)
    expect(live.stdout).toBe('')
    expect(live.stderr).toContain(
      `bulwark: lock ${IDS.live} of store "local" (${storeUuid}) is not stale: ` +
        'it is held by a running operation,\n' +
        `the exclusive "rescan" lock of pid ${process.pid} on ${hostname()}, taken `,
    )
    expect(live.stderr).toContain('pass --force only if that holder is certainly dead')
    expect(live.stderr).toContain(`bulwark break lock ${storeUuid} ${IDS.live} --force`)

    const noYes = await cli('break', 'lock', 'local', 'bbbb', '--force')
    expect(noYes.code).toBe(2)
    expect(noYes.stderr).toContain('give --yes to break the lock without asking')
    expect(existsSync(lockFile(IDS.live))).toBe(true)
    expect((await json<StoreLocks>('list', 'locks', 'local')).locks).toHaveLength(2)
  })

  it('asks on a terminal: anything but yes keeps the lock, yes breaks it', async () => {
    const kept = await onTerminal('n', 'break', 'lock', 'local', 'bbbb', '--force')
    expect(kept.code).toBe(1)
    expect(kept.asked).toHaveLength(1)
    expect(kept.asked[0]).toContain(`About to break the exclusive "rescan" lock ${IDS.live}`)
    expect(kept.asked[0]).toContain('which is NOT stale (--force)')
    expect(kept.asked[0]).toMatch(/Break it\? \[y\/N\]\n$/)
    expect(kept.stderr).toContain('nothing was broken')
    expect(existsSync(lockFile(IDS.live))).toBe(true)

    const yes = await onTerminal('yes', 'break', 'lock', 'local', 'aaaa2')
    expect(yes.code, yes.stderr).toBe(0)
    expect(yes.asked[0]).toContain(`About to break the shared "backup" lock ${IDS.staleB}`)
    expect(yes.asked[0]).toContain('(stale)')
    expect(yes.stdout).toBe(
      `broke the stale shared "backup" lock ${IDS.staleB} of store "local" (${storeUuid})\n`,
    )
    expect(existsSync(lockFile(IDS.staleB))).toBe(false)
  })

  it('break lock --force --yes breaks a live lock', async () => {
    const out = await ok('break', 'lock', 'local', 'bbbb1111', '--force', '--yes')
    expect(out).toBe(
      `broke the live (forced) exclusive "rescan" lock ${IDS.live} of store "local" (${storeUuid})\n`,
    )
    expect(existsSync(lockFile(IDS.live))).toBe(false)
    expect(await ok('list', 'locks', 'local')).toBe('no locks\n')
    const gone = await cli('break', 'lock', 'local', IDS.live, '--force', '--yes')
    expect(gone.code).toBe(1)
    expect(gone.stderr).toContain('(it has no locks)')
  })

  it('edit store never sets the vault password: it points to vault change-password', async () => {
    const hint = `To change the password of its vault:  bulwark vault change-password ${storeUuid}`
    const viaSet = await cli('edit', 'store', 'local', '--set', 'vault_password=another password 1')
    expect(viaSet.code).toBe(1)
    expect(viaSet.stdout).toBe('')
    expect(viaSet.stderr).toContain(
      `bulwark: store "local" (${storeUuid}) already has a vault password, and editing the store does not change it`,
    )
    expect(viaSet.stderr).toContain(hint)
    const viaJson = await cli(
      'edit',
      'store',
      'local',
      '--endpoint',
      JSON.stringify({ path: storeDir, vault_password: 'another password 2' }),
    )
    expect(viaJson.code).toBe(1)
    expect(viaJson.stderr).toContain(hint)
    // From stdin it is sent, and the daemon's 400 on endpoint.vault_password says the same.
    const viaStdin = await runCli(['edit', 'store', 'local', '--vault-password-stdin'], {
      dataDir: d.dataDir,
      input: 'another password 3\n',
    })
    expect(viaStdin.code).toBe(1)
    expect(viaStdin.stderr).toContain(hint)
    expect(viaStdin.stderr).not.toContain('field:')
    // The password kept is still the one that opens the vault.
    expect((await json<VaultInfo>('show', 'vault', 'local')).key_slots).toHaveLength(1)
    expect(await ok('edit', 'store', 'local', '--summary', 'still editable')).toContain(
      'updated store',
    )
  })

  it('recover vault rewrites a deleted vault.json from the kit; an archive restores byte for byte', async () => {
    const vaultId = (await json<VaultInfo>('show', 'vault', 'local')).vault_id
    const [archive] = await json<Archive[]>('list', 'archives')
    expect(archive).toBeDefined()
    const kit = await cli('vault', 'export-key', 'local', '--output', kitFile)
    expect(kit.code, kit.stderr).toBe(0)

    const nothing = await cli('recover', 'vault', 'local', '--recovery-key-file', kitFile)
    expect(nothing.code).toBe(1)
    expect(nothing.stderr).toBe(
      `bulwark: store "local" (${storeUuid}) still has its vault.json: there is nothing to recover. ` +
        `To change the vault's password:  bulwark vault change-password ${storeUuid}\n`,
    )

    rmSync(join(storeDir, 'vault.json'))
    expect((await cli('show', 'vault', 'local')).code).toBe(1)

    const badFile = join(work, 'not-the-kit.txt')
    writeFileSync(badFile, `${Buffer.alloc(64, 1).toString('base64')}\n`)
    const bad = await cli('recover', 'vault', 'local', '--recovery-key-file', badFile)
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain(`(in ${badFile})`)
    expect(existsSync(join(storeDir, 'vault.json'))).toBe(false)

    const out = await ok('recover', 'vault', 'local', '--recovery-key-file', kitFile)
    expect(out).toContain(
      `recovered the vault of store "local" (${storeUuid}): vault ${vaultId}, its vault.json ` +
        'written again from the recovery kit, with one key slot, for the password Bulwark keeps',
    )
    expect(out).toContain('Next: check that an archive reads back whole:')
    expect(out).toContain(`bulwark vault add-password ${storeUuid}`)
    expect(existsSync(join(storeDir, 'vault.json'))).toBe(true)
    const v = await json<VaultInfo>('show', 'vault', 'local')
    expect(v.vault_id).toBe(vaultId)
    expect(v.key_slots).toHaveLength(1)

    rmSync(restored, { force: true })
    const restore = await cli('restore', 'archive', archive!.uuid, '--follow')
    expect(restore.code, restore.stdout + restore.stderr).toBe(0)
    expect(readFileSync(restored).equals(readFileSync(source))).toBe(true)
    // The recovery takes an exclusive lock of its own, and lets it go.
    expect(await ok('list', 'locks', 'local')).toBe('no locks\n')
  })

  it('recover vault --password-stdin gives the vault a new password, which Bulwark keeps', async () => {
    const password = 'recovered vault password 1'
    rmSync(join(storeDir, 'vault.json'))
    const args = ['recover', 'vault', 'local', '--recovery-key-file', kitFile, '--password-stdin']
    const short = await runCli(args, { dataDir: d.dataDir, input: 'short\n' })
    expect(short.code).toBe(1)
    expect(short.stderr).toBe(
      'bulwark: the new password must be at least 8 characters long (read from --password-stdin)\n',
    )
    const r = await runCli(args, { dataDir: d.dataDir, input: `${password}\n` })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('with one key slot, for the new password, which Bulwark now keeps')
    expect(r.stdout).not.toContain(password)
    // The daemon opens the vault with it: another backup, and it restores.
    const run = await cli('run', 'job', 'data-job', '--follow')
    expect(run.code, run.stdout + run.stderr).toBe(0)
    const [newest] = await json<Archive[]>('list', 'archives')
    rmSync(restored, { force: true })
    expect((await cli('restore', 'archive', newest!.uuid, '--follow')).code).toBe(0)
    expect(readFileSync(restored).equals(readFileSync(source))).toBe(true)
    expect(d.stderr.join('\n')).not.toContain(password)
  })
})
