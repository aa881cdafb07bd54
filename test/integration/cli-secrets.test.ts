// `--set-secret NAME` on create/edit target and store, with the real `bulwark`
// binary against a real daemon: the secret goes in on stdin (one line per
// flag, in order), reaches the daemon (a password-protected Redis answers the
// target's connection test; reads show it redacted), and is neither in the
// CLI's command line, as `ps` shows it while the CLI waits for its input, nor
// in any output or the daemon's log. Names that are not secret fields are
// refused, listing those that are.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { privateRedis } from '../fixtures/targets/redis'
import { BULWARK_BIN, runCli, startDaemon, type RunningDaemon } from '../helpers/daemon'
import { postgresAvailable, redisAvailable, toolAvailable } from '../helpers/services'

const REDIS_PASSWORD = 'cli-secrets redis password 1'
const WRONG_PASSWORD = 'cli-secrets wrong password 2'
const PG_PASSWORD = 'cli-secrets pg password 3'
const S3_SECRET = 'cli-secrets s3 secret key 4'
const VAULT_PASSWORD = 'cli-secrets vault password 5'
const SECRETS = [REDIS_PASSWORD, WRONG_PASSWORD, PG_PASSWORD, S3_SECRET, VAULT_PASSWORD]

const hasRedis = redisAvailable()
const hasPython = toolAvailable('python3', ['-c', 'import pty'], 'apt-get install python3')
if (!hasPython)
  console.warn('skipping the terminal prompt test of --set-secret: no python3 (for a pty)')

/**
 * Runs the CLI on a pseudo-terminal (python3's pty), answers its prompt with
 * the secret (handed over in the environment, not argv), and returns all the
 * terminal showed.
 */
const PTY_DRIVER = `
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out, sent, deadline = b'', False, time.time() + 30
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if not r:
        continue
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    if not sent and out.endswith(b': '):
        os.write(fd, os.environ['SECRET'].encode() + b'\\r')
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode())
sys.exit(os.waitstatus_to_exitcode(status))
`
function cliOnTerminal(args: string[], secret: string) {
  const r = spawnSync('python3', ['-c', PTY_DRIVER, process.execPath, BULWARK_BIN, ...args], {
    env: { ...process.env, BULWARK_HOME: daemon.dataDir, BULWARK_KEYCHAIN: 'off', SECRET: secret },
    encoding: 'utf8',
  })
  outputs.push(r.stdout, r.stderr)
  return { code: r.status, out: r.stdout + r.stderr }
}
const hasPg = postgresAvailable()

let daemon: RunningDaemon
const outputs: string[] = []

beforeAll(async () => {
  daemon = await startDaemon()
})
afterAll(async () => {
  await daemon?.stop()
  // Nothing any command printed, nor the daemon's log, holds a secret.
  const all = [...outputs, ...daemon.stderr].join('\n')
  for (const s of SECRETS) expect(all).not.toContain(s)
})

/**
 * Runs the CLI with its stdin left open until `ps` has shown its command line,
 * then writes `input` and closes stdin. Returns the `ps` line with the result.
 */
async function cliWithStdin(args: string[], input: string) {
  const child = spawn(process.execPath, [BULWARK_BIN, ...args], {
    env: { ...process.env, BULWARK_HOME: daemon.dataDir, BULWARK_KEYCHAIN: 'off' },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const closed = new Promise<number>((r) => child.on('close', (c) => r(c ?? -1)))
  // What other users see: the full argument list of the running CLI.
  const psLine = execFileSync('ps', ['-ww', '-o', 'args=', '-p', String(child.pid)], {
    encoding: 'utf8',
  }).trim()
  child.stdin.end(input)
  const code = await closed
  outputs.push(psLine, stdout, stderr)
  return { code, stdout, stderr, psLine }
}

async function cli(args: string[], input?: string) {
  const r = await runCli(args, { dataDir: daemon.dataDir, input })
  outputs.push(r.stdout, r.stderr)
  return r
}

const endpointOf = async (kind: 'targets' | 'stores', name: string) => {
  const res = await daemon.api<{ name: string; uuid: string; endpoint: string }[]>(
    'GET',
    `/v1/${kind}`,
  )
  const item = res.body.find((i) => i.name === name)
  expect(item, `${kind} ${name}`).toBeDefined()
  return JSON.parse(item?.endpoint ?? '{}') as Record<string, unknown>
}

describe.skipIf(!hasRedis)('--set-secret: a Redis target with a password', () => {
  let server: Awaited<ReturnType<typeof privateRedis>>
  beforeAll(async () => {
    server = await privateRedis(REDIS_PASSWORD)
  })
  afterAll(() => server?.stop())

  it('reads the password from stdin, not argv: the target connects, reads show it redacted', async () => {
    const create = await cliWithStdin(
      [
        'create',
        'target',
        '--name',
        'cache',
        '--plugin',
        'redis',
        '--set',
        `port=${server.port}`,
        '--set-secret',
        'password',
      ],
      `${REDIS_PASSWORD}\n`,
    )
    expect(create.stderr).toBe('')
    expect(create.code).toBe(0)
    expect(create.psLine).toContain('--set-secret password')
    expect(create.psLine).not.toContain(REDIS_PASSWORD)

    expect((await endpointOf('targets', 'cache')).password).toBe('<redacted>')
    const show = await cli(['show', 'target', 'cache'])
    expect(show.stdout).toMatch(/password: +<redacted>/)
    // The daemon has it: Redis, which requires it, answers.
    const test = await cli(['test', 'target', 'cache'])
    expect(test.stdout).toMatch(/^OK: /)
    expect(test.code).toBe(0)
  })

  it('edit --set-secret replaces it (a wrong one fails the test, the right one passes again)', async () => {
    const wrong = await cliWithStdin(
      ['edit', 'target', 'cache', '--set-secret', 'password'],
      `${WRONG_PASSWORD}\n`,
    )
    expect(wrong.code).toBe(0)
    expect(wrong.psLine).not.toContain(WRONG_PASSWORD)
    const failed = await cli(['test', 'target', 'cache'])
    expect(failed.stdout).toMatch(/^FAILED: /)
    expect(failed.code).toBe(1)

    const right = await cliWithStdin(
      ['edit', 'target', 'cache', '--set-secret', 'password'],
      `${REDIS_PASSWORD}\n`,
    )
    expect(right.code).toBe(0)
    expect((await cli(['test', 'target', 'cache'])).stdout).toMatch(/^OK: /)
  })

  it.skipIf(!hasPython)('on a terminal, asks for it without echoing it', async () => {
    const r = cliOnTerminal(
      [
        'create',
        'target',
        '--name',
        'cache-tty',
        '--plugin',
        'redis',
        '--set',
        `port=${server.port}`,
        '--set-secret',
        'password',
      ],
      REDIS_PASSWORD,
    )
    expect(r.code, r.out).toBe(0)
    expect(r.out).toContain('redis password: ')
    expect(r.out).toContain('created target "cache-tty"')
    expect(r.out).not.toContain(REDIS_PASSWORD)
    expect((await cli(['test', 'target', 'cache-tty'])).stdout).toMatch(/^OK: /)
  })
})

describe.skipIf(!hasPg)('--set-secret: a PostgreSQL target', () => {
  it('keeps the password (shown as set, redacted) and the target still connects', async () => {
    const r = await cliWithStdin(
      [
        'create',
        'target',
        '--name',
        'pg',
        '--plugin',
        'postgres',
        '--set',
        'database=postgres',
        '--set-secret',
        'password',
      ],
      `${PG_PASSWORD}\n`,
    )
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.psLine).not.toContain(PG_PASSWORD)
    expect((await endpointOf('targets', 'pg')).password).toBe('<redacted>')
    expect((await cli(['show', 'target', 'pg'])).stdout).toMatch(/password: +<redacted>/)
    expect((await cli(['test', 'target', 'pg'])).stdout).toMatch(/^OK: /)
  })
})

describe('--set-secret: several secrets and refusals', () => {
  const s3Args = (name: string) => [
    'create',
    'store',
    '--name',
    name,
    '--plugin',
    's3',
    '--set',
    'bucket=b',
    '--set',
    'access_key_id=id',
    '--set-secret',
    'secret_access_key',
    '--set-secret',
    'vault_password',
  ]

  it('reads one line per --set-secret, in the order given', async () => {
    const r = await cliWithStdin(s3Args('s3'), `${S3_SECRET}\n${VAULT_PASSWORD}\n`)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const endpoint = await endpointOf('stores', 's3')
    expect(endpoint.secret_access_key).toBe('<redacted>')
    expect(endpoint.vault_password).toBe('<redacted>')
    // The order counts: a vault password must be 8 characters or more, and the
    // second line is the vault password's.
    const swapped = await cliWithStdin(s3Args('s3-swapped'), `${S3_SECRET}\nshort\n`)
    expect(swapped.code).not.toBe(0)
    expect(swapped.stderr).toContain('vault_password')
    // A missing line is said as such.
    const missing = await cliWithStdin(s3Args('s3-missing'), `${S3_SECRET}\n`)
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('--set-secret vault_password found no value')
  })

  it('refuses a field that is not a secret, listing the secret fields', async () => {
    const r = await cli(
      ['create', 'target', '--name', 'x', '--plugin', 'postgres', '--set-secret', 'host'],
      'value\n',
    )
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('"host" is not a secret field of plugin "postgres"')
    expect(r.stderr).toContain('its secret fields: password')
    const unknown = await cli(
      ['create', 'store', '--name', 'y', '--plugin', 'fs', '--set-secret', 'pasword'],
      'value\n',
    )
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('its secret fields: vault_password')
  })

  it('refuses a value on the command line and the same field in --set', async () => {
    const value = await cli([
      'create',
      'target',
      '--name',
      'x',
      '--plugin',
      'redis',
      '--set-secret',
      'password=v',
    ])
    expect(value.code).toBe(2)
    expect(value.stderr).toContain('takes only the field')
    const both = await cli([
      'create',
      'target',
      '--name',
      'x',
      '--plugin',
      'redis',
      '--set',
      'password=v',
      '--set-secret',
      'password',
    ])
    expect(both.code).toBe(2)
    expect(both.stderr).toContain('cannot be used together')
  })
})
