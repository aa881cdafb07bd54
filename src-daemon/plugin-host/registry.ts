// The plugins this daemon knows: every manifest under plugins/targets and
// plugins/stores, found at build time, so adding a plugin folder changes no
// core code. External plugins (executables) join the same registry.
import { VAULT_PASSWORD, type PluginInfo, type PluginKind } from '../contract'
import type { PluginManifest } from '../../plugins/sdk/manifest'
import type { PluginModule, StorePlugin, TargetPlugin } from '../../plugins/sdk/types'
import { storeCapabilities, type StoreCapabilities } from '../../plugins/sdk'
import { wrapStore } from './store-wrappers'

const builtinManifests = import.meta.glob<PluginManifest>(
  '../../plugins/{targets,stores}/*/manifest.json',
  { eager: true, import: 'default' },
)
const builtinModules = import.meta.glob<PluginModule>('../../plugins/{targets,stores}/*/index.ts', {
  import: 'default',
})

/** Finds the implementation of a builtin plugin: plugins/<kind>s/<name>/index.ts. */
function builtinLoader(kind: PluginKind, name: string): (() => Promise<PluginModule>) | undefined {
  return builtinModules[`../../plugins/${kind}s/${name}/index.ts`]
}

export type Implementation = TargetPlugin | StorePlugin

/**
 * Every built-in store holds a vault; its password is a secret of the store
 * like any other field (write-only, kept out of the catalog), but it is the
 * daemon's, not the plugin's: the plugin never receives it.
 */
export const VAULT_PASSWORD_FIELD = {
  name: VAULT_PASSWORD,
  title: 'Vault password',
  type: 'string',
  secret: true,
  help: "Protects the key that encrypts this store's archives. Leave empty and Bulwark generates one on the first backup; either way, export the recovery kit (bulwark vault export-key) and keep it safe: without the password or the kit nobody can read the archives.",
} as const

export class PluginRegistry {
  private readonly plugins = new Map<string, PluginInfo>()
  private readonly loaders = new Map<string, () => Promise<Implementation>>()
  /** Each store plugin wrapped once (retry, connection limit), shared by every caller. */
  private readonly stores = new Map<string, Promise<StorePlugin>>()

  constructor(manifests: PluginManifest[] = Object.values(builtinManifests)) {
    for (const m of manifests) {
      const load = builtinLoader(m.kind, m.name)
      if (!load) continue // a manifest without code is not an installed plugin
      this.add(fromManifest(m, 'builtin'), async () => {
        const mod = await load()
        if (mod.kind !== m.kind)
          throw new Error(`plugin ${m.name} says it is a ${mod.kind}, its manifest a ${m.kind}`)
        return mod.plugin
      })
    }
  }

  add(info: PluginInfo, load: () => Promise<Implementation>): void {
    const key = `${info.kind}:${info.name}`
    if (info.kind === 'store' && !info.fields.some((f) => f.name === VAULT_PASSWORD_FIELD.name)) {
      info = { ...info, fields: [...info.fields, { ...VAULT_PASSWORD_FIELD }] }
    }
    if (this.plugins.has(key)) throw new Error(`two ${info.kind} plugins are named ${info.name}`)
    this.plugins.set(key, info)
    this.loaders.set(key, load)
  }

  async target(name: string): Promise<TargetPlugin> {
    return (await this.load('target', name)) as TargetPlugin
  }

  /**
   * A store plugin as every caller sees it: wrapped once in the retry and
   * connection-limit decorators (plugin-host/store-wrappers.ts), so no
   * plugin re-implements them and no caller goes around them.
   */
  store(name: string): Promise<StorePlugin> {
    let wrapped = this.stores.get(name)
    if (!wrapped) {
      wrapped = this.load('store', name).then((p) => wrapStore(p as StorePlugin))
      // A plugin that failed to load is tried again at the next call.
      wrapped.catch(() => this.stores.delete(name))
      this.stores.set(name, wrapped)
    }
    return wrapped
  }

  /** What a store plugin declares it can do (defaults for what it leaves out). */
  async storeCapabilities(name: string): Promise<StoreCapabilities> {
    return storeCapabilities(await this.store(name))
  }

  private async load(kind: PluginKind, name: string): Promise<Implementation> {
    const load = this.loaders.get(`${kind}:${name}`)
    if (!load) throw new Error(`no ${kind} plugin named "${name}" is installed`)
    return load()
  }

  list(kind?: PluginKind): PluginInfo[] {
    return [...this.plugins.values()]
      .filter((p) => !kind || p.kind === kind)
      .sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name))
  }

  find(kind: PluginKind, name: string): PluginInfo | undefined {
    return this.plugins.get(`${kind}:${name}`)
  }

  named(name: string): PluginInfo[] {
    return this.list().filter((p) => p.name === name)
  }
}

export function fromManifest(m: PluginManifest, source: PluginInfo['source']): PluginInfo {
  return {
    name: m.name,
    kind: m.kind,
    title: m.title,
    version: m.version,
    author: m.author,
    summary: m.summary,
    source,
    fields: m.fields,
    capabilities: m.capabilities ?? [],
    ...(m.extension ? { extension: m.extension } : {}),
  }
}
