// The command-line tool the desktop app installs (src-main/cli-shim.ts): a
// script for this machine, pointing at this Node (process.execPath; what
// ELECTRON_RUN_AS_NODE asks of Electron, plain Node already is) and the built
// out/main/cli.js, installed into a temporary HOME and run from the PATH: its
// output, arguments and exit codes are the CLI's own. It rewrites its own
// older script and refuses any other file. The Windows script is checked as
// text.
import { spawnSync } from 'node:child_process'
import {
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  CliShimError,
  SHIM_MARKER,
  installShim,
  shimPlan,
  type ShimInput,
} from '../../src-main/cli-shim'
import { ROOT, tempDir } from '../helpers/daemon'

const CLI = join(ROOT, 'out', 'main', 'cli.js')
const here = (home: string): ShimInput => ({
  platform: process.platform,
  execPath: process.execPath,
  cliPath: CLI,
  home,
})

/** Runs `bulwark` found on a PATH that starts with `bin`, as a shell would. */
function run(bin: string, args: string[]) {
  const r = spawnSync('bulwark', args, {
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: bin },
    encoding: 'utf8',
  })
  if (r.error) throw r.error
  return r
}

// A plain skipIf, not test/helpers/skip.ts: Windows is a platform the shim is not for, not a
// machine that lacks something.
describe.skipIf(process.platform === 'win32')('CLI shim on this machine', () => {
  it('installs into ~/.local/bin and runs the bundled CLI, arguments and exit codes through', () => {
    const home = tempDir('bulwark-shim-home-')
    const bin = join(home, '.local', 'bin')
    const done = installShim(shimPlan(here(home)), `/usr/bin:${bin}`)
    expect(done).toMatchObject({ path: join(bin, 'bulwark'), replaced: false, onPath: true })
    expect(done.message).toContain(`Installed the bulwark command as ${join(bin, 'bulwark')}`)
    expect(statSync(done.path).mode & 0o777).toBe(0o755)
    expect(readdirSync(bin)).toEqual(['bulwark']) // no temporary file left beside it

    const version = run(bin, ['--version'])
    expect(version.stderr).toBe('')
    expect(version.stdout.trim()).toMatch(/^bulwark \d+\.\d+\.\d+/)
    expect(version.status).toBe(0)

    // A failing command, with an argument holding a space and a quote: the CLI sees it whole.
    const nowhere = join(tempDir(), "no daemon's here")
    mkdirSync(nowhere)
    const failed = run(bin, ['status', '--data-dir', nowhere])
    expect(failed.status).toBe(1)
    expect(failed.stderr).toContain(`no Bulwark daemon is running for ${nowhere}`)
  })

  it('says when its directory is not on the PATH, and how to add it', () => {
    const home = tempDir('bulwark-shim-home-')
    const done = installShim(shimPlan(here(home)), '/usr/bin:/bin')
    expect(done.onPath).toBe(false)
    expect(done.message).toContain(`export PATH="${join(home, '.local', 'bin')}:$PATH"`)
  })

  it('rewrites its own older script, and refuses a file it did not write', () => {
    const home = tempDir('bulwark-shim-home-')
    const first = installShim(shimPlan(here(home)))
    // The app moved: the next install points at the new place.
    const moved = installShim(shimPlan({ ...here(home), cliPath: '/opt/Bulwark/cli.js' }))
    expect(moved).toMatchObject({ path: first.path, replaced: true })
    expect(readFileSync(moved.path, 'utf8')).toContain("'/opt/Bulwark/cli.js'")

    const foreign = '#!/bin/sh\nexec node /home/me/src/bulwark/bin/bulwark.js "$@"\n'
    writeFileSync(first.path, foreign)
    expect(() => installShim(shimPlan(here(home)))).toThrow(CliShimError)
    expect(() => installShim(shimPlan(here(home)))).toThrow(
      /already exists and was not written by Bulwark.*remove or rename it/,
    )
    expect(readFileSync(first.path, 'utf8')).toBe(foreign)

    // A symbolic link (as npm link makes) is not ours either, even to a script of ours.
    const linkHome = tempDir('bulwark-shim-home-')
    const linkBin = join(linkHome, '.local', 'bin')
    mkdirSync(linkBin, { recursive: true })
    symlinkSync(moved.path, join(linkBin, 'bulwark'))
    expect(() => installShim(shimPlan(here(linkHome)))).toThrow(/not written by Bulwark/)
    expect(lstatSync(join(linkBin, 'bulwark')).isSymbolicLink()).toBe(true)
  })

  it('on macOS falls back to ~/.local/bin when /usr/local/bin cannot be written', () => {
    const home = tempDir('bulwark-shim-home-')
    const plan = shimPlan({ ...here(home), platform: 'darwin' })
    expect(plan.candidates).toEqual(['/usr/local/bin/bulwark', join(home, '.local/bin/bulwark')])
    // A first choice whose directory does not exist stands for one that cannot be written.
    const done = installShim({
      ...plan,
      candidates: ['/nonexistent-bulwark/bin/bulwark', ...plan.candidates.slice(1)],
    })
    expect(done.path).toBe(join(home, '.local/bin/bulwark'))
    expect(run(join(home, '.local/bin'), ['--version']).status).toBe(0)
  })
})

describe('CLI shim content', () => {
  it('on Windows is a bulwark.cmd in %LOCALAPPDATA%\\Bulwark\\bin', () => {
    const plan = shimPlan({
      platform: 'win32',
      execPath: 'C:\\Program Files\\Bulwark\\Bulwark.exe',
      cliPath: 'C:\\Program Files\\Bulwark\\resources\\app.asar\\out\\main\\cli.js',
      home: 'C:\\Users\\ana',
      env: { LOCALAPPDATA: 'C:\\Users\\ana\\AppData\\Local' },
    })
    expect(plan.candidates).toEqual(['C:\\Users\\ana\\AppData\\Local\\Bulwark\\bin\\bulwark.cmd'])
    expect(plan.content.split('\r\n')).toEqual([
      '@echo off',
      `rem ${SHIM_MARKER} ("Install command-line tool").`,
      'rem It runs the CLI inside the app on the app itself, as plain Node. Installing',
      'rem again rewrites it; deleting it uninstalls the command.',
      'setlocal',
      'set ELECTRON_RUN_AS_NODE=1',
      '"C:\\Program Files\\Bulwark\\Bulwark.exe" "C:\\Program Files\\Bulwark\\resources\\app.asar\\out\\main\\cli.js" %*',
      'exit /b %ERRORLEVEL%',
      '',
    ])
    // Without LOCALAPPDATA, the usual place under the home; a % in a path is escaped for cmd.
    const odd = shimPlan({
      platform: 'win32',
      execPath: 'D:\\100%\\Bulwark.exe',
      cliPath: 'D:\\100%\\cli.js',
      home: 'C:\\Users\\bo',
    })
    expect(odd.candidates).toEqual(['C:\\Users\\bo\\AppData\\Local\\Bulwark\\bin\\bulwark.cmd'])
    expect(odd.content).toContain('"D:\\100%%\\Bulwark.exe" "D:\\100%%\\cli.js" %*')
  })

  it('on Linux quotes paths for sh, and refuses from an AppImage with what to do instead', () => {
    const plan = shimPlan({
      platform: 'linux',
      execPath: "/opt/it's/bulwark",
      cliPath: '/opt/its/resources/app.asar/out/main/cli.js',
      home: '/home/ana',
    })
    expect(plan.candidates).toEqual(['/home/ana/.local/bin/bulwark'])
    expect(plan.content).toContain(
      `exec '/opt/it'\\''s/bulwark' '/opt/its/resources/app.asar/out/main/cli.js' "$@"`,
    )
    expect(() =>
      shimPlan({
        ...here('/home/ana'),
        platform: 'linux',
        env: { APPIMAGE: '/home/ana/B.AppImage' },
      }),
    ).toThrow(/AppImage.*Install the \.deb package/)
  })
})
