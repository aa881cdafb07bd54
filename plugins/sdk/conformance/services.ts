// Helpers for plugin tests: whether a real service or tool is there (under
// CI=true its absence fails the run; elsewhere the tests skip and say why),
// a PluginContext that records its log, loading a plugin the way the
// registry does, and watching the process groups a plugin starts.
import { execFileSync } from 'node:child_process'
import type { Readable } from 'node:stream'
import type { PluginContext, PluginModule, StorePlugin, TargetPlugin } from '../types'

function probe(cmd: string, args: string[], env?: Record<string, string>): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 10_000, env: { ...process.env, ...env } })
    return true
  } catch {
    return false
  }
}

/** True when `check` passes; otherwise throws under CI=true, or warns and returns false. */
export function serviceAvailable(what: string, check: () => boolean): boolean {
  if (check()) return true
  const why = `${what} is not available on this machine`
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`CI=true but ${why}`)
  console.warn(`skipping tests that need ${what}: ${why}`)
  return false
}

export const PG = { host: '127.0.0.1', port: 5432, user: 'postgres' }

/** PostgreSQL at 127.0.0.1:5432 answering as postgres, with the client tools installed. */
export const postgresAvailable = (): boolean =>
  serviceAvailable(
    `PostgreSQL at ${PG.host}:${PG.port} (user ${PG.user}) and pg_dump/pg_restore/psql`,
    () =>
      probe('pg_dump', ['--version']) &&
      probe('pg_restore', ['--version']) &&
      probe(
        'psql',
        ['-h', PG.host, '-p', String(PG.port), '-U', PG.user, '-d', 'postgres', '-Atc', 'select 1'],
        { PGCONNECT_TIMEOUT: '5' },
      ),
  )

export const toolAvailable = (cmd: string, args = ['--version']): boolean =>
  serviceAvailable(cmd, () => probe(cmd, args))

export interface RecordingContext extends PluginContext {
  lines: string[]
  controller: AbortController
}

/** A PluginContext whose log is kept in `lines` and whose signal `controller` aborts. */
export function testContext(): RecordingContext {
  const controller = new AbortController()
  const lines: string[] = []
  return { signal: controller.signal, controller, lines, log: (line) => void lines.push(line) }
}

/** Reads a stream to the end. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer))
  return Buffer.concat(chunks)
}

/** Loads plugins/<kind>s/<name>/index.ts the way the daemon's registry finds it. */
export async function loadPlugin(kind: 'target', name: string): Promise<TargetPlugin>
export async function loadPlugin(kind: 'store', name: string): Promise<StorePlugin>
export async function loadPlugin(
  kind: 'target' | 'store',
  name: string,
): Promise<TargetPlugin | StorePlugin> {
  const mod = (await import(`../../${kind}s/${name}/index.ts`)) as { default: PluginModule }
  if (mod.default?.kind !== kind) {
    throw new Error(`plugins/${kind}s/${name}/index.ts does not default-export a ${kind} plugin`)
  }
  return mod.default.plugin
}

/** The secret field names declared in plugins/<kind>s/<name>/manifest.json. */
export async function secretFields(kind: 'target' | 'store', name: string): Promise<string[]> {
  const manifest = (await import(`../../${kind}s/${name}/manifest.json`)) as {
    default: { fields: { name: string; secret?: boolean }[] }
  }
  return manifest.default.fields.filter((f) => f.secret).map((f) => f.name)
}

interface Proc {
  pid: number
  ppid: number
  pgid: number
  stat: string
  comm: string
}

function processes(): Proc[] {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,pgid=,stat=,comm='], { encoding: 'utf8' })
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length >= 5)
    .map(([pid, ppid, pgid, stat, ...comm]) => ({
      pid: Number(pid),
      ppid: Number(ppid),
      pgid: Number(pgid),
      stat: stat!,
      comm: comm.join(' '),
    }))
}

/**
 * Process groups of this process's live children (ps itself excluded). A child
 * left in our own group is not counted: it could not be killed as a group,
 * which is why tools must be started through the SDK's process helpers.
 */
export function childGroups(): Set<number> {
  const all = processes()
  const own = all.find((p) => p.pid === process.pid)?.pgid
  return new Set(
    all
      .filter((p) => p.ppid === process.pid && p.comm !== 'ps' && !p.stat.startsWith('Z'))
      .map((p) => p.pgid)
      .filter((g) => g !== own),
  )
}

/** Live (non-zombie) processes left in any of `groups`, waiting up to `ms` for them to go. */
export async function survivors(groups: Set<number>, ms = 5000): Promise<string[]> {
  const deadline = Date.now() + ms
  for (;;) {
    const left = processes().filter(
      (p) => groups.has(p.pgid) && p.comm !== 'ps' && !p.stat.startsWith('Z'),
    )
    if (left.length === 0 || Date.now() > deadline) return left.map((p) => `${p.pid} ${p.comm}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** The error a call rejects with; fails the test if it resolves instead. */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  throw new Error('expected the call to reject, it resolved')
}
