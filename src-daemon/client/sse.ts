// A minimal server-sent events reader over a fetch body stream: it yields the
// `data:` payload of each event (multi-line data joined with "\n") and skips
// comments and other fields. Enough for GET /v1/events; no reconnection here.

export async function* readSse(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<string> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  let data: string[] = []
  const onAbort = () => void reader.cancel().catch(() => undefined)
  signal?.addEventListener('abort', onAbort, { once: true })
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
          if (data.length > 0) yield data.join('\n')
          data = []
        } else if (line.startsWith('data:')) {
          data.push(line.slice(line[5] === ' ' ? 6 : 5))
        }
      }
    }
    if (data.length > 0) yield data.join('\n')
  } finally {
    signal?.removeEventListener('abort', onAbort)
    // Also reached when the consumer stops early: close the connection.
    void reader.cancel().catch(() => undefined)
  }
}
