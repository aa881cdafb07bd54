// Waiting on state, for tests: poll a condition every 50 ms until it holds or
// a deadline passes (never a fixed sleep hoping something happened), and a
// free local port for a server a test starts itself.
import { once } from 'node:events'
import { createServer } from 'node:net'

/** Polls `check` until it returns something other than undefined; fails after `ms`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const found = await check()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** A local TCP port nothing listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}
