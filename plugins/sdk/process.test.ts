import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { readAll, testContext } from './conformance/services'
import { PluginAbortedError, PluginError } from './errors'
import { runTool, spawnInput, spawnOutput } from './process'

const dir = mkdtempSync(join(tmpdir(), 'bulwark-process-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const sh = (script: string, ctx = testContext()) => spawnOutput('sh', ['-c', script], ctx)
const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a failure, got success')
    },
    (e: Error) => e,
  )

/** Pids of live `sleep <duration>` processes (zombies excluded). */
function alive(duration: string): string[] {
  let out: string
  try {
    out = execFileSync('pgrep', ['-x', 'sleep'], { encoding: 'utf8' })
  } catch {
    return [] // pgrep exits 1 when nothing matches
  }
  return out
    .split('\n')
    .filter(Boolean)
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        const zombie = /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'))
        return cmdline === `sleep\0${duration}\0` && !zombie
      } catch {
        return false // gone between pgrep and now
      }
    })
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 50))
  }
  return true
}

/** A `sleep` duration nobody else uses, so pgrep finds only ours. */
const uniqueSleep = () => `3${Math.floor(Math.random() * 9)}.${Date.now() % 100000}`

describe('spawnOutput', () => {
  it('ends only after the tool exits 0, even when it closes stdout early', async () => {
    const mark = join(dir, 'finished')
    const out = await readAll(sh(`printf abc; exec >&-; sleep 0.3; touch ${mark}`))
    expect(out.toString()).toBe('abc')
    expect(existsSync(mark)).toBe(true)
  })

  it('errors with the stderr tail on a non-zero exit, and never ends cleanly', async () => {
    const stream = sh('echo partial; echo "first line" >&2; echo "boom: disk on fire" >&2; exit 3')
    let ended = false
    stream.on('end', () => (ended = true))
    const err = await failure(readAll(stream))
    expect(err).toBeInstanceOf(PluginError)
    expect(err.message).toBe('sh exited with code 3: first line / boom: disk on fire')
    expect(ended).toBe(false)
  })

  it('lets explain() word the failure and choose its kind', async () => {
    const ctx = testContext()
    const stream = spawnOutput('sh', ['-c', 'echo nope >&2; exit 2'], ctx, {
      explain: (stderr, code) => new PluginError(`${stderr.trim()} (${code})`, 'transient'),
    })
    const err = (await failure(readAll(stream))) as PluginError
    expect(err.message).toBe('nope (2)')
    expect(err.kind).toBe('transient')
    expect(ctx.lines).toEqual(['sh: nope'])
  })

  it('abort kills the whole process group and errors with PluginAbortedError', async () => {
    const s = uniqueSleep()
    const ctx = testContext()
    const stream = sh(`sleep ${s} & sleep ${s}; echo never`, ctx)
    expect(await waitFor(() => alive(s).length === 2)).toBe(true)
    ctx.controller.abort()
    expect(await failure(readAll(stream))).toBeInstanceOf(PluginAbortedError)
    expect(await waitFor(() => alive(s).length === 0)).toBe(true)
  })

  it(
    'abort also stops a helper the tool left holding its stdout after it exited',
    { timeout: 10_000 },
    async () => {
      const s = uniqueSleep()
      const ctx = testContext()
      const stream = sh(`sleep ${s} & exit 0`, ctx)
      expect(await waitFor(() => alive(s).length === 1)).toBe(true)
      // Wait until sh itself (the group leader, whose pid is the group id) is gone.
      const pgid = execFileSync('ps', ['-o', 'pgid=', '-p', alive(s)[0]!], {
        encoding: 'utf8',
      }).trim()
      expect(await waitFor(() => !existsSync(`/proc/${pgid}`))).toBe(true)
      await new Promise((r) => setTimeout(r, 100)) // and Node has seen its exit
      ctx.controller.abort()
      expect(await failure(readAll(stream))).toBeInstanceOf(PluginAbortedError)
      expect(await waitFor(() => alive(s).length === 0)).toBe(true)
    },
  )

  it('a consumer that gives up stops the tool', async () => {
    const s = uniqueSleep()
    const stream = sh(`yes & sleep ${s}`)
    expect(await waitFor(() => alive(s).length === 1)).toBe(true)
    stream.destroy()
    expect(await waitFor(() => alive(s).length === 0)).toBe(true)
  })

  it('reports a missing command as not installed', async () => {
    const err = await failure(readAll(spawnOutput('bulwark-no-such-tool', [], testContext())))
    expect(err).toBeInstanceOf(PluginError)
    expect(err.message).toBe(
      'bulwark-no-such-tool is not installed or not on the PATH; install it on the machine that runs the daemon',
    )
  })

  it('reports a missing working directory as such, not as a missing tool', async () => {
    const stream = spawnOutput('sh', ['-c', 'true'], testContext(), { cwd: join(dir, 'nope') })
    const err = await failure(readAll(stream))
    expect(err.message).toBe(`could not run sh: the directory ${join(dir, 'nope')} does not exist`)
  })

  it('refuses to start when already aborted', () => {
    const ctx = testContext()
    ctx.controller.abort()
    expect(() => sh('true', ctx)).toThrow(PluginAbortedError)
  })

  it('passes env to the tool', async () => {
    const stream = spawnOutput('sh', ['-c', 'printf %s "$BULWARK_SECRET"'], testContext(), {
      env: { BULWARK_SECRET: 's3cr3t' },
    })
    expect((await readAll(stream)).toString()).toBe('s3cr3t')
  })
})

describe('spawnInput', () => {
  it('feeds the input and resolves once the tool exits 0', async () => {
    const file = join(dir, 'fed')
    const input = Readable.from([Buffer.from('hello '), Buffer.from('world')])
    await spawnInput('sh', ['-c', `cat > ${file}`], input, testContext())
    expect(readFileSync(file, 'utf8')).toBe('hello world')
  })

  it('reports the exit status when the tool stops reading and fails', async () => {
    const input = Readable.from(Array.from({ length: 64 }, () => Buffer.alloc(64 * 1024)))
    const err = await failure(
      spawnInput('sh', ['-c', 'echo "bad input" >&2; exit 4'], input, testContext()),
    )
    expect(err).toBeInstanceOf(PluginError)
    expect(err.message).toBe('sh exited with code 4: bad input')
  })

  it('a failing input stops the tool and rejects with the input error once it is gone', async () => {
    const mark = join(dir, 'cleaned-up')
    const input = new Readable({
      read() {
        this.push(Buffer.alloc(1024))
        setTimeout(() => this.destroy(new Error('upstream broke')), 200)
      },
    })
    // The tool takes its time to exit on SIGTERM; the call must wait for it.
    const script = `trap 'sleep 0.3; touch ${mark}; exit 1' TERM; exec 3<&0; cat <&3 >/dev/null & wait`
    const err = await failure(spawnInput('sh', ['-c', script], input, testContext()))
    expect(err.message).toBe('upstream broke')
    expect(existsSync(mark)).toBe(true)
  })

  it('an input closed before its end is a failure, not a short but successful run', async () => {
    const input = new Readable({
      read() {
        this.push(Buffer.alloc(1024))
        setTimeout(() => this.destroy(), 100) // no error, no end: just gone
      },
    })
    const err = (await failure(
      spawnInput('sh', ['-c', 'cat >/dev/null'], input, testContext()),
    )) as PluginError
    expect(err.message).toBe('the data for sh ended before it was complete')
    expect(err.kind).toBe('transient')
  })

  it('abort kills the tool and rejects with PluginAbortedError', async () => {
    const s = uniqueSleep()
    const ctx = testContext()
    const input = new Readable({ read() {} }) // never ends
    const pending = spawnInput('sh', ['-c', `sleep ${s} & cat >/dev/null`], input, ctx)
    expect(await waitFor(() => alive(s).length === 1)).toBe(true)
    ctx.controller.abort()
    expect(await failure(pending)).toBeInstanceOf(PluginAbortedError)
    expect(await waitFor(() => alive(s).length === 0)).toBe(true)
  })

  it('reports a missing command as not installed', async () => {
    const err = await failure(
      spawnInput('bulwark-no-such-tool', [], Readable.from([Buffer.from('x')]), testContext()),
    )
    expect(err.message).toMatch(/^bulwark-no-such-tool is not installed/)
  })
})

describe('runTool', () => {
  it('decodes multi-byte characters that straddle chunk boundaries', async () => {
    const text = '€'.repeat(100_000) // 300 kB: several 64 KiB chunks, none a multiple of 3
    const script = `process.stdout.write('€'.repeat(100000))`
    expect(await runTool(process.execPath, ['-e', script], testContext())).toBe(text)
  })

  it('rejects with the tool error', async () => {
    const err = await failure(runTool('sh', ['-c', 'exit 9'], testContext()))
    expect(err.message).toBe('sh exited with code 9')
  })
})
