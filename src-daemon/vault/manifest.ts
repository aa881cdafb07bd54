// An archive's manifest (docs/vault-format.md): its shape, and the checks a
// reader makes before trusting one, with the ids it names. A manifest that
// fails them is corrupt; one of a newer version is unsupported.
import { parseTreeRoot, type TreeRef } from './tree'
import { VaultError } from './vault-error'

/** The largest chunk the format allows (the chunker's own ceiling). */
export const MAX_CHUNK_SIZE = 256 * 1024 * 1024

export const ID_RE = /^[0-9a-f]{64}$/
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export interface Manifest {
  version: 1
  vault: string
  archive: string
  taken_at: string
  expires_at: string
  size: number
  chunks: [string, number][]
  /** location: where the target pointed (its non-secret endpoint fields, as text), when known. */
  target: { uuid: string; name: string; plugin: string; location?: string }
  job: { uuid: string; name: string } | null
  store: string
  notes: string
  tags: Record<string, string>
  /**
   * A directory archive's tree (docs/vault-format.md "Tree archives"); then
   * `chunks` lists every distinct chunk the archive references, once each
   * (the files' content and the tree's own), and `size` is their sum.
   */
  tree?: TreeRef
}

const isObj = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x)
const isStr = (x: unknown): x is string => typeof x === 'string'

/** Validates a manifest's shape and returns a copy holding only the format's fields. */
export function checkManifest(x: unknown, name: string): Manifest {
  const bad = (why: string) => new VaultError('corrupt', `${name} is corrupt: ${why}`)
  if (!isObj(x)) throw bad('not an object')
  if (x.version !== 1) {
    throw new VaultError(
      'unsupported',
      `${name} has version ${String(x.version)}; this Bulwark reads 1`,
    )
  }
  for (const f of ['vault', 'archive', 'taken_at', 'expires_at', 'store', 'notes'] as const) {
    if (!isStr(x[f])) throw bad(`"${f}" is not a string`)
  }
  if (!UUID_RE.test(x.archive as string)) throw bad('"archive" is not a uuid')
  for (const f of ['taken_at', 'expires_at'] as const) {
    if (Number.isNaN(Date.parse(x[f] as string))) throw bad(`"${f}" is not a date`)
  }
  const size = x.size
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw bad('bad "size"')
  if (!Array.isArray(x.chunks)) throw bad('"chunks" is not a list')
  const chunks: [string, number][] = []
  let sum = 0
  for (const c of x.chunks as unknown[]) {
    if (!Array.isArray(c) || c.length !== 2 || !isStr(c[0]) || !ID_RE.test(c[0])) {
      throw bad(`chunk entry ${chunks.length} is malformed`)
    }
    const n: unknown = c[1]
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_CHUNK_SIZE) {
      throw bad(`chunk entry ${chunks.length} has a bad size`)
    }
    chunks.push([c[0], n])
    sum += n
  }
  if (sum !== size) throw bad(`its chunks add up to ${sum} bytes, not ${size}`)
  const t = x.target
  if (!isObj(t) || !isStr(t.uuid) || !isStr(t.name) || !isStr(t.plugin)) throw bad('bad "target"')
  const j = x.job
  if (j !== null && (!isObj(j) || !isStr(j.uuid) || !isStr(j.name))) throw bad('bad "job"')
  if (!isObj(x.tags) || !Object.values(x.tags).every(isStr)) throw bad('bad "tags"')
  const tree = x.tree === undefined ? undefined : checkTreeRef(x.tree, chunks, bad)
  return {
    version: 1,
    vault: x.vault as string,
    archive: x.archive as string,
    taken_at: x.taken_at as string,
    expires_at: x.expires_at as string,
    size,
    chunks,
    target: {
      uuid: t.uuid,
      name: t.name,
      plugin: t.plugin,
      ...(isStr(t.location) ? { location: t.location } : {}),
    },
    job: j === null ? null : { uuid: j.uuid as string, name: j.name as string },
    store: x.store as string,
    notes: x.notes as string,
    tags: { ...(x.tags as Record<string, string>) },
    ...(tree ? { tree } : {}),
  }
}

/** A manifest's tree reference: its chunks well formed and all listed in the manifest's chunks. */
function checkTreeRef(
  x: unknown,
  listed: [string, number][],
  bad: (why: string) => VaultError,
): TreeRef {
  if (!isObj(x)) throw bad('"tree" is not an object')
  if (x.version !== 1) {
    throw new VaultError(
      'unsupported',
      `its tree has version ${String(x.version)}; this Bulwark reads 1`,
    )
  }
  const count = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
  if (!count(x.entries) || !count(x.files) || !count(x.bytes)) throw bad('"tree" has bad counts')
  if (!Array.isArray(x.chunks)) throw bad('"tree.chunks" is not a list')
  const known = new Map(listed)
  const chunks = (x.chunks as unknown[]).map((c, i): [string, number] => {
    if (!Array.isArray(c) || c.length !== 2 || !isStr(c[0]) || known.get(c[0]) !== c[1]) {
      throw bad(`tree chunk ${i} is malformed or not among the archive's chunks`)
    }
    return [c[0], c[1] as number]
  })
  return {
    version: 1,
    chunks,
    entries: x.entries as number,
    files: x.files as number,
    bytes: x.bytes as number,
    ...(x.root === undefined ? {} : { root: parseTreeRoot(x.root, bad) }),
  }
}
