// Parses a listen address: "127.0.0.1:7411", "[::1]:7411", "localhost:0", ":7411" or "7411".
export interface ListenAddress {
  host: string
  port: number
}

export function parseListen(value: string): ListenAddress {
  const text = value.trim()
  let host = '127.0.0.1'
  let port = text
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(text)
  if (bracketed) {
    host = bracketed[1] ?? host
    port = bracketed[2] ?? ''
  } else if (text.includes(':')) {
    const at = text.lastIndexOf(':')
    host = text.slice(0, at) || host
    port = text.slice(at + 1)
  }
  const n = Number(port)
  if (!/^\d+$/.test(port) || n > 65535) {
    throw new Error(
      `invalid listen address "${value}": use HOST:PORT such as 127.0.0.1:7411 (port 0 picks a free one)`,
    )
  }
  return { host, port: n }
}
