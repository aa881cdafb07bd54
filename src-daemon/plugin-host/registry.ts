// The plugins this daemon knows: every manifest under plugins/targets and
// plugins/stores, found at build time, so adding a plugin folder changes no
// core code. External plugins (executables) join the same registry.
import type { PluginInfo, PluginKind } from '../contract'
import type { PluginManifest } from '../../plugins/sdk/manifest'
import type { PluginModule, StorePlugin, TargetPlugin } from '../../plugins/sdk/types'

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
  name: 'vault_password',
  title: 'Vault password',
  type: 'string',
  secret: true,
  help: "Protects the key that encrypts this store's archives. Leave empty and Bulwark generates one on the first backup; either way, export the recovery kit (bulwark vault export-key) and keep it safe: without the password or the kit nobody can read the archives.",
} as const

export class PluginRegistry {
  private readonly plugins = new Map<string, PluginInfo>()
  private readonly loaders = new Map<string, () => Promise<Implementation>>()

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

  async store(name: string): Promise<StorePlugin> {
    return (await this.load('store', name)) as StorePlugin
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
