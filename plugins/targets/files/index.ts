// Target `files`: a directory. Into a store that holds a vault, the daemon
// backs it up as a tree archive (tree() below tells it where and how to
// walk): each file chunked, re-runs skipping unchanged files, browsable and
// restorable in part. Into other stores (and for archives made that way
// before), it is a POSIX (pax) tar stream made by the system's GNU tar, which
// keeps modes, mtimes (to the nanosecond), symlinks and numeric owners; such
// restores go only into a missing or empty directory.
import { mkdir, readdir, rm, stat } from 'node:fs/promises'
import { isAbsolute, normalize } from 'node:path'
import type { Readable } from 'node:stream'
import { PluginAbortedError, PluginError } from '../../sdk/errors'
import { runTool, spawnInput, spawnOutput } from '../../sdk/process'
import { defineTarget, type Endpoint, type PluginContext, type TreeSpec } from '../../sdk/types'

// Messages are matched below, so keep tar's in English whatever the daemon's locale.
const ENV = { LC_ALL: 'C', LANGUAGE: undefined }

interface FilesEndpoint {
  path: string
  exclude: string[]
  oneFileSystem: boolean
  rereadEvery: number
}

function parse(endpoint: Endpoint): FilesEndpoint {
  const { path, exclude = [], one_file_system = false, reread_every = 0 } = endpoint
  if (typeof path !== 'string' || !isAbsolute(path)) {
    throw new PluginError(`the directory must be an absolute path, not "${String(path)}"`)
  }
  if (!Array.isArray(exclude) || !exclude.every((p) => typeof p === 'string')) {
    throw new PluginError('exclude must be a list of glob patterns')
  }
  if (typeof one_file_system !== 'boolean') {
    throw new PluginError('one_file_system must be true or false')
  }
  const every = Number(reread_every)
  if (!Number.isSafeInteger(every) || every < 0) {
    throw new PluginError(
      `reread_every must be a whole number, 0 or more, not "${String(reread_every)}"`,
    )
  }
  return {
    path: normalize(path),
    exclude: exclude as string[],
    oneFileSystem: one_file_system,
    rereadEvery: every,
  }
}

/**
 * Exclude patterns, relative to the directory: one without a '/' ("*.log",
 * "node_modules") matches a name at any depth; one with a '/' ("cache/*") is
 * anchored at the top of the directory. tar's --anchored applies to the
 * --exclude options after it, and member names start with "./".
 */
export function excludeArgs(patterns: string[]): string[] {
  const loose: string[] = []
  const anchored: string[] = []
  for (const raw of patterns) {
    const p = raw
      .trim()
      .replace(/^(\.\/|\/)+/, '')
      .replace(/\/+$/, '')
    if (!p) continue
    if (p.includes('/')) anchored.push(`--exclude=./${p}`)
    else loose.push(`--exclude=${p}`)
  }
  return [
    ...(loose.length ? ['--no-anchored', ...loose] : []),
    ...(anchored.length ? ['--anchored', ...anchored] : []),
  ]
}

/** A one-line, actionable reading of tar's complaints. */
export function explainTar(stderr: string, code: number | null, what: 'backup' | 'restore') {
  const lines = stderr.split('\n').map((l) => l.replace(/^tar: /, '').trim())
  const pick = (re: RegExp) => lines.find((l) => re.test(l))
  const outside = pick(/Member name contains '\.\.'|Cannot open: Not a directory|not under/)
  if (what === 'restore' && outside) {
    return `restore refused: the archive tries to write outside the directory (${outside})`
  }
  const eof = pick(/Unexpected EOF|This does not look like a tar archive|Skipping to next header/)
  if (what === 'restore' && eof) return `the archive is damaged or incomplete: ${eof}`
  const changed = pick(/file changed as we read it|File removed before we read it/)
  if (changed) {
    return new PluginError(
      `a file changed while it was being backed up (${changed}); run the backup again, or exclude files that are always being written`,
      'transient',
    )
  }
  const space = pick(/No space left on device/)
  if (space) return `the disk is full: ${space}`
  const denied = pick(/Permission denied/)
  if (denied)
    return `tar was refused access: ${denied}; give the daemon's user access or exclude the path`
  const last = lines.filter(Boolean).slice(-2).join(' / ')
  return `tar ${what} failed (exit code ${code})${last ? `: ${last}` : ''}`
}

async function kindOf(path: string): Promise<'missing' | 'dir' | 'other'> {
  try {
    return (await stat(path)).isDirectory() ? 'dir' : 'other' // a symlink to a directory is fine
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing'
    throw fsProblem(err, path)
  }
}

function fsProblem(err: unknown, path: string): PluginError {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'EACCES' || code === 'EPERM') {
    return new PluginError(
      `Bulwark cannot read ${path}: permission denied; give the daemon's user access to it`,
    )
  }
  if (code === 'ENOTDIR') return new PluginError(`${path} is not a directory`)
  return new PluginError(`${path}: ${(err as Error).message}`)
}

async function requireDir(path: string): Promise<void> {
  const kind = await kindOf(path)
  if (kind === 'missing') throw new PluginError(`directory ${path} does not exist`)
  if (kind === 'other') throw new PluginError(`${path} is not a directory`)
}

async function backup(endpoint: Endpoint, ctx: PluginContext): Promise<Readable> {
  const ep = parse(endpoint)
  await requireDir(ep.path)
  const args = [
    '--create',
    '--format=posix',
    // Without these, every run writes new atimes, ctimes and a per-process header
    // name, so unchanged files would not deduplicate between backups.
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
    '--numeric-owner',
    '--preserve-permissions',
  ]
  if (ep.oneFileSystem) args.push('--one-file-system')
  args.push('--file=-', `--directory=${ep.path}`, ...excludeArgs(ep.exclude), '.')
  return spawnOutput('tar', args, ctx, { env: ENV, explain: (s, c) => explainTar(s, c, 'backup') })
}

/** Empties a directory we filled (or removes it if we made it), after a failed restore. */
async function undo(path: string, created: boolean): Promise<void> {
  try {
    if (created) return void (await rm(path, { recursive: true, force: true }))
    for (const name of await readdir(path)) {
      await rm(`${path}/${name}`, { recursive: true, force: true })
    }
  } catch {
    // best effort: the restore has failed already and says so
  }
}

async function restore(endpoint: Endpoint, data: Readable, ctx: PluginContext): Promise<void> {
  const ep = parse(endpoint)
  if (ctx.signal.aborted) throw new PluginAbortedError()
  const kind = await kindOf(ep.path)
  if (kind === 'other') {
    throw new PluginError(`restore into ${ep.path} refused: it exists and is not a directory`)
  }
  if (kind === 'dir' && (await readdir(ep.path)).length > 0) {
    throw new PluginError(
      `restore into ${ep.path} refused: the directory is not empty; restore into a new or empty directory`,
    )
  }
  const created = kind === 'missing'
  if (created) await mkdir(ep.path, { recursive: true, mode: 0o700 })

  // GNU tar already refuses members with '..' and will not follow a symlink it
  // just extracted; it only warns about (and strips) a leading '/'. Treat that
  // warning as a refusal too: such an archive was not made by this plugin.
  let unsafe: string | undefined
  const watch: PluginContext = {
    signal: ctx.signal,
    log: (line) => {
      if (/Removing leading|Member name contains '\.\.'/.test(line)) unsafe ??= line
      ctx.log(line)
    },
  }
  const root = process.getuid?.() === 0
  const args = ['--extract', '--preserve-permissions', '--file=-', `--directory=${ep.path}`]
  // Only root can give files back their owners; others get the files as their own.
  args.push(...(root ? ['--same-owner', '--numeric-owner'] : ['--no-same-owner']))
  try {
    await spawnInput('tar', args, data, watch, {
      env: ENV,
      explain: (s, c) => explainTar(s, c, 'restore'),
    })
    if (unsafe) {
      throw new PluginError(
        `restore refused: the archive holds paths outside the directory (${unsafe.replace(/^tar: /, '')})`,
      )
    }
  } catch (err) {
    await undo(ep.path, created)
    throw err
  }
}

async function test(endpoint: Endpoint, ctx: PluginContext): Promise<string> {
  const ep = parse(endpoint)
  await requireDir(ep.path)
  let entries: string[]
  try {
    entries = await readdir(ep.path)
  } catch (err) {
    throw fsProblem(err, ep.path)
  }
  // The options used here (--format=posix, --anchored, ...) are GNU tar's.
  const version = await runTool('tar', ['--version'], ctx, { env: ENV }).catch((err: Error) => {
    if (err instanceof PluginAbortedError) throw err
    return ''
  })
  if (!version.includes('GNU tar')) {
    throw new PluginError('GNU tar is not installed; install the tar package on the daemon machine')
  }
  return `directory ${ep.path}: ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}`
}

/** The directory as the daemon walks it for a tree archive. */
async function tree(
  endpoint: Endpoint,
  _ctx: PluginContext,
  purpose: 'backup' | 'restore',
): Promise<TreeSpec> {
  const ep = parse(endpoint)
  if (purpose === 'backup') await requireDir(ep.path)
  else if ((await kindOf(ep.path)) === 'other') {
    throw new PluginError(`restore into ${ep.path} refused: it exists and is not a directory`)
  }
  return {
    root: ep.path,
    exclude: ep.exclude,
    oneFileSystem: ep.oneFileSystem,
    rereadEvery: ep.rereadEvery,
  }
}

export default defineTarget({ backup, restore, test, tree })
