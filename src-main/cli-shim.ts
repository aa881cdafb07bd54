// "Install command-line tool": a small `bulwark` script on the PATH that runs
// the CLI bundled in the app (out/main/cli.js) on the app's own binary as
// plain Node (ELECTRON_RUN_AS_NODE=1), passing every argument and the exit
// code through. The CLI needs no native module, so Electron's Node runs it as
// it is. Plain Node: the plan is a function of its inputs (so the Windows
// script is checked as text anywhere) and the install touches only the file
// system.
//
// The script carries a marker line. Installing again rewrites a script with
// the marker (the app moved, or was updated) and refuses any other file: a
// `bulwark` that someone else put there (npm link, a package) is theirs.
import { randomBytes } from 'node:crypto'
import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { posix, win32 } from 'node:path'

/** Found in every script the app writes, and only there. */
export const SHIM_MARKER = 'bulwark-cli-shim: written by the Bulwark desktop app'

export interface ShimInput {
  platform: NodeJS.Platform
  /** The app's executable (process.execPath). */
  execPath: string
  /** The CLI bundled in the app (out/main/cli.js, inside app.asar when packaged). */
  cliPath: string
  /** The user's home directory. */
  home: string
  /** LOCALAPPDATA (Windows) and APPIMAGE (Linux) are read from it. */
  env?: NodeJS.ProcessEnv
}

export interface ShimPlan {
  /** Where to install, in order: the first whose directory can be written is used. */
  candidates: string[]
  /** Candidates whose directory is created when missing (the user's own ones). */
  creatable: string[]
  content: string
  platform: NodeJS.Platform
}

export interface ShimInstalled {
  path: string
  /** The script replaced one of ours (an older install), rather than being new. */
  replaced: boolean
  /** Its directory is on the PATH given to installShim. */
  onPath: boolean
  /** One paragraph for the person: where it went, and what to do if it is not on the PATH. */
  message: string
}

/** A reason the tool cannot be installed, in words a person can act on. */
export class CliShimError extends Error {}

export function shimPlan(i: ShimInput): ShimPlan {
  const env = i.env ?? {}
  if (i.platform === 'win32') {
    const local = env.LOCALAPPDATA || win32.join(i.home, 'AppData', 'Local')
    const path = win32.join(local, 'Bulwark', 'bin', 'bulwark.cmd')
    return {
      candidates: [path],
      creatable: [path],
      content: windowsShim(i.execPath, i.cliPath),
      platform: i.platform,
    }
  }
  if (env.APPIMAGE) {
    // An AppImage runs from a mount made anew at each launch, gone when it quits.
    throw new CliShimError(
      'The AppImage cannot install the command-line tool: its files live in a temporary ' +
        'mount that changes at every launch. Install the .deb package for a lasting ' +
        '`bulwark` command, or run the CLI from a checkout (README, "Use it from the command line").',
    )
  }
  const own = posix.join(i.home, '.local', 'bin', 'bulwark')
  const content = posixShim(i.execPath, i.cliPath)
  // /usr/local/bin is on macOS's default PATH, but often writable only by an admin.
  const candidates = i.platform === 'darwin' ? ['/usr/local/bin/bulwark', own] : [own]
  return { candidates, creatable: [own], content, platform: i.platform }
}

const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

function posixShim(execPath: string, cliPath: string): string {
  return [
    '#!/bin/sh',
    `# ${SHIM_MARKER} ("Install command-line tool").`,
    '# It runs the CLI inside the app on the app itself, as plain Node. Installing',
    '# again rewrites it; deleting it uninstalls the command.',
    'ELECTRON_RUN_AS_NODE=1',
    'export ELECTRON_RUN_AS_NODE',
    `exec ${sq(execPath)} ${sq(cliPath)} "$@"`,
    '',
  ].join('\n')
}

/** cmd.exe expands %…% even inside quotes; Windows paths cannot hold a double quote. */
const cmdQuote = (s: string) => `"${s.replace(/%/g, '%%')}"`

function windowsShim(execPath: string, cliPath: string): string {
  return [
    '@echo off',
    `rem ${SHIM_MARKER} ("Install command-line tool").`,
    'rem It runs the CLI inside the app on the app itself, as plain Node. Installing',
    'rem again rewrites it; deleting it uninstalls the command.',
    'setlocal',
    'set ELECTRON_RUN_AS_NODE=1',
    `${cmdQuote(execPath)} ${cmdQuote(cliPath)} %*`,
    'exit /b %ERRORLEVEL%',
    '',
  ].join('\r\n')
}

/**
 * Writes the script at the first candidate whose directory can be written:
 * 0755, atomically (a temporary file beside it, renamed over), never over a
 * file without the marker. `pathEnv` is the PATH the message checks against.
 */
export function installShim(plan: ShimPlan, pathEnv = process.env.PATH ?? ''): ShimInstalled {
  const path = plan.platform === 'win32' ? win32 : posix
  const skipped: string[] = []
  for (const target of plan.candidates) {
    const dir = path.dirname(target)
    if (plan.creatable.includes(target)) mkdirSync(dir, { recursive: true })
    try {
      accessSync(dir, constants.W_OK)
    } catch (err) {
      skipped.push(`${dir} (${(err as NodeJS.ErrnoException).code ?? 'not writable'})`)
      continue
    }
    const replaced = checkOurs(target)
    const tmp = path.join(dir, `.bulwark-${randomBytes(6).toString('hex')}.tmp`)
    try {
      writeFileSync(tmp, plan.content, { mode: 0o755 })
      chmodSync(tmp, 0o755) // the umask may have taken bits off
      renameSync(tmp, target)
    } catch (err) {
      rmSync(tmp, { force: true })
      throw new CliShimError(`Could not write ${target}: ${(err as Error).message}`)
    }
    const norm = (p: string) =>
      plan.platform === 'win32' ? path.resolve(p).toLowerCase() : path.resolve(p)
    const onPath = pathEnv
      .split(plan.platform === 'win32' ? ';' : ':')
      .some((p) => p && norm(p) === norm(dir))
    return { path: target, replaced, onPath, message: message(target, dir, onPath, plan.platform) }
  }
  throw new CliShimError(`No directory to install the bulwark command into: ${skipped.join(', ')}`)
}

/** True when `target` is a script of ours; false when nothing is there; throws for anything else. */
function checkOurs(target: string): boolean {
  let isFile: boolean
  try {
    isFile = lstatSync(target).isFile()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
  if (isFile && readHead(target).includes(SHIM_MARKER)) return true
  throw new CliShimError(
    `${target} already exists and was not written by Bulwark (another install of the ` +
      'bulwark command, such as npm link’s, or another program). It was left as it is: ' +
      'remove or rename it, then choose "Install command-line tool" again.',
  )
}

function readHead(file: string): string {
  const fd = openSync(file, 'r')
  try {
    const buf = Buffer.alloc(4096)
    return buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('utf8')
  } finally {
    closeSync(fd)
  }
}

function message(target: string, dir: string, onPath: boolean, platform: string): string {
  const done = `Installed the bulwark command as ${target}.`
  if (onPath) return `${done} Open a new terminal and run: bulwark status`
  if (platform === 'win32') {
    return (
      `${done} ${dir} is not on your PATH yet: add it under Settings → "Edit environment ` +
      'variables for your account" → Path, then open a new terminal and run: bulwark status'
    )
  }
  return (
    `${done} ${dir} is not on your PATH yet: add  export PATH="${dir}:$PATH"  to your ` +
    "shell's startup file (~/.profile, ~/.zshrc), then open a new terminal and run: bulwark status"
  )
}
