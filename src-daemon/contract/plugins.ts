// How plugins describe themselves: a manifest with a field schema, from which
// the daemon validates endpoints, redacts secrets and the UI builds forms.

export type FieldType = 'string' | 'integer' | 'boolean' | 'enum' | 'list'

export interface FieldSpec {
  /** Key in the endpoint JSON. */
  name: string
  /** Short label for forms. */
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
  /** Passwords, secret keys: write-only through the API, kept out of the catalog in clear. */
  secret?: boolean
  /** Stores: the field names where the objects are (a path, a bucket, a prefix): two stores may not share one. */
  location?: boolean
  default?: string | number | boolean | string[]
  /** One sentence a person can act on. */
  help?: string
  example?: string
  /** Allowed values when type is 'enum'. */
  values?: string[]
  /** 'absolute-path': a string that must start with / (checked when the endpoint is saved). */
  format?: 'absolute-path'
  min?: number
  max?: number
}

export type PluginKind = 'target' | 'store'

export interface PluginInfo {
  name: string
  kind: PluginKind
  title: string
  version: string
  author: string
  summary: string
  /** Where it comes from: compiled in, or an executable speaking the plugin calling protocol. */
  source: 'builtin' | 'external'
  fields: FieldSpec[]
  /** Store capabilities, target features ('files' for browsable archives, ...). */
  capabilities: string[]
  /** Targets: the file extension of what backup streams ('dump', 'tar'), for downloads; none: 'bin'. */
  extension?: string
}

/** What a read returns in place of a secret value; sending it back on PUT keeps the stored secret. */
export const REDACTED = '<redacted>'
