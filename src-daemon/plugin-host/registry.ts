// The plugins this daemon knows: every manifest under plugins/targets and
// plugins/stores, found at build time, so adding a plugin folder changes no
// core code. External plugins (executables) join the same registry.
import type { PluginInfo, PluginKind } from '../contract'
import type { PluginManifest } from '../../plugins/sdk/manifest'

const builtinManifests = import.meta.glob<PluginManifest>(
  '../../plugins/{targets,stores}/*/manifest.json',
  { eager: true, import: 'default' },
)

export class PluginRegistry {
  private readonly plugins = new Map<string, PluginInfo>()

  constructor(manifests: PluginManifest[] = Object.values(builtinManifests)) {
    for (const m of manifests) this.add(fromManifest(m, 'builtin'))
  }

  add(info: PluginInfo): void {
    const key = `${info.kind}:${info.name}`
    if (this.plugins.has(key)) throw new Error(`two ${info.kind} plugins are named ${info.name}`)
    this.plugins.set(key, info)
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
  }
}
