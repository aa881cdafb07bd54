// Over ~300 lines on purpose: one hook's run (process group, timeout, cancel, output to the task log) is one flow.
// Hooks: commands a job runs around its backups (docs/hooks.md), to quiesce an
// application, flush caches or stop a container while its files are read.
// Each runs with /bin/sh -c in its own process group, so a timeout or a cancel
// kills everything it started; its output goes to the task log line by line
// (masked like every task log line), and its environment is the daemon's
// without anything secret, plus the job's context in BULWARK_* variables.
import { spawn } from 'node:child_process'
import { killGroup, type PluginContext } from '../../plugins/sdk'
import {
  DEFAULT_HOOK_TIMEOUT_SECONDS,
  HOOK_PHASES,
  type Hook,
  type HookPhase,
  type JobHooksInput,
} from '../contract'
import { redactor } from '../platform/redact'
import { TaskFailure } from './env'

export type JobHooks = Record<HookPhase, Hook[]>

/** The catalog's hooks JSON with every default filled in (before: essential; others: optional). */
export function readHooks(json: string): JobHooks {
  const stored = JSON.parse(json || '{}') as JobHooksInput
  const out = {} as JobHooks
  for (const phase of HOOK_PHASES) {
    out[phase] = (stored[phase] ?? []).map((h) => ({
      command: h.command,
      essential: h.essential ?? phase === 'before',
      timeout_seconds: h.timeout_seconds ?? DEFAULT_HOOK_TIMEOUT_SECONDS,
    }))
  }
  return out
}

/**
 * Names of variables a hook never inherits from the daemon: whatever looks
 * like a password, token, key or credential (PGPASSWORD, MYSQL_PWD,
 * AWS_SECRET_ACCESS_KEY, BULWARK_TOKEN, REDISCLI_AUTH, ...).
 */
const SECRET_NAME =
  /PASSW(OR)?D|PASSPHRASE|SECRET|TOKEN|CREDENTIAL|PRIVATE|_PWD$|(^|_)(API_?)?KEYS?($|_)|(^|_)AUTH($|_)/i

/** The job's context a hook gets, as BULWARK_* variables (names, never endpoints or secrets). */
export interface HookContext {
  jobName: string
  jobUuid: string
  taskUuid: string
  targetName: string
  targetPlugin: string
  storeName: string
}

const CONTEXT_VARS = [
  'BULWARK_JOB_NAME',
  'BULWARK_JOB_UUID',
  'BULWARK_TASK_UUID',
  'BULWARK_TARGET_NAME',
  'BULWARK_TARGET_PLUGIN',
  'BULWARK_STORE_NAME',
  'BULWARK_HOOK',
  'BULWARK_STATUS',
  'BULWARK_ARCHIVE_UUID',
  'BULWARK_ERROR',
]

/** The daemon's environment minus secrets (by name, or a value the daemon knows is one), plus `vars`. */
export function hookEnvironment(
  base: NodeJS.ProcessEnv,
  vars: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(base)) {
    if (value === undefined || SECRET_NAME.test(name) || CONTEXT_VARS.includes(name)) continue
    if (redactor.redact(value) !== value) continue
    env[name] = value
  }
  for (const [name, value] of Object.entries(vars)) env[name] = redactor.redact(value)
  return env
}

/** Output lines logged per hook; a chatty hook must not flood the catalog. */
const MAX_LINES = 1000
const MAX_LINE = 2000
/** How long output may still arrive after the shell exits (a background child may hold it open). */
const LINGER_MS = 1000
/** After a kill: SIGKILL follows SIGTERM after 3 s (killGroup), so the group is gone by then. */
const KILLED_LINGER_MS = 5000

type Ran = { ok: true } | { ok: false; why: string; aborted?: boolean }

/** Runs one hook to its end; never throws. */
function runOne(
  label: string,
  hook: Hook,
  timeoutMs: number,
  env: Record<string, string>,
  ctx: PluginContext,
): Promise<Ran> {
  if (ctx.signal.aborted)
    return Promise.resolve({ ok: false, why: 'was not started', aborted: true })
  return new Promise<Ran>((resolve) => {
    const child = spawn('/bin/sh', ['-c', hook.command], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: a kill reaches what it started
    })
    let stopped: 'timeout' | 'abort' | undefined
    let settled = false
    let lines = 0
    let lastErr = ''
    const stop = (why: 'timeout' | 'abort') => {
      if (stopped || settled) return
      stopped = why
      killGroup(child)
    }
    const timer = setTimeout(() => stop('timeout'), timeoutMs)
    const onAbort = () => stop('abort')
    ctx.signal.addEventListener('abort', onAbort, { once: true })
    const say = (line: string) => {
      if (++lines <= MAX_LINES) ctx.log(`${label}: ${line.slice(0, MAX_LINE)}`)
      else if (lines === MAX_LINES + 1)
        ctx.log(`${label}: (more than ${MAX_LINES} lines; the rest is not logged)`)
    }
    const reader = (isErr: boolean) => {
      let partial = ''
      return {
        data(chunk: string) {
          const parts = (partial + chunk).split('\n')
          partial = parts.pop() ?? ''
          if (partial.length > MAX_LINE) {
            parts.push(partial)
            partial = ''
          }
          for (const line of parts) {
            if (!line.trim()) continue
            if (isErr) lastErr = line.trim()
            say(line)
          }
        },
        end() {
          if (partial.trim()) {
            if (isErr) lastErr = partial.trim()
            say(partial)
          }
          partial = ''
        },
      }
    }
    for (const [stream, isErr] of [
      [child.stdout!, false],
      [child.stderr!, true],
    ] as const) {
      const r = reader(isErr)
      stream.setEncoding('utf8')
      stream.on('data', r.data)
      stream.on('end', r.end)
      stream.on('error', () => undefined)
    }
    const finish = (ran: Ran) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      ctx.signal.removeEventListener('abort', onAbort)
      resolve(ran)
    }
    child.once('error', (err) => finish({ ok: false, why: `could not be started: ${err.message}` }))
    child.once('exit', () => {
      // Output still held open by a background child is not waited for forever.
      const linger = setTimeout(
        () => {
          child.stdout?.destroy()
          child.stderr?.destroy()
        },
        stopped ? KILLED_LINGER_MS : LINGER_MS,
      )
      linger.unref()
    })
    child.once('close', (code, signal) => {
      const tail = lastErr ? `: ${lastErr}` : ''
      if (stopped === 'abort') finish({ ok: false, why: 'was stopped', aborted: true })
      else if (stopped === 'timeout')
        finish({ ok: false, why: `timed out after ${timeoutMs / 1000} s and was killed${tail}` })
      else if (code === 0) finish({ ok: true })
      else if (code !== null) finish({ ok: false, why: `exited ${code}${tail}` })
      else finish({ ok: false, why: `was killed by ${signal ?? 'a signal'}${tail}` })
    })
  })
}

export interface PhaseOptions {
  /** BULWARK_* variables besides BULWARK_HOOK. */
  vars: Record<string, string>
  ctx: PluginContext
  /** Caps each hook's timeout (ms), e.g. when the task has been canceled. */
  deadline?: number
  /** What an essential failure means, for the log ("the backup is not taken"). */
  consequence: string
}

/**
 * Runs a phase's hooks in order. An optional hook's failure is logged as a
 * warning; an essential one's stops the phase and is returned as a message
 * ("hook before[0] exited 3: <last stderr line>"). Throws the signal's reason
 * when the task is stopped while a hook runs.
 */
export async function runPhase(
  phase: HookPhase,
  hooks: Hook[],
  o: PhaseOptions,
): Promise<string | undefined> {
  const env = hookEnvironment(process.env, { ...o.vars, BULWARK_HOOK: phase })
  for (const [i, hook] of hooks.entries()) {
    const label = `hook ${phase}[${i}]`
    let timeoutMs = hook.timeout_seconds * 1000
    if (o.deadline !== undefined)
      timeoutMs = Math.max(1000, Math.min(timeoutMs, o.deadline - Date.now()))
    const shown = hook.command.length > 200 ? `${hook.command.slice(0, 197)}...` : hook.command
    o.ctx.log(
      `${label} started (${hook.essential ? 'essential' : 'optional'}, timeout ${timeoutMs / 1000} s): ${shown}`,
    )
    const began = Date.now()
    const ran = await runOne(label, hook, timeoutMs, env, o.ctx)
    if (ran.ok) {
      o.ctx.log(`${label} finished in ${((Date.now() - began) / 1000).toFixed(1)} s`)
      continue
    }
    if (ran.aborted) {
      o.ctx.log(`${label} ${ran.why}: the task was stopped`)
      throw o.ctx.signal.reason ?? new Error('stopped')
    }
    const message = `${label} ${ran.why}`
    if (!hook.essential) {
      o.ctx.log(`warning: ${message}; the hook is optional, so this goes on`)
      continue
    }
    o.ctx.log(`${message}; the hook is essential, so ${o.consequence}`)
    return message
  }
  return undefined
}

/** After a cancel, on_failure hooks get this long in all: the runner frees the task's worker 10 s after it. */
const CANCELED_BUDGET_MS = 5000

/** A backup's hooks, bound to its task: before, after, on_failure. */
export class BackupHooks {
  constructor(
    private readonly hooks: JobHooks,
    private readonly context: HookContext,
    private readonly ctx: PluginContext,
  ) {}

  private vars(extra: Record<string, string> = {}): Record<string, string> {
    const c = this.context
    return {
      BULWARK_JOB_NAME: c.jobName,
      BULWARK_JOB_UUID: c.jobUuid,
      BULWARK_TASK_UUID: c.taskUuid,
      BULWARK_TARGET_NAME: c.targetName,
      BULWARK_TARGET_PLUGIN: c.targetPlugin,
      BULWARK_STORE_NAME: c.storeName,
      ...extra,
    }
  }

  /** Before the target is read: an essential failure fails the backup (nothing is written). */
  async before(ctx: PluginContext = this.ctx): Promise<void> {
    const failed = await runPhase('before', this.hooks.before, {
      vars: this.vars(),
      ctx,
      consequence: 'the backup is not taken',
    })
    if (failed) throw new TaskFailure(failed)
  }

  /** Once the archive is complete: an essential failure fails the task, the archive stays. */
  async after(archiveUuid: string): Promise<void> {
    const failed = await runPhase('after', this.hooks.after, {
      vars: this.vars({ BULWARK_STATUS: 'done', BULWARK_ARCHIVE_UUID: archiveUuid }),
      ctx: this.ctx,
      consequence: `the task fails, but the archive ${archiveUuid} is complete and valid`,
    }).catch((err: unknown) => {
      this.ctx.log(`the archive ${archiveUuid} is complete and valid, and stays`)
      throw err
    })
    if (failed)
      throw new TaskFailure(`${failed} (the archive ${archiveUuid} is complete and valid)`)
  }

  /**
   * After the backup (or an after hook) failed, or the task was canceled.
   * Never throws: the task's own error stays its error.
   */
  async onFailure(error: unknown, archiveUuid?: string): Promise<void> {
    const list = this.hooks.on_failure
    if (list.length === 0) return
    const canceled = this.ctx.signal.aborted
    const reason = canceled ? describe(this.ctx.signal.reason) : describe(error)
    this.ctx.log(
      canceled
        ? `running on_failure hooks: the task was stopped (they get ${CANCELED_BUDGET_MS / 1000} s in all)`
        : archiveUuid
          ? 'running on_failure hooks: the task failed (its archive is kept)'
          : 'running on_failure hooks: the backup failed',
    )
    // A canceled task's signal is already aborted; its hooks run against a deadline instead.
    const ctx = canceled ? { ...this.ctx, signal: new AbortController().signal } : this.ctx
    try {
      await runPhase('on_failure', list, {
        vars: this.vars({
          BULWARK_STATUS: canceled ? 'canceled' : 'failed',
          BULWARK_ERROR: reason,
          ...(archiveUuid ? { BULWARK_ARCHIVE_UUID: archiveUuid } : {}),
        }),
        ctx,
        deadline: canceled ? Date.now() + CANCELED_BUDGET_MS : undefined,
        consequence: 'the remaining on_failure hooks are skipped',
      })
    } catch {
      // Stopped while an on_failure hook ran: already logged, and the task ends canceled.
    }
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message || err.name
  return String(err)
}
