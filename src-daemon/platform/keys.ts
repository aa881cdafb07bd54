// The daemon's identity key pair (ed25519), created at first start. Its public
// half is served in OpenSSH form so remote agents can authorize the daemon.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { writeFileAtomic } from './files'

export function loadOrCreateIdentity(dataDir: string): string {
  const path = join(dataDir, 'identity.pem')
  if (!existsSync(path)) {
    const { privateKey } = generateKeyPairSync('ed25519')
    writeFileAtomic(path, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string)
  }
  const publicKey = createPublicKey(createPrivateKey(readFileSync(path, 'utf8')))
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url')
  const sshString = (b: Buffer) => Buffer.concat([u32(b.length), b])
  const blob = Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(raw)])
  return `ssh-ed25519 ${blob.toString('base64')} bulwark@${hostname()}`
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}

/** The API token: random, created at first start, kept 0600 in the data directory. */
export function loadOrCreateToken(dataDir: string, file: string): string {
  const path = join(dataDir, file)
  if (existsSync(path)) {
    const token = readFileSync(path, 'utf8').trim()
    if (token.length >= 32) return token
  }
  const token = randomBytes(32).toString('base64url')
  writeFileAtomic(path, token + '\n')
  return token
}
