// Extended attributes of a tree archive's entries. Node has no xattr API, so
// the attr package's tools do it, in one process per tree (never one per
// file): `getfattr -R -d` dumps the whole directory at backup, and one
// `setfattr --restore` takes the dump of what a restore wrote. Their format
// quotes a byte of a name as \NNN (octal); values are given in base64 ("0s").
// Missing tools never fail a backup or a restore: the task log says what was
// not kept.
import { spawn } from 'node:child_process'

/** Name → base64 value. */
export type Xattrs = Record<string, string>

export const NO_ATTR_TOOLS = 'install the attr package (getfattr, setfattr)'

/** "\012" → "\n": the tools' quoting undone, bytes read as UTF-8. */
function unquote(latin1: string): string {
  const raw = latin1.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
  return Buffer.from(raw, 'latin1').toString('utf8')
}

/** Quoted as the tools read it: backslash, '=', space and control bytes as \NNN. */
function quote(s: string): string {
  let out = ''
  for (const b of Buffer.from(s, 'utf8')) {
    out +=
      b <= 0x20 || b === 0x7f || b === 0x5c || b === 0x3d
        ? `\\${b.toString(8).padStart(3, '0')}`
        : String.fromCharCode(b)
  }
  return Buffer.from(out, 'latin1').toString('utf8')
}

/**
 * `getfattr --absolute-names -R -d -m - -e base64` output for `root`: each
 * path relative to root ('' for root itself) with its attributes.
 */
export function parseGetfattr(out: Buffer, root: string): Map<string, Xattrs> {
  const prefix = root.endsWith('/') ? root : `${root}/`
  const byPath = new Map<string, Xattrs>()
  let current: Xattrs | undefined
  for (const line of out.toString('latin1').split('\n')) {
    if (line.startsWith('# file: ')) {
      const abs = unquote(line.slice(8))
      const rel =
        abs === root || `${abs}/` === prefix
          ? ''
          : abs.startsWith(prefix)
            ? abs.slice(prefix.length)
            : undefined
      current = rel === undefined ? undefined : {}
      if (current) byPath.set(rel!, current)
      continue
    }
    const eq = line.indexOf('=')
    if (!current || eq <= 0) continue
    const name = unquote(line.slice(0, eq))
    const value = line.slice(eq + 1)
    // -e base64 gives "0s..." (or "" for an empty value in some versions).
    if (value.startsWith('0s')) current[name] = value.slice(2)
    else if (value === '""') current[name] = ''
  }
  for (const [p, xa] of byPath) if (Object.keys(xa).length === 0) byPath.delete(p)
  return byPath
}

/** The `setfattr --restore` input for these absolute paths. */
export function xattrDump(entries: [string, Xattrs][]): string {
  let out = ''
  for (const [abs, xa] of entries) {
    out += `# file: ${quote(abs)}\n`
    // setfattr refuses "0s" alone: an empty value is written as "".
    for (const [name, value] of Object.entries(xa))
      out += `${quote(name)}=${value === '' ? '""' : `0s${value}`}\n`
    out += '\n'
  }
  return out
}

interface Ran {
  stdout: Buffer
  stderr: string
  code: number | null
  /** Set when the tool could not be started at all. */
  missing: boolean
}

function runTool(
  cmd: string,
  args: string[],
  input: string | undefined,
  signal: AbortSignal,
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      signal,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    let err = ''
    child.stdout!.on('data', (b: Buffer) => out.push(b))
    child.stderr!.on('data', (b: Buffer) => {
      if (err.length < 4096) err += b.toString('utf8')
    })
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT')
        resolve({ stdout: Buffer.alloc(0), stderr: '', code: null, missing: true })
      else reject(e)
    })
    child.on('close', (code) =>
      resolve({ stdout: Buffer.concat(out), stderr: err, code, missing: false }),
    )
    if (input !== undefined) {
      child.stdin!.on('error', () => undefined) // a tool that exits early says why on stderr
      child.stdin!.end(input)
    }
  })
}

const firstLine = (s: string) => s.split('\n').find((l) => l.trim() !== '') ?? ''

/**
 * Every entry's attributes under root (symlinks' own, never followed), with
 * a problem to log when the tool is missing or could not read some.
 */
export async function readXattrs(
  root: string,
  signal: AbortSignal,
): Promise<{ byPath: Map<string, Xattrs>; problem?: string }> {
  const ran = await runTool(
    'getfattr',
    ['--absolute-names', '--no-dereference', '-R', '-d', '-m', '-', '-e', 'base64', root],
    undefined,
    signal,
  )
  if (ran.missing) return { byPath: new Map(), problem: `xattrs not saved: ${NO_ATTR_TOOLS}` }
  const byPath = parseGetfattr(ran.stdout, root)
  if (ran.code !== 0 && ran.stderr.trim() !== '') {
    return { byPath, problem: `some xattrs not saved: ${firstLine(ran.stderr)}` }
  }
  return { byPath }
}

/** Sets the attributes on these absolute paths (symlinks themselves); a problem to log, if any. */
export async function writeXattrs(
  entries: [string, Xattrs][],
  signal: AbortSignal,
): Promise<string | undefined> {
  if (entries.length === 0) return undefined
  const ran = await runTool(
    'setfattr',
    ['--no-dereference', '--restore=-'],
    xattrDump(entries),
    signal,
  )
  if (ran.missing) return `xattrs not restored: ${NO_ATTR_TOOLS}`
  if (ran.code !== 0)
    return `some xattrs not restored: ${firstLine(ran.stderr) || `setfattr exited with ${ran.code}`}`
  return undefined
}
