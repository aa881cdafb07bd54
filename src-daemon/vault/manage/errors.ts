// How failures of a store or a vault reach a person through the API: a
// damaged vault or a held lock is a conflict (409), a store that fails or
// does not answer is a plugin failure (502), a bad password names its field
// (400). Secrets never reach a message: every text goes through the redactor.
import {
  BulwarkError,
  ErrorCode,
  MAX_VAULT_PASSWORD,
  MIN_VAULT_PASSWORD,
  invalid,
} from '../../contract'
import { redactor } from '../../platform/redact'
import { VaultError } from '../objects'
import { StoreLockedError } from '../store-lock'
import { PluginAbortedError, PluginError } from '../../../plugins/sdk/errors'

/** A store or vault failure as an error the API answers with (409 damaged vault, 502 store). */
export function failure(err: unknown): unknown {
  if (err instanceof BulwarkError) return err
  if (err instanceof StoreLockedError) {
    return new BulwarkError(ErrorCode.Conflict, redactor.redact(err.message), undefined, {
      lock_id: err.holder.id,
    })
  }
  if (err instanceof VaultError) {
    return new BulwarkError(ErrorCode.Conflict, redactor.redact(err.message))
  }
  if (err instanceof PluginAbortedError || (err as Error)?.name === 'TimeoutError') {
    return new BulwarkError(ErrorCode.PluginFailed, 'the store did not answer in time')
  }
  if (err instanceof PluginError) {
    return new BulwarkError(
      ErrorCode.PluginFailed,
      redactor.redact(`the store failed: ${err.message}`),
    )
  }
  return err
}

/** Runs store I/O, turning its failures into errors the API can answer with. */
export async function storeIo<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw failure(err)
  }
}

export function checkPassword(value: string, field: string): void {
  if (value.length < MIN_VAULT_PASSWORD) {
    throw invalid(field, `${field} must be at least ${MIN_VAULT_PASSWORD} characters long`)
  }
  if (value.length > MAX_VAULT_PASSWORD) {
    throw invalid(field, `${field} must be at most ${MAX_VAULT_PASSWORD} characters long`)
  }
}

export const wrongPassword = (field: string) => invalid(field, 'the vault password is wrong')

export const isWrongPassword = (err: unknown) =>
  err instanceof VaultError && err.code === 'wrong_password'

export function notVault(plugin: string, field: string): BulwarkError {
  return invalid(
    field,
    `stores of the ${plugin} plugin keep whole-archive blobs, not a vault (only built-in store plugins hold one)`,
  )
}
