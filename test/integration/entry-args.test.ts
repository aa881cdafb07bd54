// The daemon's and the agent's command lines (platform/entry.ts): -h and
// --help print the help, an unknown option prints the error and the help
// with exit 2, and --data-dir reaches the command.
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli, tempDir } from '../helpers/daemon'

describe.each(['daemon', 'agent'])('bulwark %s', (command) => {
  it('prints its help for -h and --help, exit 0', async () => {
    const [short, long] = await Promise.all([runCli([command, '-h']), runCli([command, '--help'])])
    expect(long.code).toBe(0)
    expect(long.stdout).toMatch(new RegExp(`^Usage: bulwark ${command} `))
    expect(long.stdout).toContain('--data-dir DIR')
    expect(long.stdout).toContain('--log-level LEVEL')
    expect(short).toEqual(long)
  })

  it('names an unknown option, then prints its help, exit 2', async () => {
    const run = await runCli([command, '--no-such-option'])
    expect(run.code).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toMatch(new RegExp(`^bulwark ${command}: .*'--no-such-option'`))
    expect(run.stderr).toContain(`Usage: bulwark ${command} `)
  })
})

describe('bulwark agent', () => {
  it('reads --data-dir: an unpaired one is named in the error, exit 2', async () => {
    const dataDir = join(tempDir('bulwark-entry-'), 'agent-home')
    const run = await runCli(['agent', '--data-dir', dataDir, '--log-level', 'warn'])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(`no ${dataDir}/agent.json`)
  })
})
