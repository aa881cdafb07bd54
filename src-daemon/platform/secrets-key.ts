// Where the 32-byte key that seals secrets.enc lives: the OS keychain (through
// the native `@napi-rs/keyring` package, prebuilt for every desktop platform:
// Keychain on macOS, Credential Manager on Windows, the Secret Service such as
// GNOME Keyring on Linux) where one answers, else a 0600 key file beside
// secrets.enc. Chosen once, at daemon start, before the (synchronous)
// FileSecretStore is built.
//
// Earlier versions reached the keychain through `keytar` (archived upstream).
// Its entries are where the new binding finds them on macOS, but not on Linux
// (other Secret Service attributes) nor on Windows (another target name): a
// data directory whose marker predates the move has its key copied, once, from
// keytar's entry to the new one (read on Linux with `secret-tool`, on Windows
// by keytar's target name); the old entry is left in place.
//
// BULWARK_KEYCHAIN=auto (the default): an existing secrets.key stays in use
// (nothing is moved); otherwise the keychain if it answers, remembered by the
// marker file secrets.keychain; otherwise secrets.key. `on` requires the
// keychain; `off` always uses secrets.key. A data directory whose key is in the
// keychain never falls back to a new key file: that key could not read the
// stored passwords. The keychain itself is reached through keychain.ts.
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { writeFileAtomic } from './files'
import {
  KEYCHAIN_PROMPT_TIMEOUT_MS,
  KEYCHAIN_TIMEOUT_MS,
  oneLine,
  openKeychain,
  readKeytarEntry,
  within,
  type KeychainEntry,
} from './keychain'
import type { Logger } from './logger'
import { SEALED_FILE, type SecretsKey } from './secrets'

export const KEY_FILE = 'secrets.key'
export const KEYCHAIN_MARKER = 'secrets.keychain'
export const KEYCHAIN_SERVICE = 'bulwark'

export type KeychainMode = 'auto' | 'on' | 'off'

/** A refusal to start that explains itself (printed without a stack). */
export class SecretsKeyError extends Error {}

export function parseKeychainMode(value: string | undefined): KeychainMode {
  const mode = (value ?? '').trim().toLowerCase()
  if (mode === '' || mode === 'auto') return 'auto'
  if (mode === 'on' || mode === 'off') return mode
  throw new SecretsKeyError(`BULWARK_KEYCHAIN must be auto, on or off, not "${value}"`)
}

/** What secrets.keychain holds: where in the keychain the key is. */
interface Marker extends KeychainEntry {
  /** 'keyring': written through @napi-rs/keyring; absent: by keytar, before the move. */
  binding?: 'keyring'
}

export async function loadSecretsKey(
  dataDir: string,
  mode: KeychainMode,
  log: Logger,
  timeoutMs = KEYCHAIN_TIMEOUT_MS,
): Promise<SecretsKey> {
  const keyFile = join(dataDir, KEY_FILE)
  const markerPath = join(dataDir, KEYCHAIN_MARKER)
  const sealedPath = join(dataDir, SEALED_FILE)
  const marker = readMarker(markerPath)
  const hasKeyFile = existsSync(keyFile)
  const fromFile = (why: string): SecretsKey => {
    const key = readOrCreateKeyFile(keyFile, sealedPath)
    log.info(`secrets: the key that seals ${SEALED_FILE} is in the key file ${keyFile} (${why})`)
    return { key, where: keyFile }
  }

  if (hasKeyFile && mode !== 'on') {
    if (marker) {
      log.warn(
        `${markerPath} says the key is in the OS keychain, but ${keyFile} exists and is used`,
      )
    }
    return fromFile(mode === 'off' ? 'BULWARK_KEYCHAIN=off' : 'it exists, so it stays in use')
  }
  if (hasKeyFile) {
    throw new SecretsKeyError(
      `BULWARK_KEYCHAIN=on, but the key that seals ${sealedPath} is in the key file ${keyFile}, ` +
        'and Bulwark does not move it to the keychain; start with BULWARK_KEYCHAIN=auto (the default) ' +
        'or off to keep using the file',
    )
  }
  if (marker && mode === 'off') {
    throw new SecretsKeyError(
      `BULWARK_KEYCHAIN=off, but the key that seals ${sealedPath} (the stored endpoint and vault ` +
        `passwords) is in the OS keychain (${describe(marker)}; ${markerPath} says so), and without ` +
        'it those passwords cannot be read; start with BULWARK_KEYCHAIN=auto (the default) or on, ' +
        'with the keychain unlocked',
    )
  }
  if (mode === 'off') return fromFile('BULWARK_KEYCHAIN=off')

  const at: Marker = marker ?? { service: KEYCHAIN_SERVICE, account: resolve(dataDir) }
  const where = `the OS keychain (${describe(at)})`
  /** A data directory whose key is in the keychain never falls back to a key file. */
  const marked = (what: string) =>
    new SecretsKeyError(
      `the key that seals ${sealedPath} (the stored endpoint and vault passwords) is in ${where}, ` +
        `as ${markerPath} says, but ${what}. Unlock the keychain and start again: log in to the ` +
        'desktop session, or on a headless Linux machine run the daemon inside a D-Bus session ' +
        'whose Secret Service (gnome-keyring-daemon --unlock) holds that keyring. Bulwark does not ' +
        'start without that key: the stored passwords cannot be read without it',
    )
  // Where the key is known to be there, leave time to answer an unlock or access prompt.
  const wait = marker ? Math.max(timeoutMs, KEYCHAIN_PROMPT_TIMEOUT_MS) : timeoutMs
  const reached = await openKeychain(at, wait)
  if ('why' in reached) {
    if (marker) throw marked(`the keychain cannot be reached: ${reached.why}`)
    if (mode === 'on') {
      throw new SecretsKeyError(
        `BULWARK_KEYCHAIN=on, but no OS keychain can be used: ${reached.why}. Unlock or start one ` +
          '(on Linux: a D-Bus session with a Secret Service such as gnome-keyring-daemon), or start ' +
          'with BULWARK_KEYCHAIN=auto to fall back to a key file',
      )
    }
    return fromFile(`no OS keychain: ${reached.why}`)
  }

  const { keychain, keyring } = reached
  let stored = reached.stored
  let created = false
  let moved = false
  if (stored === null && marker && !marker.binding) {
    // Put there by keytar, before the move to @napi-rs/keyring: copy it over once.
    let old: string | null
    try {
      old = await within(readKeytarEntry(keyring, at), wait)
    } catch (err) {
      throw marked(`the entry an earlier version wrote could not be read: ${oneLine(err)}`)
    }
    if (old !== null) {
      try {
        await within(keychain.set(at, old), wait)
        stored = await within(keychain.get(at), wait)
      } catch (err) {
        throw marked(`copying it to the keychain entry this version reads failed: ${oneLine(err)}`)
      }
      if (stored !== old) throw marked('the keychain did not keep the copy of the key it was given')
      moved = true
    }
  }
  if (stored === null) {
    // A locked keyring answers "no such entry" too.
    if (existsSync(sealedPath)) {
      if (marker)
        throw marked(
          'the keychain returned no key (it is locked or cannot be reached, or the entry was deleted)',
        )
      throw new SecretsKeyError(
        `${sealedPath} exists but its key is neither in ${keyFile} nor in ${where}; put the ` +
          `${KEY_FILE} it was sealed with back beside it`,
      )
    }
    const fresh = randomBytes(32).toString('base64')
    try {
      await within(keychain.set(at, fresh), wait)
      stored = await within(keychain.get(at), wait)
      if (stored !== fresh) throw new Error('it did not keep the key it was given')
    } catch (err) {
      if (marker) {
        throw marked(`the keychain returned no key and storing a new one failed: ${oneLine(err)}`)
      }
      // The binding reads an unreachable keychain as "no entry": the write is what tells.
      const why = `storing a key in it failed: ${oneLine(err)}`
      if (mode === 'on') {
        throw new SecretsKeyError(
          `BULWARK_KEYCHAIN=on, but no OS keychain can be used: ${why}. Unlock or start one ` +
            '(on Linux: a D-Bus session with a Secret Service such as gnome-keyring-daemon), or start ' +
            'with BULWARK_KEYCHAIN=auto to fall back to a key file',
        )
      }
      return fromFile(`no OS keychain: ${why}`)
    }
    created = true
  }
  const key = Buffer.from(stored, 'base64')
  if (key.length !== 32) {
    throw new SecretsKeyError(`the entry in ${where} is not a 32-byte base64 key`)
  }
  if (!marker || !marker.binding) {
    const now: Marker = { service: at.service, account: at.account, binding: 'keyring' }
    writeFileAtomic(markerPath, JSON.stringify(now, null, 2) + '\n')
  }
  const how = created
    ? ' (created now)'
    : moved
      ? ' (copied now from the entry an earlier version wrote through keytar, which is left in place)'
      : ''
  log.info(`secrets: the key that seals ${SEALED_FILE} is in ${where}${how}`)
  return { key, where }
}

function describe(at: Marker): string {
  return `service "${at.service}", account "${at.account}"`
}

function readMarker(path: string): Marker | undefined {
  if (!existsSync(path)) return undefined
  let marker: Partial<Marker>
  try {
    marker = JSON.parse(readFileSync(path, 'utf8')) as Partial<Marker>
  } catch (err) {
    throw new SecretsKeyError(`${path} is not readable JSON: ${oneLine(err)}`)
  }
  if (typeof marker.service !== 'string' || typeof marker.account !== 'string') {
    throw new SecretsKeyError(`${path} must hold {"service", "account"}: where the key is`)
  }
  return {
    service: marker.service,
    account: marker.account,
    ...(marker.binding === 'keyring' ? { binding: 'keyring' as const } : {}),
  }
}

function readOrCreateKeyFile(path: string, sealedPath: string): Buffer {
  if (existsSync(path)) {
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64')
    if (key.length !== 32) throw new SecretsKeyError(`${path} is not a 32-byte base64 key`)
    return key
  }
  if (existsSync(sealedPath)) {
    throw new SecretsKeyError(
      `${sealedPath} exists but ${path}, the key it was sealed with, does not; put it back ` +
        '(a new key could not read the stored passwords)',
    )
  }
  const key = randomBytes(32)
  writeFileAtomic(path, key.toString('base64') + '\n')
  return key
}
