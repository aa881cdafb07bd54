// The vault's archive repository: what tasks and services import of it.
export { VaultArchives } from './repository'
export { NoVaultError } from './opener'
export { manifestHead } from './stream-archives'
export * from './types'
