// The /v1 wire contract shared by the daemon, its client, the CLI, the desktop
// shell and the renderer. Browser-safe: it imports nothing from the project.
export * from './auth'
export * from './errors'
export * from './events'
export { UUID_PATTERN } from './fields'
export * from './health'
export * from './notifications'
export * from './plugins'
export * from './queries'
export * from './requests'
export * from './resources'
export * from './responses'
export * from './responses-more'
export * from './tree'
export * from './vault'

/** Daemon files in the data directory that clients read to find it. */
export const DAEMON_FILE = 'daemon.json'
export const TOKEN_FILE = 'token'
export const DEFAULT_LISTEN = '127.0.0.1:7411'

export interface DaemonFile {
  url: string
  pid: number
  version: string
  started_at: string
}
