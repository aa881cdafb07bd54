// What a plugin folder declares about itself in manifest.json. The daemon
// validates endpoints against `fields`, keeps `secret` fields out of the
// catalog and out of every read, and builds the UI's forms from them.

export type FieldType = 'string' | 'integer' | 'boolean' | 'enum' | 'list'

export interface ManifestField {
  name: string
  title: string
  type: FieldType
  required?: boolean
  /** Not required when this other (boolean) field is true. */
  required_unless?: string
  /**
   * Used only while that other field has that value (a mode's own settings):
   * given otherwise, the endpoint is refused when saved; forms hide it.
   */
  only_when?: { field: string; value: string }
  secret?: boolean
  /** Stores: the field names where the objects are (a path, a bucket, a prefix): two stores may not share one. */
  location?: boolean
  default?: string | number | boolean | string[]
  help?: string
  example?: string
  values?: string[]
  /** 'absolute-path': a string that must start with / (checked when the endpoint is saved). */
  format?: 'absolute-path'
  min?: number
  max?: number
}

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
