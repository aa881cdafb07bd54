// How the desktop app runs its daemon child (src-main/daemon-command.ts):
// packaged, on the app's own binary with ELECTRON_RUN_AS_NODE; in development,
// on plain Node (npm's, else `node` from PATH) so the Node-ABI native modules
// the tests use load as they are. Both commands start the real built daemon
// under the supervisor here (plain Node stands in for the app's binary, which
// ELECTRON_RUN_AS_NODE leaves unchanged).
import { afterEach, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { daemonCommand } from '../../src-main/daemon-command'
import { Supervisor } from '../../src-main/supervisor'
import { ROOT, tempDir } from '../helpers/daemon'

const DAEMON = join(ROOT, 'out', 'main', 'daemon.js')
const env: NodeJS.ProcessEnv = {
  ...process.env,
  BULWARK_KEYCHAIN: 'off',
  BULWARK_LOW_SPACE_BYTES: '0',
}
const running: Supervisor[] = []
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop()
})

async function starts(cmd: ReturnType<typeof daemonCommand>): Promise<void> {
  const sup = new Supervisor({ dataDir: tempDir(), ...cmd })
  running.push(sup)
  await sup.start()
  // The catalog (better-sqlite3, native) answers: the status counts come from it.
  const status = await sup.client()!.status()
  expect(status.counts.jobs).toBe(0)
}

describe('daemon command', () => {
  it('in development runs Node itself, which loads the Node-ABI native modules', async () => {
    const cmd = daemonCommand({
      packaged: false,
      execPath: '/opt/electron/electron',
      daemonEntry: DAEMON,
      env: { ...env, npm_node_execpath: process.execPath, ELECTRON_RUN_AS_NODE: '1' },
    })
    expect(cmd.command).toEqual([process.execPath, DAEMON])
    expect(cmd.env!.ELECTRON_RUN_AS_NODE).toBeUndefined()
    await starts(cmd)
    // Started some other way than npm run: node from PATH.
    const { npm_node_execpath: _, ...bare } = env
    expect(
      daemonCommand({ packaged: false, execPath: 'x', daemonEntry: DAEMON, env: bare }).command,
    ).toEqual(['node', DAEMON])
  })

  it('packaged runs the app binary as Node', async () => {
    const cmd = daemonCommand({
      packaged: true,
      execPath: process.execPath,
      daemonEntry: DAEMON,
      env,
    })
    expect(cmd.command).toEqual([process.execPath, DAEMON])
    expect(cmd.env!.ELECTRON_RUN_AS_NODE).toBe('1')
    await starts(cmd)
  })
})
