// Discovery of external plugins: executables in plugin directories that speak
// SHIELD's plugin calling protocol (see docs/plugin-protocol.md). Each one is
// asked for `info` (with a timeout); what it says becomes registry entries
// (one per kind it offers) whose loaders return the adapters in
// external-adapters.ts. A plugin that fails is skipped with a log line, never
// failing discovery.
import { access, constants, readdir, stat } from 'node:fs/promises'
import { dirname, resolve, sep } from 'node:path'
import type { PluginInfo } from '../contract'
import { mapLimit } from '../platform/concurrency'
import type { StorePlugin, TargetPlugin } from '../../plugins/sdk/types'
import { externalStore, externalTarget, type ExternalMeta } from './external-adapters'
import { parseInfo, toPluginInfo } from './external-info'
import type { PluginRegistry } from './registry'
import { runAction } from './external-run'

export { endpointEnv, externalStore, externalTarget, type ExternalMeta } from './external-adapters'

export const DEFAULT_INFO_TIMEOUT_MS = 5000

/**
 * plugins/external beside a built entry (out/main/daemon.js → ../../plugins/external).
 * In the packaged desktop app the build is inside app.asar, and the plugins,
 * executables that must be real files, are unpacked beside it (build/electron-builder.yml).
 */
export function externalPluginsBeside(entryFile: string): string {
  const dir = resolve(dirname(entryFile), '../../plugins/external')
  return dir.replace(`${sep}app.asar${sep}`, `${sep}app.asar.unpacked${sep}`)
}
/** A plugin's name is its executable's file name, and must look like this. */
export const PLUGIN_NAME = /^[a-z0-9][a-z0-9_-]*$/
const PARALLEL = 8

export interface ExternalPlugin {
  info: PluginInfo
  load: () => Promise<TargetPlugin | StorePlugin>
}

export interface DiscoverOptions {
  log: (line: string) => void
  /** How long `<exe> info` may take (default 5 s). */
  timeoutMs?: number
}

interface Candidate {
  name: string
  exe: string
}

/** Executable regular files (or symlinks to one) in dir, dotfiles excepted. A missing dir is empty. */
async function candidatesIn(dir: string, log: (line: string) => void): Promise<Candidate[]> {
  let names: string[]
  try {
    names = (await readdir(dir)).sort()
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'ENOENT') log(`external plugins: cannot read ${dir}: ${(err as Error).message}`)
    return []
  }
  const found: Candidate[] = []
  for (const name of names) {
    if (name.startsWith('.')) continue
    const exe = resolve(dir, name)
    try {
      if (!(await stat(exe)).isFile()) continue
    } catch (err) {
      log(`external plugin ${exe} skipped: ${(err as Error).message}`) // a dangling symlink
      continue
    }
    try {
      await access(exe, constants.X_OK)
    } catch {
      continue // not executable: a README, a config file, ...
    }
    if (!PLUGIN_NAME.test(name)) {
      log(`external plugin ${exe} skipped: its file name must match ${PLUGIN_NAME.source}`)
      continue
    }
    found.push({ name, exe })
  }
  return found
}

async function probe(c: Candidate, opts: DiscoverOptions): Promise<ExternalPlugin[]> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_INFO_TIMEOUT_MS
  const skip = (why: string) => {
    opts.log(`external plugin ${c.name} (${c.exe}) skipped: ${why}`)
    return []
  }
  let stdout: string
  try {
    const ctx = { signal: new AbortController().signal, log: () => undefined }
    const env = { BULWARK_ENDPOINT: undefined, SHIELD_ENDPOINT: undefined }
    ;({ stdout } = await runAction(c.exe, { name: c.name, action: 'info', env, ctx, timeoutMs }))
  } catch (err) {
    return skip((err as Error).message.replace(`external plugin ${c.name}: `, ''))
  }
  let parsed: ReturnType<typeof parseInfo>
  try {
    parsed = parseInfo(stdout)
  } catch (err) {
    return skip((err as Error).message)
  }
  const meta: ExternalMeta = {
    name: c.name,
    exe: c.exe,
    version: parsed.version,
    test: parsed.test,
  }
  opts.log(
    `external plugin ${c.name} ${parsed.version} (${parsed.kinds.join(' + ')}) found at ${c.exe}`,
  )
  return parsed.kinds.map((kind) => ({
    info: toPluginInfo(c.name, c.exe, parsed, kind),
    load: async () => (kind === 'target' ? externalTarget(meta) : externalStore(meta)),
  }))
}

/**
 * Finds the external plugins in dirs (earlier dirs win on a name clash) and
 * asks each for its info. Returns one entry per kind a plugin offers: a
 * plugin that is both a target and a store yields two entries of one name.
 */
export async function discoverExternalPlugins(
  dirs: string[],
  opts: DiscoverOptions,
): Promise<ExternalPlugin[]> {
  const candidates: Candidate[] = []
  const seen = new Map<string, string>()
  for (const dir of dirs) {
    for (const c of await candidatesIn(dir, opts.log)) {
      const first = seen.get(c.name)
      if (first) {
        opts.log(`external plugin ${c.exe} skipped: ${first} has the same name`)
        continue
      }
      seen.set(c.name, c.exe)
      candidates.push(c)
    }
  }
  const results = await mapLimit(candidates, PARALLEL, (c) => probe(c, opts))
  return results.flat()
}

/** Adds discovered plugins to the registry; one clashing with a builtin of the same kind and name is skipped. */
export function registerExternalPlugins(
  registry: PluginRegistry,
  plugins: ExternalPlugin[],
  log: (line: string) => void,
): void {
  for (const p of plugins) {
    try {
      registry.add(p.info, p.load)
    } catch (err) {
      log(`external ${p.info.kind} plugin ${p.info.name} skipped: ${(err as Error).message}`)
    }
  }
}
