// The CLI's own failures. A UsageError means the command line is wrong (exit
// 2); a CliError means the request could not be done (exit 1). API failures
// arrive as the client's ApiError / DaemonUnreachableError and exit 1 too.
import { editDistance } from '../contract/edit-distance'

export const EXIT_OK = 0
export const EXIT_FAILED = 1
export const EXIT_USAGE = 2

export class UsageError extends Error {
  override readonly name = 'UsageError'
  /** The command the user meant, for the "see --help" hint ("create target"). */
  readonly command: string | undefined

  constructor(message: string, command?: string) {
    super(message)
    this.command = command
  }
}

export class CliError extends Error {
  override readonly name = 'CliError'
  readonly exitCode: number

  constructor(message: string, exitCode = EXIT_FAILED) {
    super(message)
    this.exitCode = exitCode
  }
}

/** The closest candidate, if it is close enough to be a plausible typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase())
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)))
  if (best !== undefined && bestDistance <= limit) return best
  // A prefix is a plausible slip too: --sum for --summary.
  return candidates.find((c) => word.length >= 3 && c.startsWith(word))
}

export function didYouMean(word: string, candidates: readonly string[], prefix = ''): string {
  const c = closest(word, candidates)
  return c === undefined ? '' : `; did you mean ${prefix}${c}?`
}
