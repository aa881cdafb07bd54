// The vault's crypto layer against docs/vault-format.md: round trips, every
// kind of damage refused with a VaultError naming the object, key slots and
// passwords, the recovery kit, vault.json validation, and known answers built
// with node:crypto straight from the spec so a format change cannot go unseen.
import { createCipheriv, createDecipheriv, createHmac, randomBytes, scryptSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import * as zstd from 'zstd-napi'
import {
  addSlot,
  changePassword,
  initVault,
  parseConfig,
  removeSlot,
  type VaultConfig,
} from '../../src-daemon/vault/config'
import {
  masterKeyFromRaw,
  newMasterKey,
  parseRecoveryKey,
  recoveryKit,
  unwrapKey,
  wrapKey,
  type KeySlot,
} from '../../src-daemon/vault/keys'
import {
  chunkId,
  chunkKey,
  manifestKey,
  openChunk,
  openManifest,
  parseChunkKey,
  parseManifestKey,
  sealChunk,
  sealManifest,
  VaultError,
  type Manifest,
} from '../../src-daemon/vault/objects'

const N = 2 ** 10 // fast scrypt for tests
const FIXED = masterKeyFromRaw(Buffer.from(Array.from({ length: 64 }, (_, i) => i)))
const VAULT = '0b5c6d7e-1111-4222-8333-944455556666'
const ARCHIVE = '5f0e1d2c-aaaa-4bbb-8ccc-dddddddddddd'
const OTHER_ARCHIVE = '5f0e1d2c-aaaa-4bbb-8ccc-eeeeeeeeeeee'

function text(bytes: number): Buffer {
  const words = ['orders', 'INSERT', 'INTO', 'VALUES', 'customer', '42', 'NULL', 'shipped', '\n']
  const out: string[] = []
  for (let i = 0, n = 0; n < bytes; i++) {
    const w = words[(i * 7 + (i >> 3)) % words.length]!
    out.push(w)
    n += w.length + 1
  }
  return Buffer.from(out.join(' ')).subarray(0, bytes)
}

function vaultError(fn: () => unknown): VaultError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(VaultError)
    return err as VaultError
  }
  throw new Error('expected a VaultError')
}

async function rejection(p: Promise<unknown>): Promise<VaultError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(VaultError)
  return err as VaultError
}

function manifest(master = FIXED, chunks: Buffer[] = [text(5000), randomBytes(300)]): Manifest {
  return {
    version: 1,
    vault: VAULT,
    archive: ARCHIVE,
    taken_at: '2026-11-21T03:00:00.000Z',
    expires_at: '2026-12-21T03:00:00.000Z',
    size: chunks.reduce((a, c) => a + c.length, 0),
    chunks: chunks.map((c) => [chunkId(master, c), c.length]),
    target: { uuid: 't-1', name: 'orders', plugin: 'postgres' },
    job: { uuid: 'j-1', name: 'orders nightly' },
    store: 's-1',
    notes: '',
    tags: { env: 'prod' },
  }
}

/** The spec's AES-256-GCM envelope, written independently of the implementation. */
function specSeal(magic: string, aad: string, body: Buffer, nonce: Buffer, key = FIXED.encKey) {
  const c = createCipheriv('aes-256-gcm', key, nonce)
  c.setAAD(Buffer.from(aad))
  const ct = Buffer.concat([c.update(body), c.final()])
  return Buffer.concat([Buffer.from(magic), nonce, ct, c.getAuthTag()])
}

function specOpen(magic: string, aad: string, object: Buffer, key = FIXED.encKey): Buffer {
  expect(object.subarray(0, 4).toString()).toBe(magic)
  const d = createDecipheriv('aes-256-gcm', key, object.subarray(4, 16))
  d.setAAD(Buffer.from(aad))
  d.setAuthTag(object.subarray(object.length - 16))
  return Buffer.concat([d.update(object.subarray(16, object.length - 16)), d.final()])
}

describe('chunk objects', () => {
  it('round trips compressible and random chunks, compressing only when smaller', () => {
    const t = text(256 * 1024)
    const r = randomBytes(256 * 1024)
    for (const [data, flag] of [
      [t, 1],
      [r, 0],
      [Buffer.alloc(0), 0],
    ] as const) {
      const id = chunkId(FIXED, data)
      const obj = sealChunk(FIXED, id, data)
      const body = specOpen('BWC1', `chunk:${id}`, obj)
      expect(body[0]).toBe(flag)
      if (flag === 0) expect(obj.length).toBe(4 + 12 + 1 + data.length + 16)
      else expect(obj.length).toBeLessThan(data.length / 2)
      expect(openChunk(FIXED, id, obj, data.length).equals(data)).toBe(true)
      expect(openChunk(FIXED, id, obj).equals(data)).toBe(true)
    }
  })

  it('names chunks by a keyed id: same plaintext, different vaults, different ids', () => {
    const data = text(1000)
    const a = chunkId(newMasterKey(), data)
    const b = chunkId(newMasterKey(), data)
    expect(a).toMatch(/^[0-9a-f]{64}$/)
    expect(a).not.toBe(b)
    expect(chunkId(FIXED, data)).toBe(chunkId(FIXED, Buffer.from(data)))
    expect(chunkKey(a)).toBe(`chunks/${a.slice(0, 2)}/${a}`)
    expect(manifestKey(ARCHIVE)).toBe(`manifests/${ARCHIVE}`)
    expect(() => chunkKey('../x')).toThrow()
    expect(() => manifestKey('a/b')).toThrow()
  })

  it('parses exactly the keys it formats', () => {
    const id = chunkId(FIXED, text(10))
    expect(parseChunkKey(chunkKey(id))).toBe(id)
    expect(parseManifestKey(manifestKey(ARCHIVE))).toBe(ARCHIVE)
    const other = id.startsWith('00') ? 'ff' : '00'
    for (const key of [
      `chunks/${other}/${id}`, // the wrong shard: not where a reader looks
      `chunks/${id.slice(0, 2)}/${id.toUpperCase()}`,
      `chunks/${id.slice(0, 2)}/${id}.tmp`,
      `chunks/${id}`,
      `x/chunks/${id.slice(0, 2)}/${id}`,
      manifestKey(ARCHIVE),
    ]) {
      expect(parseChunkKey(key), key).toBeUndefined()
    }
    for (const key of [
      `manifests/${'-'.repeat(36)}`,
      `manifests/${ARCHIVE.toUpperCase()}`,
      `manifests/${ARCHIVE}/x`,
      `manifests/${ARCHIVE}.tmp`,
      `x/manifests/${ARCHIVE}`,
      chunkKey(id),
    ]) {
      expect(parseManifestKey(key), key).toBeUndefined()
    }
  })

  it('detects every single-byte change, for both body encodings', () => {
    for (const data of [Buffer.from('a small chunk, stored as is'), text(2000)]) {
      const id = chunkId(FIXED, data)
      const obj = sealChunk(FIXED, id, data)
      for (let pos = 0; pos < obj.length; pos++) {
        const bad = Buffer.from(obj)
        bad[pos] = bad[pos]! ^ (1 << (pos % 8))
        const err = vaultError(() => openChunk(FIXED, id, bad, data.length))
        // Byte 3 is the format version: "BWC9" reads as a newer format (or damage).
        expect(err.code).toBe(pos === 3 ? 'unsupported' : 'corrupt')
        expect(err.message).toContain(`chunk ${id.slice(0, 12)}…`)
      }
      const future = Buffer.from(obj)
      future[3] = 0x32 // "BWC2"
      expect(vaultError(() => openChunk(FIXED, id, future)).code).toBe('unsupported')
    }
  })

  it('detects truncation and extension', () => {
    const data = text(4000)
    const id = chunkId(FIXED, data)
    const obj = sealChunk(FIXED, id, data)
    for (const n of [0, 3, 4, 16, 32, 33, obj.length >> 1, obj.length - 16, obj.length - 1]) {
      const err = vaultError(() => openChunk(FIXED, id, obj.subarray(0, n)))
      expect(err.code).toBe('corrupt')
    }
    const longer = Buffer.concat([obj, Buffer.of(0)])
    expect(vaultError(() => openChunk(FIXED, id, longer)).message).toMatch(/authentication failed/)
  })

  it('refuses a chunk object swapped for another, and the wrong key', () => {
    const a = text(3000)
    const b = Buffer.from('another chunk')
    const idA = chunkId(FIXED, a)
    const idB = chunkId(FIXED, b)
    const err = vaultError(() => openChunk(FIXED, idB, sealChunk(FIXED, idA, a)))
    expect(err.code).toBe('corrupt')
    expect(err.message).toBe(
      `chunk ${idB.slice(0, 12)}… is corrupt: authentication failed (the object was modified, truncated or swapped)`,
    )
    expect(vaultError(() => openChunk(newMasterKey(), idA, sealChunk(FIXED, idA, a))).code).toBe(
      'corrupt',
    )
  })

  it('checks the size the manifest lists and the id of what authenticated', () => {
    const data = text(3000)
    const id = chunkId(FIXED, data)
    const obj = sealChunk(FIXED, id, data)
    expect(vaultError(() => openChunk(FIXED, id, obj, 2999)).message).toMatch(/inflates to 3000/)
    const raw = sealChunk(FIXED, id, Buffer.from('x'))
    expect(vaultError(() => openChunk(FIXED, id, raw, 2)).message).toMatch(/holds 1 bytes/)
    // Authentic (the writer had the key) but its content is not what the id names.
    expect(vaultError(() => openChunk(FIXED, id, raw)).message).toMatch(/does not match its id/)
  })

  it('refuses a decompression bomb before inflating it', () => {
    const plain = Buffer.alloc(64 * 1024 * 1024)
    const id = chunkId(FIXED, plain)
    const obj = sealChunk(FIXED, id, plain)
    expect(obj.length).toBeLessThan(64 * 1024)
    const err = vaultError(() => openChunk(FIXED, id, obj, 4 * 1024 * 1024))
    expect(err.message).toMatch(/inflates to 67108864 bytes \(at most 4194304\)/)
    // A frame without a declared size, or trailing frames, is refused too.
    const two = Buffer.concat([zstd.compress(Buffer.from('ab')), zstd.compress(Buffer.from('c'))])
    const nonce = randomBytes(12)
    const sealed = specSeal('BWC1', `chunk:${id}`, Buffer.concat([Buffer.of(1), two]), nonce)
    expect(vaultError(() => openChunk(FIXED, id, sealed)).message).toMatch(/not exactly one frame/)
  })

  it('known answer: ids and a byte-exact object (spec → implementation)', () => {
    const data = Buffer.from('hello, vault\n')
    const id = '37519c6d6538b8a0317808aa644ec9a68abe2c64ac16a7e2e9761653be9215ad'
    expect(chunkId(FIXED, data)).toBe(id)
    const pinned = Buffer.from(
      '42574331a0a1a2a3a4a5a6a7a8a9aaabe670194129a42e9f1404f2bf7370e518bc7f1e07f89dbb31af4fee8a0518',
      'hex',
    )
    expect(openChunk(FIXED, id, pinned, data.length).toString()).toBe('hello, vault\n')
    // A zstd body built from the spec alone.
    const big = text(10_000)
    const bigId = createHmac('sha256', FIXED.idKey).update(big).digest('hex')
    const body = Buffer.concat([Buffer.of(1), zstd.compress(big)])
    const obj = specSeal('BWC1', `chunk:${bigId}`, body, Buffer.alloc(12, 7))
    expect(openChunk(FIXED, bigId, obj, big.length).equals(big)).toBe(true)
  })
})

describe('manifest objects', () => {
  it('round trips, with the spec layout', () => {
    const m = manifest()
    const obj = sealManifest(FIXED, m)
    expect(openManifest(FIXED, ARCHIVE, obj)).toEqual(m)
    const json = zstd.decompress(specOpen('BWM1', `manifest:${ARCHIVE}`, obj))
    expect(JSON.parse(json.toString())).toEqual(m)
    const spec = specSeal('BWM1', `manifest:${ARCHIVE}`, zstd.compress(json), randomBytes(12))
    expect(openManifest(FIXED, ARCHIVE, spec)).toEqual(m)
    expect(openManifest(FIXED, ARCHIVE, sealManifest(FIXED, { ...m, job: null })).job).toBeNull()
  })

  it('detects single-byte changes anywhere (200 sampled positions)', () => {
    const obj = sealManifest(FIXED, manifest())
    for (let i = 0; i < 200; i++) {
      const pos = i < 40 ? i : Math.floor(Math.random() * obj.length)
      const bad = Buffer.from(obj)
      bad[pos] = bad[pos]! ^ 0x80
      const err = vaultError(() => openManifest(FIXED, ARCHIVE, bad))
      expect(err.code).toBe('corrupt')
      expect(err.message).toContain(`manifest ${ARCHIVE}`)
    }
    for (const n of [0, 10, 20, obj.length - 1]) {
      expect(vaultError(() => openManifest(FIXED, ARCHIVE, obj.subarray(0, n))).code).toBe(
        'corrupt',
      )
    }
  })

  it('refuses a manifest opened under another archive uuid', () => {
    const err = vaultError(() =>
      openManifest(FIXED, OTHER_ARCHIVE, sealManifest(FIXED, manifest())),
    )
    expect(err.code).toBe('corrupt')
    expect(err.message).toMatch(new RegExp(`manifest ${OTHER_ARCHIVE} is corrupt: authentication`))
  })

  it('validates the shape: sizes add up, version known', () => {
    const m = manifest()
    expect(() => sealManifest(FIXED, { ...m, size: m.size + 1 })).toThrow(/add up/)
    const seal = (x: unknown) =>
      specSeal(
        'BWM1',
        `manifest:${ARCHIVE}`,
        zstd.compress(Buffer.from(JSON.stringify(x))),
        randomBytes(12),
      )
    expect(vaultError(() => openManifest(FIXED, ARCHIVE, seal({ ...m, size: 1 }))).code).toBe(
      'corrupt',
    )
    expect(vaultError(() => openManifest(FIXED, ARCHIVE, seal({ ...m, version: 2 }))).code).toBe(
      'unsupported',
    )
    expect(
      vaultError(() => openManifest(FIXED, ARCHIVE, seal({ ...m, chunks: [['zz', 1]] }))).code,
    ).toBe('corrupt')
    expect(
      vaultError(() => openManifest(FIXED, ARCHIVE, seal({ ...m, archive: OTHER_ARCHIVE })))
        .message,
    ).toMatch(/describes archive/)
  })
})

describe('key slots and passwords', () => {
  it('opens with the password, refuses a wrong one', async () => {
    const master = newMasterKey()
    const slot = await wrapKey(master, 'correct horse', VAULT, { N })
    expect(slot.kdf).toMatchObject({ algorithm: 'scrypt', N, r: 8, p: 1 })
    expect((await unwrapKey([slot], 'correct horse', VAULT)).raw.equals(master.raw)).toBe(true)
    const err = await rejection(unwrapKey([slot], 'wrong horse', VAULT))
    expect(err.code).toBe('wrong_password')
    expect(err.message).toBe('the vault password is wrong (no key slot opens with it)')
    // The slot is bound to its vault id.
    expect((await rejection(unwrapKey([slot], 'correct horse', OTHER_ARCHIVE))).code).toBe(
      'wrong_password',
    )
  })

  it('known answer: a slot built from the spec opens, and a written slot follows the spec', async () => {
    const salt = Buffer.alloc(32, 1)
    const kek = scryptSync('pässword'.normalize('NFC'), salt, 32, { N, r: 8, p: 1 })
    const aad = `bulwark-vault-key:${VAULT}:slot-1`
    const nonce = Buffer.alloc(12, 2)
    const c = createCipheriv('aes-256-gcm', kek, nonce)
    c.setAAD(Buffer.from(aad))
    const ct = Buffer.concat([c.update(FIXED.raw), c.final()])
    const slot: KeySlot = {
      id: 'slot-1',
      label: 'x',
      created_at: '2026-11-21T03:00:00.000Z',
      kdf: { algorithm: 'scrypt', N, r: 8, p: 1, salt: salt.toString('base64') },
      wrapped: Buffer.concat([nonce, ct, c.getAuthTag()]).toString('base64'),
    }
    // NFD input: the same password typed elsewhere.
    expect((await unwrapKey([slot], 'pa\u0308ssword', VAULT)).raw.equals(FIXED.raw)).toBe(true)

    const written = await wrapKey(FIXED, 'pässword', VAULT, { N })
    const w = Buffer.from(written.wrapped, 'base64')
    expect(w.length).toBe(12 + 64 + 16)
    const kek2 = scryptSync('pässword', Buffer.from(written.kdf.salt, 'base64'), 32, {
      N,
      r: 8,
      p: 1,
    })
    const d = createDecipheriv('aes-256-gcm', kek2, w.subarray(0, 12))
    d.setAAD(Buffer.from(`bulwark-vault-key:${VAULT}:${written.id}`))
    d.setAuthTag(w.subarray(76))
    expect(Buffer.concat([d.update(w.subarray(12, 76)), d.final()]).equals(FIXED.raw)).toBe(true)
  })

  it('several slots each open; changePassword keeps the key and retires the old password', async () => {
    const { config, master } = await initVault('first', { N })
    const two = await addSlot(config, master, 'second', 'laptop', N)
    const three = await addSlot(two, master, 'third', undefined, N)
    expect(three.key_slots.map((s) => s.label)).toEqual([
      config.key_slots[0]!.label,
      'laptop',
      expect.any(String),
    ])
    for (const pw of ['first', 'second', 'third']) {
      expect((await unwrapKey(three.key_slots, pw, three.id)).raw.equals(master.raw)).toBe(true)
    }
    const changed = await changePassword(three, 'second', 'fourth', N)
    expect(changed.key_slots).toHaveLength(3)
    expect(changed.key_slots.some((s) => s.label === 'laptop')).toBe(true)
    expect((await unwrapKey(changed.key_slots, 'fourth', three.id)).raw.equals(master.raw)).toBe(
      true,
    )
    expect((await unwrapKey(changed.key_slots, 'first', three.id)).raw.equals(master.raw)).toBe(
      true,
    )
    expect((await rejection(unwrapKey(changed.key_slots, 'second', three.id))).code).toBe(
      'wrong_password',
    )
    expect((await rejection(changePassword(changed, 'nope', 'x', N))).code).toBe('wrong_password')
    expect(parseConfig(JSON.stringify(changed))).toEqual(changed)
  })

  it('removeSlot refuses the last slot and unknown ids', async () => {
    const { config, master } = await initVault('only', { N })
    expect(() => removeSlot(config, config.key_slots[0]!.id)).toThrow(/last key slot/)
    expect(vaultError(() => removeSlot(config, 'nope')).code).toBe('missing')
    const two = await addSlot(config, master, 'other', undefined, N)
    const one = removeSlot(two, config.key_slots[0]!.id)
    expect((await unwrapKey(one.key_slots, 'other', one.id)).raw.equals(master.raw)).toBe(true)
    await rejection(unwrapKey(one.key_slots, 'only', one.id))
  })

  it('recovery kit round trip, whole or bare, and mistypes caught', () => {
    const master = newMasterKey()
    const kit = recoveryKit(VAULT, master)
    expect(kit).toContain(VAULT)
    const parsed = parseRecoveryKey(kit)
    expect(parsed.vaultId).toBe(VAULT)
    expect(parsed.master.raw.equals(master.raw)).toBe(true)
    const bare = parseRecoveryKey(`  ${master.raw.toString('base64')}\n`)
    expect(bare.vaultId).toBeUndefined()
    expect(bare.master.idKey.equals(master.idKey)).toBe(true)
    const key = master.raw.toString('base64')
    const typo = key.slice(0, 10) + (key[10] === 'A' ? 'B' : 'A') + key.slice(11)
    expect(() => parseRecoveryKey(kit.replace(key, typo))).toThrow(/mistyped/)
    expect(() => parseRecoveryKey('not a key')).toThrow(/not a recovery key/)
    expect(() => parseRecoveryKey(key.slice(4))).toThrow(/not a recovery key/)
  })
})

describe('vault.json', () => {
  it('initVault writes a config the strict parser accepts', async () => {
    const now = new Date('2026-11-21T03:00:00.000Z')
    const { config } = await initVault('pw', { N, now })
    expect(config).toMatchObject({
      format: 'bulwark-vault',
      version: 1,
      created_at: now.toISOString(),
      chunking: { algorithm: 'fastcdc-gear32', min: 131072, avg: 524288, max: 2097152 },
      compression: 'zstd',
      encryption: 'aes-256-gcm',
      chunk_id: 'hmac-sha256',
    })
    expect(config.key_slots[0]!.label).toBe('created 2026-11-21')
    expect(parseConfig(JSON.stringify(config, null, 2))).toEqual(config)
  })

  it('rejects unknown formats and versions as unsupported, damage as corrupt', async () => {
    const { config } = await initVault('pw', { N })
    const with_ = (patch: Record<string, unknown>) => JSON.stringify({ ...config, ...patch })
    const code = (t: string) => vaultError(() => parseConfig(t)).code
    expect(code(with_({ version: 2 }))).toBe('unsupported')
    expect(code(with_({ format: 'restic' }))).toBe('unsupported')
    expect(code(with_({ encryption: 'chacha20' }))).toBe('unsupported')
    expect(code('{"format": "bulwark-vault", ')).toBe('corrupt')
    expect(code('[]')).toBe('corrupt')
    expect(code(with_({ key_slots: [] }))).toBe('corrupt')
    expect(code(with_({ chunking: { ...config.chunking, avg: 1000 } }))).toBe('corrupt')
    const slot = config.key_slots[0]!
    const slotWith = (p: Partial<KeySlot> & Record<string, unknown>) =>
      with_({ key_slots: [{ ...slot, ...p }] })
    expect(code(slotWith({ wrapped: 'AAAA' }))).toBe('corrupt')
    expect(code(slotWith({ kdf: { ...slot.kdf, N: 2 ** 30 } }))).toBe('corrupt')
    expect(code(slotWith({ kdf: { ...slot.kdf, algorithm: 'argon2id' } as never }))).toBe(
      'unsupported',
    )
    const same: VaultConfig = { ...config, key_slots: [slot, slot] }
    expect(code(JSON.stringify(same))).toBe('corrupt')
  })
})
