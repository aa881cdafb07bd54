// Where a local client (the CLI, the desktop app) finds the daemon's data
// directory, and in it daemon.json and the token: the very rule the daemon
// chooses it by. Node only, so not exported from client/index.ts (the UI
// imports that).
export { resolveDataDir } from '../platform/paths'
