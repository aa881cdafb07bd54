// Which program runs the daemon child, and with what environment.
//
// Packaged, the app ships no runtime but its own binary: the daemon runs on it
// as plain Node (ELECTRON_RUN_AS_NODE=1), and its native modules
// (better-sqlite3, zstd-napi, @napi-rs/keyring) are the ones electron-builder
// rebuilt for Electron's ABI at `npm run dist` (npmRebuild, on by default and
// not turned off in build/electron-builder.yml).
//
// In development (`npm run dev:app`) node_modules holds the Node-ABI builds
// that `npm ci` made and the tests use; Electron-as-Node would refuse them
// (NODE_MODULE_VERSION mismatch). So the daemon runs on plain Node instead:
// the one npm runs on, or `node` from PATH, and nothing needs rebuilding.
import type { DaemonCommand } from './daemon-process'

export interface DaemonCommandInput {
  /** Electron's app.isPackaged. */
  packaged: boolean
  /** The app's own binary (process.execPath). */
  execPath: string
  /** The bundled daemon entry (out/main/daemon.js). */
  daemonEntry: string
  env: NodeJS.ProcessEnv
}

export function daemonCommand(i: DaemonCommandInput): DaemonCommand {
  if (i.packaged) {
    return { command: [i.execPath, i.daemonEntry], env: { ...i.env, ELECTRON_RUN_AS_NODE: '1' } }
  }
  // npm sets npm_node_execpath for `npm run`; started some other way, PATH decides.
  const node = i.env.npm_node_execpath || 'node'
  const env = { ...i.env }
  delete env.ELECTRON_RUN_AS_NODE // meaningless to Node; kept out so the daemon's env says what runs it
  return { command: [node, i.daemonEntry], env }
}
