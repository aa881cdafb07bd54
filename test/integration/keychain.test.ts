// The key that seals secrets.enc in a real OS keychain: the built daemon runs
// inside its own D-Bus session with gnome-keyring-daemon unlocked, HOME and
// XDG_RUNTIME_DIR in a temporary directory (so the machine's own keyring is
// never touched and the keyring file outlives each session). Checks where the
// key ends up under BULWARK_KEYCHAIN=auto, on and off, that a vault password
// stored through the API survives a restart, and the refusals.
import { execFile, execFileSync } from 'node:child_process'
import { createDecipheriv } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BULWARK_BIN, startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'
import { keychainAvailable } from '../helpers/services'
import { runTask } from '../helpers/tasks'

const available = await keychainAvailable()

const PASSWORD = 'keychain-vault-password-1'
/** Starts a D-Bus session, unlocks (first time: creates) the login keyring, then runs "$@". */
const UNLOCK =
  'echo keyring-pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; exec "$@"'
const IN_SESSION = ['dbus-run-session', '--', 'sh', '-c', UNLOCK, 'sh']

let home: string
const dirs: string[] = []
const running: RunningDaemon[] = []

/** HOME and XDG_RUNTIME_DIR for the keyring; outside a session, a bus address that leads nowhere. */
const env = (extra: Record<string, string> = {}): Record<string, string> => ({
  HOME: home,
  XDG_RUNTIME_DIR: join(home, 'run'),
  DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(home, 'no-bus')}`,
  DISPLAY: '',
  BULWARK_KEYCHAIN: 'auto',
  ...extra,
})

const dataDir = () => {
  const dir = join(tempDir('bulwark-keychain-'), 'data')
  dirs.push(dir)
  return dir
}

async function start(dir: string, opts: { session: boolean; keychain?: string }) {
  const d = await startDaemon({
    dataDir: dir,
    env: env({ BULWARK_KEYCHAIN: opts.keychain ?? 'auto' }),
    prefix: opts.session ? IN_SESSION : undefined,
  })
  running.push(d)
  return d
}

/** Why the daemon would not start: its exit status and all it wrote to stderr. */
async function refusal(
  dir: string,
  opts: { session: boolean; keychain?: string; locked?: boolean },
) {
  const [command = process.execPath, ...args] = [
    ...(opts.locked ? ['dbus-run-session', '--'] : opts.session ? IN_SESSION : []),
    process.execPath,
    BULWARK_BIN,
    'daemon',
    '--data-dir',
    dir,
    '--listen',
    '127.0.0.1:0',
    '--ready-json',
  ]
  const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve) =>
      execFile(
        command,
        args,
        {
          env: { ...process.env, ...env({ BULWARK_KEYCHAIN: opts.keychain ?? 'auto' }) },
          encoding: 'utf8',
          timeout: 30_000,
        },
        (err, stdout, stderr) =>
          resolve({
            code: err ? (typeof err.code === 'number' ? err.code : null) : 0,
            stdout,
            stderr,
          }),
      ),
  )
  expect(result.stdout, 'the daemon started').toBe('')
  expect(result.code, result.stderr).toBe(1)
  return result.stderr
}

const secretsLine = (d: RunningDaemon) => d.stderr.find((l) => l.includes(' secrets: '))

/** secret-tool run in a D-Bus session of its own on the test's keyring. */
function secretTool(args: string[], input?: string): string {
  return execFileSync(
    'dbus-run-session',
    ['--', 'sh', '-c', UNLOCK, 'sh', 'secret-tool', ...args],
    {
      env: { ...process.env, ...env() },
      encoding: 'utf8',
      input,
      stdio: ['pipe', 'pipe', 'ignore'],
    },
  ).trim()
}

/**
 * What the keychain holds for a data directory, read by secret-tool: the entry
 * @napi-rs/keyring writes (attributes service and username), or with
 * `keytar: true` the one earlier versions wrote through keytar (service and account).
 */
function lookup(account: string, opts: { keytar?: boolean } = {}): string | null {
  try {
    return (
      secretTool(['lookup', 'service', 'bulwark', opts.keytar ? 'account' : 'username', account]) ||
      null
    )
  } catch {
    return null
  }
}

/** secrets.enc opened with a key: the stored secrets. */
function unseal(dir: string, key: Buffer): Record<string, string> {
  const sealed = JSON.parse(readFileSync(join(dir, 'secrets.enc'), 'utf8'))
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'))
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'))
  const plain = Buffer.concat([
    decipher.update(Buffer.from(sealed.data, 'base64')),
    decipher.final(),
  ])
  return JSON.parse(plain.toString('utf8'))
}

async function created(d: RunningDaemon, path: string, body: unknown): Promise<string> {
  const res = await d.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid
}

/** An fs store with a vault password, and a job backing a small directory up into it. */
async function storeWithJob(d: RunningDaemon) {
  const base = tempDir('bulwark-keychain-files-')
  dirs.push(base)
  mkdirSync(join(base, 'src'))
  writeFileSync(join(base, 'src', 'note.txt'), 'kept behind a keychain\n')
  const store = await created(d, '/v1/stores', {
    name: 'vaulted',
    plugin: 'fs',
    endpoint: { path: join(base, 'store'), vault_password: PASSWORD },
  })
  const target = await created(d, '/v1/targets', {
    name: 'notes',
    plugin: 'files',
    endpoint: { path: join(base, 'src') },
  })
  const schedule = await created(d, '/v1/schedules', { name: 'nightly', when: 'daily at 4am' })
  const retention = await created(d, '/v1/retention', { name: 'week', expires: 7 * 86400 })
  const job = await created(d, '/v1/jobs', { name: 'notes', target, store, schedule, retention })
  return { store, job }
}

async function backup(d: RunningDaemon, job: string) {
  const task = await runTask(d, `/v1/job/${job}/run`, { owner: 'test' })
  expect(task.status, task.log).toBe('done')
  return task
}

beforeAll(() => {
  home = tempDir('bulwark-keychain-home-')
  mkdirSync(join(home, 'run'), { mode: 0o700 })
})

afterAll(async () => {
  for (const d of running) await d.stop()
  for (const dir of [...dirs, home]) if (dir) rmSync(dir, { recursive: true, force: true })
})

describe.skipIf(!available)('the key that seals secrets.enc, in the OS keychain', () => {
  const dir = dataDir()
  let store: string
  let job: string

  it('is created in the keychain when one answers: no secrets.key, a 0600 marker', async () => {
    const d = await start(dir, { session: true })
    expect(secretsLine(d)).toContain(
      `secrets: the key that seals secrets.enc is in the OS keychain (service "bulwark", account "${dir}") (created now)`,
    )
    ;({ store, job } = await storeWithJob(d))
    await backup(d, job)
    await d.stop()

    expect(existsSync(join(dir, 'secrets.key'))).toBe(false)
    expect(existsSync(join(dir, 'secrets.enc'))).toBe(true)
    const marker = join(dir, 'secrets.keychain')
    expect(JSON.parse(readFileSync(marker, 'utf8'))).toEqual({
      service: 'bulwark',
      account: dir,
      binding: 'keyring',
    })
    expect(statSync(marker).mode & 0o777).toBe(0o600)
  })

  it('is found there by secret-tool, and is the key that seals the vault password', () => {
    const stored = lookup(dir)
    expect(stored).toMatch(/^[A-Za-z0-9+/]{43}=$/)
    const secrets = unseal(dir, Buffer.from(stored!, 'base64'))
    expect(Object.values(secrets)).toContain(PASSWORD)
  })

  it('is read back after a restart: the vault opens and backs up with its stored password', async () => {
    const d = await start(dir, { session: true })
    expect(secretsLine(d)).toMatch(/is in the OS keychain \(service "bulwark", account ".*"\)$/)
    const vault = await d.api('GET', `/v1/store/${store}/vault`)
    expect(vault.status, JSON.stringify(vault.body)).toBe(200)
    expect(vault.body.archives).toBe(1)
    await backup(d, job)
    expect((await d.api('GET', `/v1/store/${store}/vault`)).body.archives).toBe(2)
    await d.stop()
    expect(existsSync(join(dir, 'secrets.key'))).toBe(false)
  })

  it('without the keychain, the daemon refuses to start, says where the key is, and writes no key file', async () => {
    const message = await refusal(dir, { session: false })
    expect(message).toContain(
      `the key that seals ${join(dir, 'secrets.enc')} (the stored endpoint and vault passwords) is in the OS keychain (service "bulwark", account "${dir}"), as ${join(dir, 'secrets.keychain')} says, but the keychain returned no key (it is locked or cannot be reached, or the entry was deleted). `,
    )
    expect(message).toContain('Unlock the keychain and start again')
    expect(message).toContain('the stored passwords cannot be read without it')
    expect(message).not.toContain('    at ') // a message, not a stack
    expect(message.startsWith('bulwark daemon: the key that seals ')).toBe(true)

    // A session whose keyring stays locked (nobody unlocks it; its prompt has no display).
    const locked = await refusal(dir, { session: true, locked: true })
    expect(locked).toContain(
      `says, but the keychain returned no key (it is locked or cannot be reached, or the entry was deleted). Unlock the keychain`,
    )

    const off = await refusal(dir, { session: true, keychain: 'off' })
    expect(off).toContain('BULWARK_KEYCHAIN=off, but the key that seals')
    expect(existsSync(join(dir, 'secrets.key'))).toBe(false)
  })
})

describe.skipIf(!available)('a key an earlier version put in the keychain through keytar', () => {
  it('is copied once to the entry this version reads; the stored passwords still open the vault', async () => {
    const dir = dataDir()
    const first = await start(dir, { session: true })
    const { store, job } = await storeWithJob(first)
    await backup(first, job)
    await first.stop()
    const key = lookup(dir)
    expect(key).toMatch(/^[A-Za-z0-9+/]{43}=$/)

    // The layout keytar left: its item (libsecret's generic schema, attributes
    // service and account), no entry of the new binding, a marker without "binding".
    secretTool(['clear', 'service', 'bulwark', 'username', dir])
    expect(lookup(dir)).toBeNull()
    secretTool(
      [
        'store',
        '--label',
        `bulwark ${dir}`,
        'xdg:schema',
        'org.freedesktop.Secret.Generic',
        'service',
        'bulwark',
        'account',
        dir,
      ],
      key!,
    )
    const marker = join(dir, 'secrets.keychain')
    writeFileSync(marker, JSON.stringify({ service: 'bulwark', account: dir }) + '\n', {
      mode: 0o600,
    })

    const moved = await start(dir, { session: true })
    expect(secretsLine(moved)).toContain(
      `is in the OS keychain (service "bulwark", account "${dir}") (copied now from the entry an earlier version wrote through keytar, which is left in place)`,
    )
    const vault = await moved.api('GET', `/v1/store/${store}/vault`)
    expect(vault.status, JSON.stringify(vault.body)).toBe(200)
    expect(vault.body.archives).toBe(1)
    await backup(moved, job)
    await moved.stop()
    expect(lookup(dir)).toBe(key)
    expect(lookup(dir, { keytar: true })).toBe(key)
    expect(JSON.parse(readFileSync(marker, 'utf8'))).toEqual({
      service: 'bulwark',
      account: dir,
      binding: 'keyring',
    })

    // Once moved, the old item is not needed: the next start reads the new entry.
    secretTool(['clear', 'service', 'bulwark', 'account', dir])
    const again = await start(dir, { session: true })
    expect(secretsLine(again)).toMatch(/is in the OS keychain \(service "bulwark", account ".*"\)$/)
    expect((await again.api('GET', `/v1/store/${store}/vault`)).body.archives).toBe(2)
    await again.stop()
    expect(existsSync(join(dir, 'secrets.key'))).toBe(false)
  })

  it('missing from both places stops the daemon, saying where it looked', async () => {
    const dir = dataDir()
    const d = await start(dir, { session: true })
    await storeWithJob(d)
    await d.stop()
    secretTool(['clear', 'service', 'bulwark', 'username', dir])
    writeFileSync(
      join(dir, 'secrets.keychain'),
      JSON.stringify({ service: 'bulwark', account: dir }) + '\n',
      {
        mode: 0o600,
      },
    )
    const message = await refusal(dir, { session: true })
    expect(message).toContain(
      'the keychain returned no key (it is locked or cannot be reached, or the entry was deleted)',
    )
    expect(existsSync(join(dir, 'secrets.key'))).toBe(false)
  })
})

describe.skipIf(!available)('the key file', () => {
  it('is used under BULWARK_KEYCHAIN=off even with a keychain, and kept under auto', async () => {
    const dir = dataDir()
    const off = await start(dir, { session: true, keychain: 'off' })
    expect(secretsLine(off)).toContain(
      `secrets: the key that seals secrets.enc is in the key file ${join(dir, 'secrets.key')} (BULWARK_KEYCHAIN=off)`,
    )
    const { store, job } = await storeWithJob(off)
    await backup(off, job)
    await off.stop()
    expect(statSync(join(dir, 'secrets.key')).mode & 0o777).toBe(0o600)
    expect(existsSync(join(dir, 'secrets.keychain'))).toBe(false)

    // An existing key file is never moved into the keychain.
    const auto = await start(dir, { session: true })
    expect(secretsLine(auto)).toContain('secrets.key (it exists, so it stays in use)')
    expect((await auto.api('GET', `/v1/store/${store}/vault`)).status).toBe(200)
    await auto.stop()
    expect(existsSync(join(dir, 'secrets.keychain'))).toBe(false)
    expect(lookup(dir)).toBeNull()

    const on = await refusal(dir, { session: true, keychain: 'on' })
    expect(on).toContain('BULWARK_KEYCHAIN=on, but the key that seals')
  })

  it('is the fallback under auto when no keychain answers, saying why', async () => {
    const dir = dataDir()
    const d = await start(dir, { session: false })
    expect(secretsLine(d)).toMatch(
      /secrets: the key that seals secrets\.enc is in the key file .*secrets\.key \(no OS keychain: .+\)$/,
    )
    await d.stop()
    expect(existsSync(join(dir, 'secrets.key'))).toBe(true)
    expect(existsSync(join(dir, 'secrets.keychain'))).toBe(false)
  })

  it('is not a fallback under BULWARK_KEYCHAIN=on: no keychain, no start', async () => {
    const dir = dataDir()
    const message = await refusal(dir, { session: false, keychain: 'on' })
    expect(message).toContain('BULWARK_KEYCHAIN=on, but no OS keychain can be used: ')
    expect(existsSync(join(dir, 'secrets.key'))).toBe(false)
  })
})
