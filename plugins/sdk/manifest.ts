// What a plugin folder declares about itself in manifest.json. The daemon
// validates endpoints against `fields`, keeps `secret` fields out of the
// catalog and out of every read, and builds the UI's forms from them.

// The field schema is the wire contract's (FieldSpec, what GET /v1/plugins
// serves): one declaration, so what a plugin declares is what the UI builds
// forms from.
import type { FieldSpec, FieldType } from '../../src-daemon/contract/plugins'

export type { FieldType }
export type ManifestField = FieldSpec

export interface PluginManifest {
  name: string
  kind: 'target' | 'store'
  title: string
  version: string
  author: string
  summary: string
  fields: ManifestField[]
  capabilities?: string[]
  /**
   * Targets: the file extension (without the dot) of the stream backup makes,
   * when it is a file format of its own ('dump', 'sql', 'tar'). A downloaded
   * archive is named with it; without one, '.bin'.
   */
  extension?: string
}
