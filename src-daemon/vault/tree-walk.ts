// Walking a directory for a tree archive: depth-first, each directory's names
// sorted (code-unit order, so two runs over the same tree list it the same
// way), lstat only (a symlink is an entry, never followed). Leaves out what
// the exclude patterns and any `.bulwarkignore` file say, and with
// oneFileSystem does not descend into a directory of another filesystem
// (the mount point itself is kept, as tar --one-file-system does).
import type { BigIntStats, Dirent } from 'node:fs'
import { lstat, readFile, readdir } from 'node:fs/promises'
import { PluginError } from '../../plugins/sdk/errors'
import { mapLimit } from '../platform/concurrency'

export const IGNORE_FILE = '.bulwarkignore'

export interface WalkOptions {
  root: string
  /** Glob patterns relative to root (see ignoreRules). */
  exclude: string[]
  oneFileSystem: boolean
  signal: AbortSignal
  log(line: string): void
}

export interface WalkEntry {
  /** Relative to root, '/'-separated. */
  path: string
  abs: string
  st: BigIntStats
}

/**
 * Patterns as the files target's exclude documents them: one without a '/'
 * ("*.log", "node_modules") matches a name at any depth below `base`; one
 * with a '/' ("cache/*") is anchored at `base`. '*' and '?' stay within a
 * name, '**' crosses names, [...] is a class. A match also covers what is
 * inside a matched directory.
 */
export interface IgnoreRules {
  base: string
  names: RegExp[]
  anchored: RegExp[]
}

function globSource(glob: string): string {
  let out = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*' && glob[i + 1] === '*') {
      out += '.*'
      i++
    } else if (c === '*') out += '[^/]*'
    else if (c === '?') out += '[^/]'
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2)
      if (close < 0) out += '\\['
      else {
        const body = glob
          .slice(i + 1, close)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')
        out += `[${body}]`
        i = close
      }
    } else out += c.replace(/[.+^${}()|\\\]]/g, '\\$&')
  }
  return out
}

export function ignoreRules(base: string, patterns: string[]): IgnoreRules {
  const rules: IgnoreRules = { base, names: [], anchored: [] }
  for (const raw of patterns) {
    const p = raw
      .trim()
      .replace(/^(\.\/|\/)+/, '')
      .replace(/\/+$/, '')
    if (!p || p.startsWith('#')) continue
    if (p.includes('/')) rules.anchored.push(new RegExp(`^${globSource(p)}(?:/.*)?$`))
    else rules.names.push(new RegExp(`^${globSource(p)}$`))
  }
  return rules
}

/** Whether any of the rules leaves out the entry at path (its last segment is name). */
export function ignored(rules: IgnoreRules[], path: string, name: string): boolean {
  for (const r of rules) {
    if (r.base !== '' && !path.startsWith(r.base + '/')) continue
    const sub = r.base === '' ? path : path.slice(r.base.length + 1)
    if (r.names.some((re) => re.test(name))) return true
    if (r.anchored.some((re) => re.test(sub))) return true
  }
  return false
}

/** A file system error while walking, as the files target would say it. */
export function walkProblem(err: unknown, abs: string): PluginError {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'EACCES' || code === 'EPERM') {
    return new PluginError(
      `Bulwark cannot read ${abs}: permission denied; give the daemon's user access or exclude the path`,
    )
  }
  if (code === 'ENOENT') {
    return new PluginError(
      `a file changed while it was being backed up (${abs}: removed before it was read); run the backup again, or exclude files that are always being written`,
      'transient',
    )
  }
  return new PluginError(`${abs}: ${(err as Error).message}`)
}

const join = (dir: string, name: string) => (dir === '' ? name : `${dir}/${name}`)

/** Every entry under root (not root itself), in tree order. */
export async function* walkTree(opts: WalkOptions): AsyncGenerator<WalkEntry> {
  const rootSt = await lstat(opts.root, { bigint: true }).catch((err: unknown) => {
    throw walkProblem(err, opts.root)
  })
  const rules = [ignoreRules('', opts.exclude)]
  yield* walkDir(opts, '', opts.root, rootSt.dev, rules)
}

async function* walkDir(
  opts: WalkOptions,
  rel: string,
  abs: string,
  rootDev: bigint,
  inherited: IgnoreRules[],
): AsyncGenerator<WalkEntry> {
  if (opts.signal.aborted) throw new PluginError('the backup was stopped', 'transient')
  let dirents: Dirent[]
  try {
    dirents = await readdir(abs, { withFileTypes: true })
  } catch (err) {
    throw walkProblem(err, abs)
  }
  let rules = inherited
  if (dirents.some((d) => d.name === IGNORE_FILE && d.isFile())) {
    const text = await readFile(`${abs}/${IGNORE_FILE}`, 'utf8').catch((err: unknown) => {
      throw walkProblem(err, `${abs}/${IGNORE_FILE}`)
    })
    rules = [...inherited, ignoreRules(rel, text.split('\n'))]
  }
  const names = dirents
    .map((d) => d.name)
    .filter((name) => !ignored(rules, join(rel, name), name))
    .sort()
  // lstat in parallel (each is a thread-pool round trip), in bounded batches.
  const stats = await mapLimit(names, 32, (name) =>
    lstat(`${abs}/${name}`, { bigint: true }).catch((err: unknown) => {
      throw walkProblem(err, `${abs}/${name}`)
    }),
  )
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!
    const st = stats[i]!
    const entry = { path: join(rel, name), abs: `${abs}/${name}`, st }
    if (st.isSocket()) {
      opts.log(`${entry.abs} is a socket: left out (a socket cannot be backed up)`)
      continue
    }
    yield entry
    if (!st.isDirectory()) continue
    if (opts.oneFileSystem && st.dev !== rootDev) {
      opts.log(`${entry.abs} is on another filesystem: its contents are left out (one_file_system)`)
      continue
    }
    yield* walkDir(opts, entry.path, entry.abs, rootDev, rules)
  }
}

/** uid → user name and gid → group name, from /etc/passwd and /etc/group (read once). */
export class OwnerNames {
  private users?: Map<number, string>
  private groups?: Map<number, string>

  private static async table(file: string): Promise<Map<number, string>> {
    const map = new Map<number, string>()
    const text = await readFile(file, 'utf8').catch(() => '')
    for (const line of text.split('\n')) {
      const [name, , id] = line.split(':')
      if (name && id && /^\d+$/.test(id) && !map.has(Number(id))) map.set(Number(id), name)
    }
    return map
  }

  async load(): Promise<void> {
    this.users ??= await OwnerNames.table('/etc/passwd')
    this.groups ??= await OwnerNames.table('/etc/group')
  }

  user(uid: number): string | undefined {
    return this.users?.get(uid)
  }

  group(gid: number): string | undefined {
    return this.groups?.get(gid)
  }
}
