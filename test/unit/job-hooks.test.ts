// Running hooks without a daemon: the environment a hook gets (secrets left
// out by name and by value), the task log a chatty hook writes (capped), the
// message an essential failure gives, and a hook that leaves a background
// process behind finishing anyway.
import { afterEach, expect, it } from 'vitest'
import { readHooks, hookEnvironment, runPhase } from '../../src-daemon/tasks/hooks'
import { redactor } from '../../src-daemon/platform/redact'

const leftovers: number[] = []
afterEach(() => {
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
})

function phase(commands: { command: string; essential?: boolean; timeout_seconds?: number }[]) {
  const lines: string[] = []
  const ctx = { signal: new AbortController().signal, log: (l: string) => void lines.push(l) }
  const hooks = readHooks(JSON.stringify({ before: commands })).before
  const run = runPhase('before', hooks, { vars: {}, ctx, consequence: 'the backup is not taken' })
  return { lines, run }
}

it('fills in the defaults of each phase', () => {
  expect(readHooks('{"before":[{"command":"a"}],"on_failure":[{"command":"b"}]}')).toEqual({
    before: [{ command: 'a', essential: true, timeout_seconds: 300 }],
    after: [],
    on_failure: [{ command: 'b', essential: false, timeout_seconds: 300 }],
  })
})

it('leaves out variables named like secrets and those holding a known secret', () => {
  redactor.add('s3cr3t-value-in-env')
  const env = hookEnvironment(
    {
      PATH: '/usr/bin',
      PGPASSWORD: 'x1',
      MYSQL_PWD: 'x2',
      AWS_SECRET_ACCESS_KEY: 'x3',
      AWS_ACCESS_KEY_ID: 'x4',
      BULWARK_TOKEN: 'x5',
      REDISCLI_AUTH: 'x6',
      SSH_AUTH_SOCK: '/tmp/agent',
      SOME_API_KEY: 'x7',
      INNOCENT: 'has s3cr3t-value-in-env inside',
      GIT_AUTHOR_NAME: 'kept',
      KEYBOARD: 'kept',
      PWD: '/srv',
      BULWARK_STATUS: 'stale, from the daemon',
    },
    { BULWARK_HOOK: 'before' },
  )
  expect(env).toEqual({
    PATH: '/usr/bin',
    GIT_AUTHOR_NAME: 'kept',
    KEYBOARD: 'kept',
    PWD: '/srv',
    BULWARK_HOOK: 'before',
  })
})

it('names the hook, its exit status and its last stderr line when an essential one fails', async () => {
  const { lines, run } = phase([
    { command: 'echo out; echo first >&2; echo last words >&2; exit 3' },
    { command: 'echo never' },
  ])
  expect(await run).toBe('hook before[0] exited 3: last words')
  expect(lines).toContain('hook before[0]: out')
  expect(lines).toContain('hook before[0]: last words')
  expect(lines.join('\n')).not.toContain('never')
})

it('logs at most 1000 lines of a hook, then says the rest is not logged', async () => {
  const { lines, run } = phase([{ command: 'seq 1 5000' }])
  expect(await run).toBeUndefined()
  const output = lines.filter((l) => /^hook before\[0\]: \d+$/.test(l))
  expect(output).toHaveLength(1000)
  expect(lines).toContain('hook before[0]: (more than 1000 lines; the rest is not logged)')
  expect(lines.at(-1)).toMatch(/^hook before\[0\] finished in/)
})

it('does not wait for a background process the hook left running', async () => {
  const { lines, run } = phase([{ command: 'sleep 30 & echo $!' }])
  const began = Date.now()
  expect(await run).toBeUndefined()
  leftovers.push(Number(lines.find((l) => /^hook before\[0\]: \d+$/.test(l))!.split(': ')[1]))
  expect(Date.now() - began).toBeLessThan(5000)
})
