// Where the fs store keeps an object: the store directory (an absolute path),
// a key's file under it, the modes of what it creates, and which errors mean
// "not there".
import { isAbsolute, join, normalize } from 'node:path'
import { PluginError } from '../../sdk/errors'
import { checkKey, type Endpoint } from '../../sdk/types'

export const DIR_MODE = 0o700
export const FILE_MODE = 0o600

export function rootOf(endpoint: Endpoint): string {
  const path = endpoint.path
  if (typeof path !== 'string' || !isAbsolute(path)) {
    throw new PluginError(`the store directory must be an absolute path, not "${String(path)}"`)
  }
  return normalize(path)
}

export function fileOf(root: string, key: string): string {
  try {
    checkKey(key)
  } catch (err) {
    throw new PluginError((err as Error).message, 'permanent', { cause: err })
  }
  return join(root, ...key.split('/'))
}

export const isMissing = (err: unknown) => {
  const code = (err as NodeJS.ErrnoException).code
  return code === 'ENOENT' || code === 'ENOTDIR'
}
