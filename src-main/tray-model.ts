// What the tray shows, as plain data: one icon state for the whole app and
// the menu (each job's last result and next run, and the app's commands);
// notification-rules.ts says which happenings notify. Pure functions of
// their inputs, with the time passed in: the adapter (index.ts) turns the
// result into Electron's Tray, Menu and Notification; tests check it here.
import type { HealthSignal, Job } from '../src-daemon/contract'
import type { NotificationLevel, PauseAll } from './settings'
import type { SupervisorState } from './supervisor'

/**
 * One state across all jobs, by precedence (the first that holds wins):
 * failing    the daemon keeps dying, a job's last backup failed, or a
 *            failure-severity health signal (stale job, damaged archive) is raised;
 * warning    the daemon is (re)starting or does not answer, or a warning signal is raised;
 * running    a task is running;
 * paused     every job is paused (or the tray paused them all);
 * ok         otherwise.
 * Failures first: they need the person, and hiding one behind "running" or
 * "paused" is how a broken backup goes unnoticed for weeks.
 */
export type TrayIcon = 'failing' | 'warning' | 'running' | 'paused' | 'ok'

export interface TrayInput {
  daemon: SupervisorState
  /** The last health check was answered (false: the daemon runs but does not answer). */
  answering?: boolean
  jobs: Job[]
  /** Tasks running now. */
  running: number
  /** Health signals raised and not cleared. */
  health: HealthSignal[]
  pause: PauseAll | null
  notifications: NotificationLevel
  launchAtLogin: boolean
  background: boolean
  now: number
}

/** Where a click leads: a route of the UI (src-renderer/src/router.ts) or the logs view. */
export type OpenTarget = { kind: 'route'; path: string } | { kind: 'logs' }

export type TrayAction =
  | { type: 'run-job'; job: string }
  | { type: 'pause-all'; hours: number | null }
  | { type: 'resume-all' }
  | { type: 'open'; target: OpenTarget }
  | { type: 'notifications'; level: NotificationLevel }
  | { type: 'launch-at-login'; on: boolean }
  | { type: 'background'; on: boolean }
  | { type: 'install-cli' }
  | { type: 'quit' }

export type MenuItem =
  | { kind: 'label'; label: string }
  | { kind: 'action'; label: string; action: TrayAction; enabled?: boolean }
  | { kind: 'check'; label: string; checked: boolean; action: TrayAction; radio?: boolean }
  | { kind: 'submenu'; label: string; items: MenuItem[] }
  | { kind: 'separator' }

export interface TrayView {
  icon: TrayIcon
  /** The tray's tooltip: one line saying why the icon is what it is. */
  tooltip: string
  menu: MenuItem[]
}

export const taskRoute = (uuid: string): OpenTarget => ({ kind: 'route', path: `/tasks/${uuid}` })
export const jobRoute = (uuid: string): OpenTarget => ({
  kind: 'route',
  path: `/jobs?job=${encodeURIComponent(uuid)}`,
})
export const archiveRoute = (uuid: string): OpenTarget => ({
  kind: 'route',
  path: `/archives/${uuid}`,
})

export function trayIcon(input: TrayInput): { icon: TrayIcon; why: string } {
  const failedJobs = input.jobs.filter((j) => j.last_status === 'failed')
  const failures = input.health.filter((s) => s.severity === 'failure')
  if (input.daemon === 'failing')
    return { icon: 'failing', why: 'the Bulwark daemon keeps stopping' }
  if (failedJobs.length > 0) {
    return {
      icon: 'failing',
      why: `last backup failed: ${failedJobs.map((j) => j.name).join(', ')}`,
    }
  }
  if (failures.length > 0) return { icon: 'failing', why: failures[0]!.message }
  if (input.daemon !== 'ready') return { icon: 'warning', why: `the daemon is ${input.daemon}` }
  if (input.answering === false) return { icon: 'warning', why: 'the daemon does not answer' }
  const warnings = input.health.filter((s) => s.severity === 'warning')
  if (warnings.length > 0) return { icon: 'warning', why: warnings[0]!.message }
  if (input.running > 0) {
    return {
      icon: 'running',
      why: `${input.running} task${input.running === 1 ? '' : 's'} running`,
    }
  }
  if (input.pause || (input.jobs.length > 0 && input.jobs.every((j) => j.paused))) {
    return { icon: 'paused', why: pausedWhy(input.pause, input.now) }
  }
  return { icon: 'ok', why: input.jobs.length ? 'all backups ok' : 'no jobs yet' }
}

function pausedWhy(pause: PauseAll | null, now: number): string {
  if (pause?.until) return `schedules paused for ${ago(pause.until - now)} more`
  return 'schedules paused'
}

export function trayView(input: TrayInput): TrayView {
  const { icon, why } = trayIcon(input)
  const ready = input.daemon === 'ready'
  const jobs: MenuItem[] = input.jobs.length
    ? input.jobs.map((j) => ({
        kind: 'submenu' as const,
        label: jobLine(j, input.now),
        items: [
          {
            kind: 'action',
            label: 'Back up now',
            action: { type: 'run-job', job: j.uuid },
            enabled: ready,
          },
          { kind: 'action', label: 'Open job', action: { type: 'open', target: jobRoute(j.uuid) } },
        ],
      }))
    : [{ kind: 'label', label: 'No jobs yet' }]
  const level = (l: NotificationLevel, label: string): MenuItem => ({
    kind: 'check',
    radio: true,
    label,
    checked: input.notifications === l,
    action: { type: 'notifications', level: l },
  })
  return {
    icon,
    tooltip: `Bulwark: ${why}`,
    menu: [
      { kind: 'label', label: `Bulwark: ${why}` },
      { kind: 'separator' },
      ...jobs,
      { kind: 'separator' },
      input.pause
        ? {
            kind: 'action',
            label: `Resume schedules (${pausedWhy(input.pause, input.now)})`,
            action: { type: 'resume-all' },
            enabled: ready,
          }
        : {
            kind: 'submenu',
            label: 'Pause all schedules',
            items: [
              {
                kind: 'action',
                label: 'For an hour',
                action: { type: 'pause-all', hours: 1 },
                enabled: ready,
              },
              {
                kind: 'action',
                label: 'Until resumed',
                action: { type: 'pause-all', hours: null },
                enabled: ready,
              },
            ],
          },
      { kind: 'separator' },
      {
        kind: 'action',
        label: 'Open Bulwark',
        action: { type: 'open', target: { kind: 'route', path: '/' } },
      },
      { kind: 'action', label: 'Open logs', action: { type: 'open', target: { kind: 'logs' } } },
      {
        kind: 'submenu',
        label: 'Notifications',
        items: [level('all', 'All'), level('failures', 'Failures only'), level('off', 'Off')],
      },
      {
        kind: 'check',
        label: 'Launch at login',
        checked: input.launchAtLogin,
        action: { type: 'launch-at-login', on: !input.launchAtLogin },
      },
      {
        kind: 'check',
        label: 'Keep backups running in the background',
        checked: input.background,
        action: { type: 'background', on: !input.background },
      },
      // The app's own CLI, put on the PATH (cli-shim.ts); again after the app moved.
      { kind: 'action', label: 'Install command-line tool…', action: { type: 'install-cli' } },
      { kind: 'separator' },
      { kind: 'action', label: 'Quit Bulwark', action: { type: 'quit' } },
    ],
  }
}

/** "nightly db: failed 2 h ago · next in 5 h" */
export function jobLine(job: Job, now: number): string {
  const last =
    job.last_run && job.last_status
      ? `${job.last_status} ${ago(now - Date.parse(job.last_run))} ago`
      : 'never run'
  const next = job.paused
    ? 'paused'
    : job.next_run
      ? `next in ${ago(Date.parse(job.next_run) - now)}`
      : 'no next run'
  return `${job.name}: ${last} · ${next}`
}

/** A duration, roughly: "45 s", "12 min", "5 h", "3 d". */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.round(s / 60)} min`
  if (s < 172_800) return `${Math.round(s / 3600)} h`
  return `${Math.round(s / 86_400)} d`
}
