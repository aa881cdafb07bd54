// Vault blobs (external stores): round trip, wrong password, truncation,
// tampering and reordering are all refused; the stream never ends cleanly on
// a damaged blob.
import { randomBytes, randomUUID } from 'node:crypto'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { openBlob, sealBlob } from '../../src-daemon/vault/blob'

const N = 1024 // cheap scrypt for tests; the cost is stored in each blob
const meta = (archive: string) => ({
  version: 1 as const,
  archive,
  taken_at: new Date(0).toISOString(),
  expires_at: new Date(3600_000).toISOString(),
  target: { uuid: randomUUID(), name: 't', plugin: 'files' },
  job: null,
  store: randomUUID(),
  notes: '',
  tags: {},
})

async function collect(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const c of s) parts.push(c as Buffer)
  return Buffer.concat(parts)
}

async function seal(data: Buffer, archive = randomUUID()) {
  const blob = await collect(sealBlob(Readable.from([data]), 'correct horse', meta(archive), N))
  return { blob, archive }
}

describe('vault blobs', () => {
  const data = Buffer.concat([randomBytes(3 << 20), Buffer.from('text '.repeat(400_000))])

  it('round-trips, compressed and encrypted', async () => {
    const { blob, archive } = await seal(data)
    expect(blob.length).toBeLessThan(data.length) // the text part compresses
    expect(blob.includes(Buffer.from('text text text'))).toBe(false)
    expect(
      (await collect(openBlob(Readable.from([blob]), 'correct horse', archive))).equals(data),
    ).toBe(true)
    const empty = await seal(Buffer.alloc(0))
    expect(
      (await collect(openBlob(Readable.from([empty.blob]), 'correct horse', empty.archive))).length,
    ).toBe(0)
  })

  it('refuses a wrong password, another archive id, truncation and tampering', async () => {
    const { blob, archive } = await seal(data)
    const open = (b: Buffer, pw = 'correct horse', id = archive) =>
      collect(openBlob(Readable.from([b]), pw, id))
    await expect(open(blob, 'wrong')).rejects.toThrow(/password is wrong/)
    await expect(open(blob, 'correct horse', randomUUID())).rejects.toThrow(/corrupt|manifest/)
    for (const cut of [10, 100, blob.length >> 1, blob.length - 40, blob.length - 1]) {
      await expect(open(blob.subarray(0, cut)), `cut at ${cut}`).rejects.toThrow()
    }
    for (const at of [70, 5000, blob.length >> 1, blob.length - 30]) {
      const bad = Buffer.from(blob)
      bad[at] = bad[at]! ^ 0x01
      await expect(open(bad), `flip at ${at}`).rejects.toThrow()
    }
    await expect(open(Buffer.concat([blob, Buffer.from('x')]))).rejects.toThrow(/after the end/)
  })
})
