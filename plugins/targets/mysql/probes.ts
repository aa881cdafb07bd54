// Test helpers for the mysql target that watch processes rather than data: a
// free port, polling, finding the running dump in ps, and holding a table lock
// in another session so a dump stays running long enough to be inspected.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { SERVER } from './fixture'

/** A local TCP port nothing listens on. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

export async function waitFor<T>(what: string, fn: () => T | undefined, ms = 15_000): Promise<T> {
  for (const deadline = Date.now() + ms; Date.now() < deadline;) {
    const found = fn()
    if (found !== undefined) return found
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** The running dump of db, from ps: pid and full command line. */
export function dumpProcess(db: string): { pid: number; args: string } | undefined {
  const ps = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
  for (const line of ps.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line)
    if (m?.[2]?.includes('--defaults-extra-file=') && m[2].endsWith(` ${db}`)) {
      return { pid: Number(m[1]), args: m[2] }
    }
  }
  return undefined
}

const holders = new Set<ChildProcess>()

/**
 * Holds LOCK TABLES ... WRITE in another session, which stalls a dump when it
 * reaches that table (--single-transaction does not get past it). Resolves to
 * the function that releases it.
 */
export async function holdLock(db: string, table: string): Promise<() => Promise<void>> {
  const args = ['-h', SERVER.host, '-P', String(SERVER.port), '-u', 'root', '--batch', '-N']
  // --unbuffered: the "locked" answer must arrive while the session stays open.
  const child = spawn('mysql', [...args, '--unbuffered'], { stdio: ['pipe', 'pipe', 'inherit'] })
  holders.add(child)
  child.once('close', () => holders.delete(child))
  child.stdin.write(`LOCK TABLES \`${db}\`.\`${table}\` WRITE; SELECT 'locked';\n`)
  await new Promise<void>((resolve) =>
    child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve()),
  )
  return async () => {
    child.stdin.end('UNLOCK TABLES;\n')
    if (child.exitCode === null) await once(child, 'close')
  }
}

/** Ends every lock session still open (after a failed test), so cleanup is not blocked. */
export function releaseLocks(): void {
  for (const child of holders) child.kill()
}
