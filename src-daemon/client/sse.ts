// A minimal server-sent events reader over a fetch body stream: it yields each
// event's `data:` payload (multi-line data joined with "\n") with the `id:` the
// event carried, and a block that has an `id:` but no data as the id alone
// (it moves the stream's position, as in EventSource). Comments and other
// fields are skipped. Reconnection is the caller's (client/index.ts).

export interface SseMessage {
  /** The `id:` field of this block, if it had one. */
  id?: string
  /** The data lines joined with "\n"; absent for a block with an id only. */
  data?: string
}

export async function* readSse(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<SseMessage> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  let data: string[] = []
  let id: string | undefined
  const onAbort = () => void reader.cancel().catch(() => undefined)
  signal?.addEventListener('abort', onAbort, { once: true })
  const message = (): SseMessage | undefined => {
    const m: SseMessage = {}
    if (id !== undefined) m.id = id
    if (data.length > 0) m.data = data.join('\n')
    data = []
    id = undefined
    return m.id !== undefined || m.data !== undefined ? m : undefined
  }
  try {
    for (;;) {
      if (signal?.aborted) return
      const { done, value } = await reader.read()
      if (done) break
      buffer += decoder.decode(value, { stream: true })
      let nl: number
      while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, nl)
        const sepLength = buffer.startsWith('\r\n', nl) ? 2 : 1
        // A lone "\r" at the end of the buffer may be the first half of "\r\n".
        if (buffer[nl] === '\r' && nl + 1 === buffer.length) break
        buffer = buffer.slice(nl + sepLength)
        if (line === '') {
          const m = message()
          if (m) yield m
        } else if (line.startsWith('data:')) {
          data.push(line.slice(line[5] === ' ' ? 6 : 5))
        } else if (line.startsWith('id:')) {
          const value = line.slice(line[3] === ' ' ? 4 : 3)
          if (!value.includes('\0')) id = value
        }
      }
    }
    // The stream ended: an unterminated block is incomplete, but its data is kept.
    if (data.length > 0) {
      const m = message()
      if (m) yield m
    }
  } finally {
    signal?.removeEventListener('abort', onAbort)
    // Also reached when the consumer stops early: close the connection.
    void reader.cancel().catch(() => undefined)
  }
}
