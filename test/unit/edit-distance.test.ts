import { describe, expect, it } from 'vitest'
import { editDistance } from '../../src-daemon/contract/edit-distance'

/** The textbook recursive definition, as an oracle for short strings. */
function oracle(a: string, b: string, swaps: boolean): number {
  if (a === '') return b.length
  if (b === '') return a.length
  const cost = a.at(-1) === b.at(-1) ? 0 : 1
  let best = Math.min(
    oracle(a.slice(0, -1), b, swaps) + 1,
    oracle(a, b.slice(0, -1), swaps) + 1,
    oracle(a.slice(0, -1), b.slice(0, -1), swaps) + cost,
  )
  if (swaps && a.length > 1 && b.length > 1 && a.at(-1) === b.at(-2) && a.at(-2) === b.at(-1)) {
    best = Math.min(best, oracle(a.slice(0, -2), b.slice(0, -2), swaps) + 1)
  }
  return best
}

describe('editDistance', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('', '')).toBe(0)
    expect(editDistance('', 'abc')).toBe(3)
    expect(editDistance('abc', '')).toBe(3)
    expect(editDistance('kitten', 'sitting')).toBe(3)
    expect(editDistance('daily', 'daily')).toBe(0)
  })

  it('counts a swap of neighbours as one edit, unless told not to', () => {
    expect(editDistance('nmae', 'name')).toBe(1)
    expect(editDistance('nmae', 'name', { transpositions: false })).toBe(2)
    expect(editDistance('ca', 'abc')).toBe(3) // optimal string alignment, not Damerau
  })

  it('agrees with the recursive definition', () => {
    const words = ['', 'a', 'ab', 'ba', 'abc', 'acb', 'cab', 'hourly', 'houlry', 'daily', 'dialy']
    for (const a of words) {
      for (const b of words) {
        for (const swaps of [true, false]) {
          expect(editDistance(a, b, { transpositions: swaps }), `${a}/${b}/${swaps}`).toBe(
            oracle(a, b, swaps),
          )
        }
      }
    }
  })
})
