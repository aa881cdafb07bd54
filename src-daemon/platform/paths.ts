// Where Bulwark keeps its data: --data-dir, else BULWARK_HOME, else the
// platform's per-user data directory (XDG on Linux, Application Support on
// macOS, %APPDATA% on Windows).
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

export function defaultDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'Bulwark')
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'Bulwark')
  const xdg = env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : null
  return join(xdg ?? join(home, '.local', 'share'), 'bulwark')
}

/** The data directory chosen by flag, then environment, then platform default. */
export function resolveDataDir(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (flag) return resolve(flag)
  if (env.BULWARK_HOME) return resolve(env.BULWARK_HOME)
  return defaultDataDir(env)
}
