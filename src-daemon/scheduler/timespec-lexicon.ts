// The timespec language's words: tokenizer, vocabulary, synonyms and the hints given for
// words that are not in it. timespec-grammar.ts parses the tokens into a Spec.
import { editDistance } from '../contract/edit-distance'

/** Why a timespec was rejected; timespec.ts turns it into a TimespecError. */
export class SpecProblem extends Error {
  constructor(
    readonly kind: 'unrecognised' | 'invalid',
    readonly problem: string,
    readonly examples: readonly string[] = [],
  ) {
    super(problem)
    this.name = 'SpecProblem'
  }
}

export type TokenKind = 'word' | 'number' | 'ordinal' | 'colon' | 'star'

export interface Token {
  kind: TokenKind
  text: string // as the user wrote it
  word: string // lower-cased text (words only)
  value: number // numbers and ordinals
}

const WEEKDAYS: readonly [RegExp, string][] = [
  [/^sun(days?)?$/, 'sunday'],
  [/^mon(days?)?$/, 'monday'],
  [/^tue(s(days?)?)?$/, 'tuesday'],
  [/^wed(nesdays?)?$/, 'wednesday'],
  [/^thu(r(s(days?)?)?)?$/, 'thursday'],
  [/^fri(days?)?$/, 'friday'],
  [/^sat(urdays?)?$/, 'saturday'],
]

export const WEEKDAY_NAMES: readonly string[] = WEEKDAYS.map(([, name]) => name)

const SYNONYMS: ReadonlyMap<string, string> = new Map([
  ['minutes', 'minute'],
  ['hours', 'hour'],
  ['days', 'day'],
  ['past', 'after'],
  ['til', 'until'],
  ['till', 'until'],
])

// Words people try that are not in the language: what to write instead, and examples.
const HINTS: ReadonlyMap<string, [string, string[]]> = new Map([
  ['last', ['"last <day>" needs a cron expression with L', ['0 1 * * 5L']]],
  ['noon', ['write 12pm', ['daily at 12pm']]],
  ['midnight', ['write 12am', ['daily at 12am']]],
  ['second', ['schedules run at most once a minute', ['every minute']]],
  ['seconds', ['schedules run at most once a minute', ['every minute']]],
])

const KEYWORDS = new Set([
  ...'minutely hourly daily weekly monthly every minute hour day half quarter'.split(' '),
  ...'from at on the am pm after until h x'.split(' '),
])

const VOCABULARY = [...KEYWORDS, ...SYNONYMS.keys(), ...WEEKDAY_NAMES]

export function weekdayNumber(word: string): number | undefined {
  const index = WEEKDAYS.findIndex(([pattern]) => pattern.test(word))
  return index < 0 ? undefined : index
}

// ---------------------------------------------------------------- tokenizer

const TOKEN_PATTERN = /\s+|(\d+)(?:st|nd|rd|th)(?![a-z])|\d+|[a-z]+|:|\*|./giuy

/** Split a timespec into tokens and check every word against the vocabulary. Throws SpecProblem. */
export function lexTimespec(input: string): Token[] {
  const tokens = tokenize(input)
  tokens.filter((t) => t.kind === 'word').forEach(checkWord)
  return tokens
}

function tokenize(input: string): Token[] {
  const tokens: Token[] = []
  TOKEN_PATTERN.lastIndex = 0
  for (let m = TOKEN_PATTERN.exec(input); m; m = TOKEN_PATTERN.exec(input)) {
    const text = m[0]
    if (/^\s/.test(text)) continue
    tokens.push(makeToken(text, m[1]))
  }
  return tokens
}

function makeToken(text: string, ordinalDigits: string | undefined): Token {
  const lower = text.toLowerCase()
  const base = { text, word: '', value: NaN }
  if (ordinalDigits !== undefined) return { ...base, kind: 'ordinal', value: Number(ordinalDigits) }
  if (/^\d/.test(text)) return { ...base, kind: 'number', value: Number(text) }
  if (text === ':') return { ...base, kind: 'colon' }
  if (text === '*') return { ...base, kind: 'star' }
  if (/^[a-z]/i.test(text)) return { ...base, kind: 'word', word: SYNONYMS.get(lower) ?? lower }
  throw new SpecProblem('unrecognised', `unexpected character "${text}"`)
}

function checkWord(token: Token): void {
  if (KEYWORDS.has(token.word) || weekdayNumber(token.word) !== undefined) return
  const unknown = `unknown word "${token.text}"`
  const [hint, examples] = HINTS.get(token.word) ?? []
  if (hint) throw new SpecProblem('unrecognised', `${unknown} (${hint})`, examples)
  const guess = closestWord(token.word)
  throw new SpecProblem('unrecognised', guess ? `${unknown} (did you mean "${guess}"?)` : unknown)
}

function closestWord(word: string): string | undefined {
  const limit = word.length >= 5 ? 2 : 1
  // Plain Levenshtein: a swap of neighbours counts two edits here (the hints were tuned so).
  const scored = VOCABULARY.map((w) => ({ w, d: editDistance(word, w, { transpositions: false }) }))
  const best = scored.sort((a, b) => a.d - b.d)[0]
  return best && best.d <= limit && best.w.length > 1 ? best.w : undefined
}
