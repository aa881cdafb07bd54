// Says why pg_dump is silent. pg_dump in custom format writes nothing until it
// holds a lock on every table it dumps, so a backup stuck behind another
// session's lock shows as "running, 0 B" with no word. While pg_dump has sent
// nothing for a while, the server is asked (pg_stat_activity, pg_locks) what
// the dump's own session, found by its application_name, is waiting for, and
// the task log says so: the table, the lock mode, and who holds it.
import { Transform, pipeline, type Readable } from 'node:stream'
import type { PluginContext } from '../../sdk/types'

/** After this long without output the first report is made; then every REPEAT_MS while it lasts. */
export const QUIET_MS = 5000
export const REPEAT_MS = 60_000

/** A string literal for SQL. */
const quote = (s: string) => `'${s.replace(/'/g, "''")}'`

/**
 * One JSON object describing the session whose application_name is `app`
 * (nothing when there is none): its state and wait event, the lock it waits
 * for (with the relation's schema-qualified name, when it is one of this
 * database's), and the sessions blocking it with the modes they hold on it.
 */
export const waitQuery = (app: string): string => `
select json_build_object(
  'pid', d.pid,
  'state', d.state,
  'wait_type', d.wait_event_type,
  'wait', d.wait_event,
  'lock', (select json_build_object(
      'type', l.locktype,
      'mode', l.mode,
      'kind', c.relkind,
      'relation', case when c.oid is not null then format('%I.%I', n.nspname, c.relname) end)
    from pg_locks l
    left join pg_class c on c.oid = l.relation
      and l.database = (select oid from pg_database where datname = current_database())
    left join pg_namespace n on n.oid = c.relnamespace
    where l.pid = d.pid and not l.granted
    limit 1),
  'blockers', (select json_agg(json_build_object(
      'pid', b.pid,
      'user', b.usename,
      'application', b.application_name,
      'client', host(b.client_addr),
      'state', b.state,
      'xact_seconds', floor(extract(epoch from now() - b.xact_start)),
      'modes', (select string_agg(distinct h.mode, ', ')
        from pg_locks h join pg_locks w on w.pid = d.pid and not w.granted
          and w.locktype = 'relation' and h.database = w.database and h.relation = w.relation
        where h.pid = b.pid and h.granted)) order by b.pid)
    from pg_stat_activity b where b.pid = any(pg_blocking_pids(d.pid))))
from pg_stat_activity d
where d.application_name = ${quote(app)}
limit 1`

interface Blocker {
  pid: number
  user?: string | null
  application?: string | null
  client?: string | null
  state?: string | null
  xact_seconds?: number | null
  modes?: string | null
}

export interface DumpSession {
  pid: number
  state?: string | null
  wait_type?: string | null
  wait?: string | null
  lock?: { type: string; mode: string; kind?: string | null; relation?: string | null } | null
  blockers?: Blocker[] | null
}

const KINDS: Record<string, string> = {
  r: 'table',
  p: 'table',
  S: 'sequence',
  m: 'materialized view',
  v: 'view',
  i: 'index',
  I: 'index',
  f: 'foreign table',
}

function blocker(b: Blocker): string {
  const facts = [
    b.user && `user ${b.user}`,
    b.application && `application ${b.application}`,
    b.client && `from ${b.client}`,
    b.state,
    typeof b.xact_seconds === 'number' && `in a transaction for ${b.xact_seconds} s`,
    b.modes && `holding ${b.modes}`,
  ].filter(Boolean)
  return `pid ${b.pid}${facts.length ? ` (${facts.join(', ')})` : ''}`
}

/**
 * What follows "pg_dump has sent nothing for N s" in the task log, or
 * undefined when there is nothing worth saying: once data has flowed, only a
 * lock wait is (any other pause is the dump's own work or a slow reader).
 */
export function describeWait(s: DumpSession | null, sent: boolean): string | undefined {
  if (!s) return sent ? undefined : ' and has no session on the server yet (still connecting)'
  if (s.wait_type === 'Lock' && s.lock) {
    const { lock } = s
    const what = lock.relation
      ? `${KINDS[lock.kind ?? ''] ?? 'relation'} ${lock.relation}`
      : `a ${lock.type}`
    const blockers = s.blockers ?? []
    const held = blockers.length
      ? `, held by ${blockers.map(blocker).join(' and ')}`
      : ', held by another session'
    return `: it is waiting for a lock on ${what} (${lock.mode})${held}; the backup goes on once that is released`
  }
  if (sent) return undefined
  const waiting = s.wait_type ? `, waiting on ${s.wait_type} ${s.wait ?? ''}`.trimEnd() : ''
  return `: its server process ${s.pid} is ${s.state ?? 'in an unknown state'}${waiting}`
}

export interface SilenceOptions {
  /** The tool named in the log ("pg_dump"). */
  tool: string
  quietMs?: number
  repeatMs?: number
  /** What to add to "<tool> has sent nothing for N s"; undefined: say nothing this time. */
  explain(sent: boolean): Promise<string | undefined>
}

/**
 * Passes the tool's output through; while it sends nothing for quietMs (and
 * again every repeatMs while that lasts), logs what explain finds, and when
 * data flows again after such a report, says so. Errors and early ends pass
 * through as pipeline() passes them.
 */
export function watchSilence(out: Readable, ctx: PluginContext, opts: SilenceOptions): Readable {
  const quietMs = opts.quietMs ?? QUIET_MS
  const repeatMs = opts.repeatMs ?? REPEAT_MS
  const seconds = (ms: number) => Math.round(ms / 1000)
  let last = Date.now()
  let sent = false
  let reported = false
  let probing = false
  let due = quietMs
  const watch = new Transform({
    transform(chunk: Buffer, _enc, done) {
      const now = Date.now()
      if (reported) ctx.log(`${opts.tool} is sending data again after ${seconds(now - last)} s`)
      reported = false
      sent = true
      last = now
      due = quietMs
      done(null, chunk)
    },
  })
  const timer = setInterval(
    () => {
      const since = last
      const quiet = Date.now() - since
      if (probing || quiet < due || ctx.signal.aborted) return
      probing = true
      opts
        .explain(sent)
        .then(
          (text) => {
            if (last !== since || ctx.signal.aborted) return // data came meanwhile
            due = quiet + (text === undefined ? quietMs : repeatMs)
            if (text === undefined) return
            ctx.log(`${opts.tool} has sent nothing for ${seconds(quiet)} s${text}`)
            reported = true
          },
          () => {
            due = quiet + repeatMs // explain should not throw; never a loop of failures
          },
        )
        .finally(() => (probing = false))
    },
    Math.min(1000, quietMs),
  )
  timer.unref()
  const stop = () => clearInterval(timer)
  watch.once('close', stop)
  return pipeline(out, watch, stop)
}
