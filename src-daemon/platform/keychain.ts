// The OS keychain as secrets-key.ts uses it: the native @napi-rs/keyring
// binding loaded (or why not), one entry read and written, keytar's older
// entry read where the binding does not find it, and every call bounded by a
// timeout (a keychain that hangs counts as unavailable).
import { execFile } from 'node:child_process'

/** How long the keychain has to answer before it counts as unavailable. */
export const KEYCHAIN_TIMEOUT_MS = 3000
/** The same when the marker says the key is there: time for an unlock or access prompt. */
export const KEYCHAIN_PROMPT_TIMEOUT_MS = 30_000

/** Where in the keychain an entry is. */
export interface KeychainEntry {
  service: string
  account: string
}

/** The part of the keychain binding used here. */
export interface Keychain {
  get(at: KeychainEntry): Promise<string | null>
  set(at: KeychainEntry, value: string): Promise<void>
}

/** The part of @napi-rs/keyring used here. */
export interface KeyringModule {
  AsyncEntry: {
    new (service: string, account: string): KeyringEntry
    withTarget(target: string, service: string, account: string): KeyringEntry
  }
}
interface KeyringEntry {
  getPassword(): Promise<string | null | undefined>
  setPassword(password: string): Promise<void>
}

/** The keychain binding loaded and answering a read of our entry, or why not. */
export async function openKeychain(
  at: KeychainEntry,
  timeoutMs: number,
): Promise<
  { keychain: Keychain; keyring: KeyringModule; stored: string | null } | { why: string }
> {
  let keyring: KeyringModule
  try {
    // A native CommonJS dependency, external to the build, with a prebuilt
    // binary per platform; where none fits it does not load and the key file is used.
    const mod = (await import('@napi-rs/keyring' as string)) as Partial<KeyringModule> & {
      default?: KeyringModule
    }
    keyring = mod.AsyncEntry ? (mod as KeyringModule) : (mod.default as KeyringModule)
    if (typeof keyring?.AsyncEntry !== 'function') throw new Error('it has no AsyncEntry')
  } catch (err) {
    return { why: `the keychain module @napi-rs/keyring did not load (${oneLine(err)})` }
  }
  const keychain: Keychain = {
    get: async (m) => (await new keyring.AsyncEntry(m.service, m.account).getPassword()) ?? null,
    set: (m, value) => new keyring.AsyncEntry(m.service, m.account).setPassword(value),
  }
  try {
    return { keychain, keyring, stored: await within(keychain.get(at), timeoutMs) }
  } catch (err) {
    return { why: oneLine(err) }
  }
}

/**
 * The key as keytar stored it, where @napi-rs/keyring does not find it itself:
 * on Windows under the target name "service/account"; on Linux a Secret Service
 * item with the attributes service and account, read by libsecret's own
 * `secret-tool` (the binding looks up other attributes). On macOS both use the
 * same Keychain item, so there is nothing else to read.
 */
export async function readKeytarEntry(
  keyring: KeyringModule,
  at: KeychainEntry,
): Promise<string | null> {
  if (process.platform === 'darwin') return null
  if (process.platform === 'win32') {
    const entry = keyring.AsyncEntry.withTarget(
      `${at.service}/${at.account}`,
      at.service,
      at.account,
    )
    return (await entry.getPassword()) ?? null
  }
  return new Promise((resolve, reject) => {
    execFile(
      'secret-tool',
      ['lookup', 'service', at.service, 'account', at.account],
      { encoding: 'utf8', timeout: KEYCHAIN_PROMPT_TIMEOUT_MS },
      (err, stdout) => {
        const value = stdout.trim()
        if (value) return resolve(value)
        if (!err) return resolve(null)
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          return reject(
            new Error(
              'secret-tool is not installed (on Debian or Ubuntu: apt-get install libsecret-tools)',
            ),
          )
        }
        // secret-tool exits 1 without output when there is no such item.
        resolve(null)
      },
    )
  })
}

/** The promise's value, or an error after `ms` (the call itself is left to finish). */
export function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the keychain did not answer within ${ms / 1000} s`)),
      ms,
    )
    timer.unref()
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

export function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  return (message.split('\n')[0] ?? '').trim() || 'unknown error'
}
