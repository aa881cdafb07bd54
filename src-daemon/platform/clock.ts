// Time as a dependency, so logic that depends on "now" can be tested.
export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

export const toIso = (ms: number): string => new Date(ms).toISOString()
export const toIsoOrNull = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : toIso(ms)
