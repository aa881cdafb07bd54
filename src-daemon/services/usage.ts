// Refuses to delete something a job still points at, naming the jobs.
import { BulwarkError, ErrorCode } from '../contract'
import type { Catalog, ReferencedTable } from '../catalog/catalog'

export function assertUnused(
  catalog: Catalog,
  table: ReferencedTable,
  what: string,
  uuid: string,
): void {
  const jobs = catalog.jobsUsing(table, uuid)
  if (jobs.length === 0) return
  const names = jobs.map((j) => `"${j.name}" (${j.uuid})`).join(', ')
  throw new BulwarkError(
    ErrorCode.Conflict,
    `this ${what} is used by ${jobs.length === 1 ? 'job' : 'jobs'} ${names}; delete or change ${jobs.length === 1 ? 'that job' : 'those jobs'} first`,
    undefined,
    { jobs },
  )
}
