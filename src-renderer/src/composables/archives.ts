// Archives on screen: their status, what a target's endpoint points at (for
// the restore confirmation), and downloads through single-use links.
import type { BulwarkClient } from '../../../src-daemon/client'
import {
  REDACTED,
  type Archive,
  type TreeDownloadPart,
  type ArchiveStatus,
  type FieldSpec,
} from '../../../src-daemon/contract'

export const ARCHIVE_STATUS_TYPE: Record<
  ArchiveStatus,
  'success' | 'error' | 'warning' | 'default'
> = {
  valid: 'success',
  invalid: 'error',
  expired: 'warning',
  purged: 'default',
}

export const ARCHIVE_STATUS_HELP: Record<ArchiveStatus, string> = {
  valid: 'Can be restored',
  invalid: 'A verify found it damaged; it will not be restored',
  expired: 'Past its retention; its data is being purged',
  purged: 'Its data is gone from the store',
}

/**
 * The endpoint fields that say where a target's data lives, per plugin, with
 * the word a person reads for each. Plugins not listed show every non-secret
 * field.
 */
const WHERE: Record<string, [field: string, label: string][]> = {
  files: [['path', 'directory']],
  sqlite: [['path', 'file']],
  postgres: [
    ['host', 'host'],
    ['port', 'port'],
    ['database', 'database'],
    ['all_databases', 'all databases'],
  ],
  mysql: [
    ['host', 'host'],
    ['port', 'port'],
    ['database', 'database'],
  ],
  redis: [
    ['host', 'host'],
    ['port', 'port'],
    ['db', 'db'],
  ],
  exec: [['restore_command', 'restore command']],
  rabbitmq: [
    ['url', 'url'],
    ['vhost', 'vhost'],
  ],
}

function parseEndpoint(endpoint: string | null | undefined): Record<string, unknown> {
  if (!endpoint) return {}
  try {
    const v: unknown = JSON.parse(endpoint)
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

function shown(value: unknown): string | null {
  if (value === undefined || value === null || value === REDACTED) return null
  if (typeof value === 'string') return value.trim() === '' ? null : value
  if (typeof value === 'number') return String(value)
  if (Array.isArray(value)) {
    const items = value.filter((v) => v !== REDACTED).map(String)
    return items.length ? items.join(', ') : null
  }
  return null
}

/**
 * The non-secret values of an endpoint that say where its data is, as
 * "host 127.0.0.1", "database orders_copy". Values absent from the endpoint
 * take the plugin's defaults when its fields are known; secret fields and
 * values equal to "<redacted>" are never shown.
 */
export function endpointFacts(
  plugin: string,
  endpoint: string,
  fields: FieldSpec[] = [],
): string[] {
  const stored = parseEndpoint(endpoint)
  const specs = new Map(fields.map((f) => [f.name, f]))
  const wanted =
    WHERE[plugin] ??
    (fields.length
      ? fields.map((f) => [f.name, f.title.toLowerCase()] as [string, string])
      : Object.keys(stored).map((k) => [k, k.replace(/_/g, ' ')] as [string, string]))
  const facts: string[] = []
  for (const [name, label] of wanted) {
    const spec = specs.get(name)
    if (spec?.secret) continue
    const value = stored[name] ?? spec?.default
    if (typeof value === 'boolean') {
      if (value) facts.push(label)
      continue
    }
    const text = shown(value)
    if (text !== null) facts.push(`${label} ${text}`)
  }
  return facts
}

/** "orders-copy (postgres: host 127.0.0.1, database orders_copy)" */
export function describeTarget(
  t: { name: string; plugin: string; endpoint: string },
  fields: FieldSpec[] = [],
): string {
  const facts = endpointFacts(t.plugin, t.endpoint, fields)
  return `${t.name} (${t.plugin}${facts.length ? `: ${facts.join(', ')}` : ''})`
}

/** What a restore into a target of this plugin does besides replacing data. */
export const RESTORE_NOTES: Record<string, string> = {
  files:
    'Files are written under temporary names and renamed into place; by default nothing is written if a file to restore already exists. Archives made before directory trees restore only into a new or empty directory.',
  sqlite: 'The file is replaced atomically; the restore refuses while the database is in use.',
  postgres:
    'The database is cleaned and reloaded in one transaction (created if missing); other databases are left alone.',
  mysql: 'The database is reloaded through the mysql client (created if missing).',
  redis: 'Keys of the same name are replaced, keeping their TTLs; other keys are left alone.',
  exec: 'The archive is piped to the target’s restore command.',
  rabbitmq:
    'Definitions are merged: missing ones are created (a missing vhost too), policies and permissions replaced; existing queues, exchanges and users are kept (users replaced only with replace_users). Nothing is deleted.',
}

/** A compact local date and time for tables: "Nov 21, 05:14", with the year when not this one. */
export function fmtWhen(iso: string): string {
  const d = new Date(iso)
  return d.toLocaleString(undefined, {
    ...(d.getFullYear() === new Date().getFullYear() ? {} : { year: 'numeric' }),
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  })
}

/** The name a person knows an archive by: its target and when it was taken. */
export function archiveTitle(a: Pick<Archive, 'target_name' | 'taken_at' | 'uuid'>): string {
  const when = new Date(a.taken_at).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  })
  return `${a.target_name ?? `archive ${a.uuid.slice(0, 8)}`} of ${when}`
}

/**
 * Downloads an archive: asks the daemon for a single-use link (POST
 * /v1/archive/:uuid/download-link, good once within a minute, no token in
 * it), then has the browser follow it through a hidden <a download>, so the
 * file streams to disk rather than through page memory. Of a tree archive,
 * `part` picks one file, or a directory as a tar or zip.
 */
export async function downloadArchive(
  client: BulwarkClient,
  uuid: string,
  part: TreeDownloadPart = {},
): Promise<void> {
  const link = await client.downloadLink(uuid, part)
  const a = document.createElement('a')
  a.href = new URL(link.url, client.baseUrl).href
  a.download = ''
  a.rel = 'noopener'
  a.style.display = 'none'
  document.body.appendChild(a)
  a.click()
  a.remove()
}

/** A local calendar day as the API's YYYYMMDD. */
export function apiDay(ms: number): string {
  const d = new Date(ms)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}`
}

/** The day after a timestamp's local day (an exclusive end for `before`). */
export function nextDay(ms: number): number {
  const d = new Date(ms)
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime()
}

/** "20261207-1304": a local minute, for names of restore copies. */
export function stamp(d = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${apiDay(d.getTime())}-${pad(d.getHours())}${pad(d.getMinutes())}`
}

/**
 * A target's endpoint changed to point somewhere new, for a restore copy: a
 * directory or file next to the original named `<original>-restored-<stamp>`
 * (the extension kept), a database `<original>_restored_<stamp>`. Null when
 * the plugin has no such field to change (the copy then starts as the
 * original's, and the person edits it).
 */
export function freshEndpoint(plugin: string, endpoint: string, when = new Date()): string | null {
  const e = parseEndpoint(endpoint)
  const s = stamp(when)
  const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : null)
  if (plugin === 'files') {
    const path = str(e.path)
    if (!path) return null
    return JSON.stringify({ ...e, path: `${path.replace(/[\\/]+$/, '')}-restored-${s}` })
  }
  if (plugin === 'sqlite') {
    const path = str(e.path)
    if (!path) return null
    const m = /^(.*?)(\.[^./\\]+)?$/.exec(path)!
    return JSON.stringify({ ...e, path: `${m[1]}-restored-${s}${m[2] ?? ''}` })
  }
  if ((plugin === 'postgres' || plugin === 'mysql') && !e.all_databases) {
    const db = str(e.database)
    if (!db) return null
    return JSON.stringify({ ...e, database: `${db}_restored_${s.replace('-', '_')}` })
  }
  return null
}

/** Each job's newest archive that is not purged, by job uuid. */
export function newestArchiveByJob(archives: readonly Archive[]): Map<string, Archive> {
  const m = new Map<string, Archive>()
  for (const a of archives) {
    if (!a.job_uuid || a.status === 'purged') continue
    const seen = m.get(a.job_uuid)
    if (!seen || a.taken_at > seen.taken_at) m.set(a.job_uuid, a)
  }
  return m
}
