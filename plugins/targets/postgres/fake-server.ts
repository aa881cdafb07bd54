// Test helper, not part of the plugin: a TCP server that speaks just enough of
// the PostgreSQL wire protocol to ask for a cleartext password and refuse it,
// the way a server with password authentication does. The machine's real
// server trusts every local connection, so this is how the wrong-password path
// is exercised with the real pg_dump and psql.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'

export interface FakeServer {
  port: number
  /** Passwords clients sent, in order. */
  passwords: string[]
  /** Resolves when the next password arrives; the refusal waits for release(). */
  nextPassword(): Promise<string>
  release(): void
  close(): Promise<void>
}

const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104

function message(type: string, body: Buffer): Buffer {
  const len = Buffer.alloc(4)
  len.writeInt32BE(body.length + 4)
  return Buffer.concat([Buffer.from(type), len, body])
}

function refusal(user: string): Buffer {
  const field = (code: string, text: string) => Buffer.from(`${code}${text}\0`)
  return message(
    'E',
    Buffer.concat([
      field('S', 'FATAL'),
      field('V', 'FATAL'),
      field('C', '28P01'),
      field('M', `password authentication failed for user "${user}"`),
      Buffer.from([0]),
    ]),
  )
}

export async function startFakeServer(opts: { hold?: boolean } = {}): Promise<FakeServer> {
  const passwords: string[] = []
  let waiting: ((pw: string) => void) | undefined
  let released = !opts.hold
  const held: (() => void)[] = []
  const sockets = new Set<Socket>()

  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
    let buf = Buffer.alloc(0)
    let started = false
    let user = ''
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk])
      for (;;) {
        if (!started) {
          if (buf.length < 8) return
          const len = buf.readInt32BE(0)
          if (buf.length < len) return
          const code = buf.readInt32BE(4)
          const body = buf.subarray(8, len)
          buf = buf.subarray(len)
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
            socket.write('N') // no encryption here; the client goes on in the clear
            continue
          }
          const pairs = body.toString('utf8').split('\0')
          user = pairs[pairs.indexOf('user') + 1] ?? ''
          started = true
          const ask = Buffer.alloc(4)
          ask.writeInt32BE(3) // AuthenticationCleartextPassword
          socket.write(message('R', ask))
          continue
        }
        if (buf.length < 5) return
        const len = buf.readInt32BE(1)
        if (buf.length < len + 1) return
        const type = String.fromCharCode(buf[0]!)
        const body = buf.subarray(5, len + 1)
        buf = buf.subarray(len + 1)
        if (type !== 'p') continue
        const pw = body.toString('utf8').replace(/\0$/, '')
        passwords.push(pw)
        waiting?.(pw)
        waiting = undefined
        const refuse = () => socket.end(refusal(user))
        if (released) refuse()
        else held.push(refuse)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    passwords,
    nextPassword: () => new Promise((resolve) => (waiting = resolve)),
    release: () => {
      released = true
      for (const refuse of held.splice(0)) refuse()
    },
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
