// The banner `bulwark daemon` prints (as `npm start` shows it): its CLI line
// works as given in a new shell, one without BULWARK_HOME, whether the daemon
// runs on the default data directory or on another one.
import { spawn } from 'node:child_process'
import { expect, it } from 'vitest'
import { defaultDataDir } from '../../src-daemon/platform/paths'
import { BULWARK_BIN, tempDir } from '../helpers/daemon'

/** A new shell's environment: no BULWARK_* variables, and a home of its own. */
function shellEnv(home: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('BULWARK_') && k !== 'XDG_DATA_HOME') env[k] = v
  }
  return { ...env, HOME: home, BULWARK_KEYCHAIN: 'off' }
}

/** The CLI run in that shell. */
function runCli(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BULWARK_BIN, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }))
  })
}

/** Starts the daemon without --ready-json, returns its banner once printed, and a stop. */
async function banner(args: string[], env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    [BULWARK_BIN, 'daemon', '--listen', '127.0.0.1:0', ...args],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  let err = ''
  child.stderr.on('data', (d) => (err += d))
  const text = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d
      if (out.includes('Press Ctrl+C to stop.')) resolve(out)
    })
    child.on('exit', (code) => reject(new Error(`daemon exited ${code}: ${err}`)))
  })
  const stop = () =>
    new Promise<void>((resolve) => {
      child.removeAllListeners('exit')
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  return { text, stop }
}

/** The command of the banner's CLI line, as arguments after `npx bulwark`. */
function cliLine(text: string): string[] {
  const line = /^ {2}CLI: +npx bulwark (.*?)(?: {3}\(.*)?$/m.exec(text)?.[1]
  expect(line, text).toBeDefined()
  return (line ?? '').split(' ')
}

it('on another data directory, the CLI hint carries it and works in a new shell', async () => {
  const home = tempDir('bulwark-banner-home-')
  const dataDir = tempDir('bulwark-banner-data-')
  const env = shellEnv(home)
  const d = await banner(['--data-dir', dataDir], env)
  try {
    const args = cliLine(d.text)
    expect(args).toEqual(['--data-dir', dataDir, 'status'])
    expect(d.text).toContain(`export BULWARK_HOME=${dataDir}`)
    const r = await runCli(args, env)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain(`Data dir:   ${dataDir}`)
  } finally {
    await d.stop()
  }
})

it('on the default data directory, the hint is plain "npx bulwark status"', async () => {
  const home = tempDir('bulwark-banner-home-')
  const env = shellEnv(home)
  const d = await banner([], env)
  try {
    expect(cliLine(d.text)).toEqual(['status'])
    const r = await runCli(['status'], env)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain(`Data dir:   ${defaultDataDir(env, process.platform, home)}`)
  } finally {
    await d.stop()
  }
})
