// The agents' listener's TLS identity: a self-signed certificate the daemon
// makes once and keeps in its data directory (agent-tls.key 0600, agent-tls.crt).
// Agents pin its sha256 fingerprint at pairing (it travels inside the pairing
// token), so no certificate authority is involved and none can be abused.
import { X509Certificate, createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import selfsigned from 'selfsigned'
import { writeFileAtomic } from '../platform/files'

export interface AgentTls {
  key: string
  cert: string
  /** base64url sha256 of the certificate's DER bytes. */
  fingerprint: string
}

export const certFingerprint = (der: Buffer): string =>
  createHash('sha256').update(der).digest('base64url')

export async function loadOrCreateAgentTls(dataDir: string): Promise<AgentTls> {
  const keyFile = join(dataDir, 'agent-tls.key')
  const certFile = join(dataDir, 'agent-tls.crt')
  if (!existsSync(keyFile) || !existsSync(certFile)) {
    const made = await selfsigned.generate(
      [{ name: 'commonName', value: `bulwark ${hostname()}` }],
      {
        days: 3650 * 3,
        keyType: 'ec',
        algorithm: 'sha256',
      } as never,
    )
    writeFileAtomic(keyFile, made.private, 0o600)
    writeFileAtomic(certFile, made.cert, 0o644)
  }
  const cert = readFileSync(certFile, 'utf8')
  return {
    key: readFileSync(keyFile, 'utf8'),
    cert,
    fingerprint: certFingerprint(new X509Certificate(cert).raw),
  }
}
