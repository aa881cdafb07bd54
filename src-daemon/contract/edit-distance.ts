// Edit distance for "did you mean" hints: the CLI's words and flags, the
// schedule language's words. Not part of the wire: it lives in the contract
// because the contract is the browser-safe leaf every layer may import.

export interface EditDistanceOptions {
  /** Count a swap of neighbours as one edit (nmae → name) rather than two. Default true. */
  transpositions?: boolean
}

/**
 * The fewest single-character insertions, deletions and substitutions (and,
 * unless turned off, swaps of neighbours) that turn `a` into `b`.
 */
export function editDistance(a: string, b: string, opts: EditDistanceOptions = {}): number {
  const swaps = opts.transpositions ?? true
  // Three rows of the table: the one before last (for swaps), the last, and this one.
  let before: number[] = []
  let last = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(last[j]! + 1, row[j - 1]! + 1, last[j - 1]! + cost)
      if (swaps && i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, before[j - 2]! + 1)
      }
      row[j] = best
    }
    before = last
    last = row
  }
  return last[b.length]!
}
