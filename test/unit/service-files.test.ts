// The server install files in build/server: the systemd unit passes
// `systemd-analyze verify` where systemd is installed, and the command each of
// the unit and the launchd plist runs really starts the daemon (paths moved to
// this checkout and a temporary data directory), with the environment they set.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, describe, expect, it } from 'vitest'
import { ROOT, tempDir } from '../helpers/daemon'

const UNIT = join(ROOT, 'build/server/bulwark.service')
const PLIST = join(ROOT, 'build/server/dev.bulwark.daemon.plist')
const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

/** `[Section]` → key → values (a key may repeat, as Environment= does). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>()
  let current: Map<string, string[]> | undefined
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const header = /^\[(\w+)\]$/.exec(line)
    if (header) {
      current = new Map()
      sections.set(header[1]!, current)
      continue
    }
    const eq = line.indexOf('=')
    expect(eq, `a key=value line: ${line}`).toBeGreaterThan(0)
    expect(current, `a line outside a section: ${line}`).toBeDefined()
    const key = line.slice(0, eq)
    current!.set(key, [...(current!.get(key) ?? []), line.slice(eq + 1)])
  }
  return sections
}

/** The plist's ProgramArguments and EnvironmentVariables (a flat reading of its XML). */
function parsePlist(text: string) {
  const block = (key: string, tag: string) =>
    new RegExp(`<key>${key}</key>\\s*<${tag}>([\\s\\S]*?)</${tag}>`).exec(text)?.[1] ?? ''
  const strings = (xml: string) => [...xml.matchAll(/<string>([^<]*)<\/string>/g)].map((m) => m[1]!)
  const env: Record<string, string> = {}
  const envXml = block('EnvironmentVariables', 'dict')
  for (const m of envXml.matchAll(/<key>([^<]+)<\/key>\s*<string>([^<]*)<\/string>/g))
    env[m[1]!] = m[2]!
  return {
    label: /<key>Label<\/key>\s*<string>([^<]+)<\/string>/.exec(text)?.[1],
    args: strings(block('ProgramArguments', 'array')),
    env,
  }
}

/**
 * Runs a service's command with its install paths moved here: node → this
 * node, /opt/bulwark → this checkout, the data directory → a temp one, the
 * port → 0; waits for the ready line, then stops it as the service manager does (SIGTERM).
 */
async function runAsService(argv: string[], env: Record<string, string>, installedData: string) {
  const data = join(tempDir('bulwark-service-'), 'data')
  dirs.push(data)
  const args = argv.slice(1).map((a) =>
    a
      .replace('/opt/bulwark', ROOT)
      .replace(installedData, data)
      .replace(/^127\.0\.0\.1:7411$/, '127.0.0.1:0'),
  )
  expect(argv[0]).toMatch(/\/node$/)
  const child = spawn(process.execPath, [...args, '--ready-json'], {
    env: { ...process.env, BULWARK_KEYCHAIN: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const stderr: string[] = []
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l))
  const ready = await new Promise<{ url: string }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const msg = JSON.parse(line)
        if (msg.ready) resolve(msg)
      } catch {
        /* the banner's other lines */
      }
    })
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr.join('\n')}`)))
  })
  const health = await fetch(`${ready.url}/v1/health`).catch(() => null)
  expect(health, 'the daemon answers').not.toBeNull()
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  const code = await exited
  return { data, code, stderr }
}

/** `systemd-analyze verify` finds nothing to say about the unit (where systemd is installed). */
function verifyUnit(file: string): void {
  let analyze = true
  try {
    execFileSync('sh', ['-c', 'command -v systemd-analyze'], { stdio: 'ignore' })
  } catch {
    analyze = false
  }
  if (!analyze) return console.warn('systemd-analyze is not installed: only parsed the unit')
  const copy = join(tempDir('bulwark-unit-'), basename(file))
  dirs.push(join(copy, '..'))
  writeFileSync(copy, readFileSync(file))
  // Complaints about the unit (an unknown key, a key in the wrong section) name its file on stderr.
  const run = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' })
  const complaints = `${run.stdout}\n${run.stderr}`.split('\n').filter((l) => l.includes(copy))
  expect(complaints).toEqual([])
}

describe('the systemd unit', () => {
  const unit = parseUnit(readFileSync(UNIT, 'utf8'))
  const service = unit.get('Service')!

  it('is a unit systemd accepts', () => {
    expect([...unit.keys()]).toEqual(['Unit', 'Service', 'Install'])
    verifyUnit(UNIT)
  })

  it('runs as its own user, restarts on failure, and keeps to its data directory', () => {
    expect(service.get('User')).toEqual(['bulwark'])
    expect(service.get('Restart')).toEqual(['on-failure'])
    expect(service.get('StateDirectory')).toEqual(['bulwark'])
    expect(service.get('StateDirectoryMode')).toEqual(['0700'])
    expect(service.get('ProtectSystem')).toEqual(['strict'])
    expect(service.get('NoNewPrivileges')).toEqual(['yes'])
    expect(unit.get('Install')!.get('WantedBy')).toEqual(['multi-user.target'])
  })

  it('starts the daemon with the command it gives, which SIGTERM stops cleanly', async () => {
    const [execStart] = service.get('ExecStart')!
    const env = Object.fromEntries(
      (service.get('Environment') ?? []).map((e) => e.split('=', 2) as [string, string]),
    )
    expect(env.BULWARK_KEYCHAIN).toBe('off')
    const { data, code, stderr } = await runAsService(
      execStart!.split(' '),
      env,
      '/var/lib/bulwark',
    )
    expect(code, stderr.join('\n')).toBe(0)
    expect(stderr.join('\n')).toContain('BULWARK_KEYCHAIN=off')
    expect(existsSync(join(data, 'secrets.key'))).toBe(true)
    expect(existsSync(join(data, 'daemon.json')), 'daemon.json is removed at stop').toBe(false)
    expect(statSync(data).mode & 0o777).toBe(0o700)
  })
})

describe('the launchd plist', () => {
  const plist = parsePlist(readFileSync(PLIST, 'utf8'))

  it('starts the daemon with the command it gives', async () => {
    expect(plist.label).toBe('dev.bulwark.daemon')
    expect(plist.args.slice(1, 3)).toEqual(['/opt/bulwark/bin/bulwark.js', 'daemon'])
    const { code, stderr } = await runAsService(plist.args, plist.env, '/usr/local/var/bulwark')
    expect(code, stderr.join('\n')).toBe(0)
  })
})

describe("the agent's systemd unit", () => {
  const file = join(ROOT, 'build/server/bulwark-agent.service')
  const unit = parseUnit(readFileSync(file, 'utf8'))
  const service = unit.get('Service')!

  it('is a unit systemd accepts, restarted on failure, with its own state directory', () => {
    expect([...unit.keys()]).toEqual(['Unit', 'Service', 'Install'])
    expect(service.get('Restart')).toEqual(['on-failure'])
    expect(service.get('StateDirectory')).toEqual(['bulwark-agent'])
    verifyUnit(file)
  })

  it('runs `bulwark agent` from its data directory, which says how to pair when it is not paired', () => {
    const [execStart] = service.get('ExecStart')!
    const argv = execStart!.split(' ')
    expect(argv.slice(1, 3)).toEqual(['/opt/bulwark/bin/bulwark.js', 'agent'])
    const data = join(tempDir('bulwark-agent-service-'), 'data')
    dirs.push(join(data, '..'))
    const args = argv
      .slice(1)
      .map((a) => a.replace('/opt/bulwark', ROOT).replace('/var/lib/bulwark-agent', data))
    const run = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 30_000 })
    expect(run.status).toBe(2)
    expect(run.stderr).toMatch(/not paired yet .*bulwark create agent --name NAME/)
  })
})
