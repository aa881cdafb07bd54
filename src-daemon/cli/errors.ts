// The CLI's own failures. A UsageError means the command line is wrong (exit
// 2); a CliError means the request could not be done (exit 1). API failures
// arrive as the client's ApiError / DaemonUnreachableError and exit 1 too.

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

/** Edit distance counting a swap of neighbours as one edit (nmae → name), for "did you mean". */
export function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  const at = (i: number, j: number) => d[i]?.[j] ?? Infinity
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] ?? []
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1)
      }
      row[j] = best
    }
  }
  return at(a.length, b.length)
}

/** The closest candidate, if it is close enough to be a plausible typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase())
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
