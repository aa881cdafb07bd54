// What a restore request asks of a tree archive, checked before it is
// queued: its paths (relative, normalized, each in the archive's tree), where
// to (an absolute directory) and the conflict rule; a stream archive takes
// none of them. Each refusal is a 400 naming its field.
import { normalize } from 'node:path'
import type { PluginContext } from '../../plugins/sdk/types'
import type { ArchiveListRow } from '../catalog/catalog'
import { invalid, type ArchiveRestoreInput } from '../contract'
import type { Logger } from '../platform/logger'
import type { RestoreParams } from '../tasks/task-params'
import { normalizeTreePath } from '../vault/tree'
import type { VaultService } from './vault'

/** The tree fields of a restore request. */
export type TreeRestoreInput = Pick<ArchiveRestoreInput, 'paths' | 'to' | 'conflict'>

/** The restore's tree fields, checked (400 naming the field) and normalized. */
export function restoreParams(archive: ArchiveListRow, tree: TreeRestoreInput): RestoreParams {
  if (archive.format !== 'tree') {
    for (const field of ['paths', 'to', 'conflict'] as const) {
      if (tree[field] !== undefined) {
        throw invalid(
          field,
          `${field} apply only to directory (tree) archives; archive ${archive.uuid} is one ${archive.format ?? 'plain'} stream, restored whole`,
        )
      }
    }
    return {}
  }
  const params: RestoreParams = { conflict: tree.conflict }
  if (tree.to !== undefined) {
    if (!tree.to.startsWith('/') || tree.to.includes('\0')) {
      throw invalid(
        'to',
        `to must be an absolute directory on the daemon's machine, not "${tree.to}"`,
      )
    }
    params.to = normalize(tree.to).replace(/(.)\/+$/, '$1')
  }
  if (tree.paths !== undefined) {
    const paths: string[] = []
    for (const raw of tree.paths) {
      if (raw.startsWith('/') && raw !== '/') {
        throw invalid(
          'paths',
          `"${raw}" is absolute; paths inside an archive are relative, such as docs/report.odt`,
        )
      }
      const p = normalizeTreePath(raw)
      if (p instanceof Error) throw invalid('paths', p.message)
      paths.push(p)
    }
    if (!paths.includes('')) params.paths = [...new Set(paths)]
  }
  return params
}

/** Every path must be in the archive's tree (read from the store, authenticated). */
export async function checkPaths(
  vault: VaultService,
  log: Logger,
  archive: ArchiveListRow,
  paths: string[],
): Promise<void> {
  const ctx: PluginContext = {
    signal: AbortSignal.timeout(120_000),
    log: (line) => log.info(`archive ${archive.uuid}: ${line}`),
  }
  let records
  try {
    const store = await vault.handle(archive.store_uuid)
    records = await vault.archives.readTree(store, archive, ctx)
  } catch (err) {
    throw vault.failure(err)
  }
  const known = new Set(records.map((r) => r.path))
  const unknown = paths.filter((p) => !known.has(p))
  if (unknown.length > 0) {
    throw invalid(
      'paths',
      `not in archive ${archive.uuid}: ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ` and ${unknown.length - 10} more` : ''}`,
    )
  }
}
