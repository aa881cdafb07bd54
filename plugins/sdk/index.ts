// The plugin SDK: what a target or store plugin implements, its manifest, its
// errors, and helpers for running native tools. See plugins/README.md.
export * from './bytes'
export * from './errors'
export * from './manifest'
export * from './types'
export * from './process'
export * from './retryable-body'
