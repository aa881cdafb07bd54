// Where secret endpoint values live instead of the catalog: one AES-256-GCM
// encrypted file, secrets.enc, sealed by a 32-byte key that lives in the OS
// keychain or in a 0600 key file beside it (secrets-key.ts picks which, once,
// at daemon start; the store itself stays synchronous).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { writeFileAtomic } from './files'
import { redactor } from './redact'

export interface SecretStore {
  get(key: string): string | undefined
  set(key: string, value: string): void
  delete(key: string): void
  /** Removes every key that starts with the prefix. */
  deletePrefix(prefix: string): void
}

/** The file that holds the sealed secrets, in the data directory. */
export const SEALED_FILE = 'secrets.enc'

/** The key that seals secrets.enc, and where it lives (for messages; never the key). */
export interface SecretsKey {
  key: Buffer
  /** Such as "/data/secrets.key" or "the OS keychain (service …, account …)": "the key in <where>". */
  where: string
}

interface SealedFile {
  version: 1
  iv: string
  tag: string
  data: string
}

export class FileSecretStore implements SecretStore {
  private readonly key: Buffer
  private readonly path: string
  private readonly where: string
  private values: Map<string, string>

  constructor(dataDir: string, key: SecretsKey) {
    if (key.key.length !== 32) throw new Error(`the key in ${key.where} is not 32 bytes`)
    this.path = join(dataDir, SEALED_FILE)
    this.key = key.key
    this.where = key.where
    this.values = this.load()
    for (const value of this.values.values()) redactor.add(value)
  }

  get(key: string): string | undefined {
    return this.values.get(key)
  }

  set(key: string, value: string): void {
    redactor.add(value)
    this.values.set(key, value)
    this.save()
  }

  delete(key: string): void {
    if (this.values.delete(key)) this.save()
  }

  deletePrefix(prefix: string): void {
    let changed = false
    for (const key of [...this.values.keys()]) {
      if (key.startsWith(prefix)) changed = this.values.delete(key) || changed
    }
    if (changed) this.save()
  }

  private load(): Map<string, string> {
    if (!existsSync(this.path)) return new Map()
    const sealed = JSON.parse(readFileSync(this.path, 'utf8')) as SealedFile
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(sealed.iv, 'base64'))
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'))
    let plain: Buffer
    try {
      plain = Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()])
    } catch {
      throw new Error(
        `cannot decrypt ${this.path}: it does not match the key in ${this.where} (was one replaced?)`,
      )
    }
    return new Map(Object.entries(JSON.parse(plain.toString('utf8')) as Record<string, string>))
  }

  private save(): void {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.key, iv)
    const plain = Buffer.from(JSON.stringify(Object.fromEntries(this.values)))
    const data = Buffer.concat([cipher.update(plain), cipher.final()])
    const sealed: SealedFile = {
      version: 1,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    }
    writeFileAtomic(this.path, JSON.stringify(sealed))
  }
}

/** An in-memory store, for tests of code that needs one. */
export class MemorySecretStore implements SecretStore {
  private readonly values = new Map<string, string>()
  get(key: string) {
    return this.values.get(key)
  }
  set(key: string, value: string) {
    redactor.add(value)
    this.values.set(key, value)
  }
  delete(key: string) {
    this.values.delete(key)
  }
  deletePrefix(prefix: string) {
    for (const key of [...this.values.keys()]) if (key.startsWith(prefix)) this.values.delete(key)
  }
}
