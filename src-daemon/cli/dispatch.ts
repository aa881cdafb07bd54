// Positional words → the command they name: a verb, then a noun (singular,
// plural, or a multi-word form like "retention policy"), then its arguments.
import { NOUN_WORDS, VERB_ALIASES, commandName, type Command, type Noun } from './command'
import { UsageError, closest } from './errors'

export interface Match {
  command: Command
  args: string[]
}

export interface PartialMatch {
  verb?: string
  noun?: Noun
}

/** The noun at the start of `words`, and how many words it took. */
export function matchNoun(words: readonly string[]): [Noun, number] | undefined {
  const lower = words.map((w) => w.toLowerCase())
  for (const [form, noun] of NOUN_WORDS) {
    if (form.every((w, i) => lower[i] === w)) return [noun, form.length]
  }
  return undefined
}

export const verbOf = (word: string) => VERB_ALIASES[word.toLowerCase()] ?? word.toLowerCase()

const allNounWords = NOUN_WORDS.filter(([f]) => f.length === 1).map(([f]) => f[0] ?? '')

export function matchCommand(words: readonly string[], commands: readonly Command[]): Match {
  const [first = '', ...rest] = words
  const verb = verbOf(first)
  const verbs = [...new Set(commands.map((c) => c.verb))]
  if (!verbs.includes(verb)) {
    const noun = matchNoun(words)
    if (noun && commands.some((c) => c.noun === noun[0] && c.nounFirst)) {
      return matchNounFirst(noun[0], words.slice(noun[1]), commands)
    }
    if (noun) {
      throw new UsageError(
        `"${first}" is not a command; put a verb first, like: bulwark list ${first}`,
      )
    }
    const guess = closest(first, [...verbs, 'help'])
    throw new UsageError(`unknown command "${first}"${guess ? `; did you mean "${guess}"?` : ''}`)
  }
  const withVerb = commands.filter((c) => c.verb === verb)
  const bare = withVerb.find((c) => c.noun === undefined)
  if (bare) return { command: bare, args: [...rest] }

  const nouns = withVerb.map((c) => c.noun).filter((n): n is Noun => !!n)
  const nounList = nouns.join(', ')
  if (rest.length === 0) {
    throw new UsageError(`"${verb}" needs a noun: one of ${nounList}`, verb)
  }
  const found = matchNoun(rest)
  if (!found) {
    const word = rest[0] ?? ''
    const guess = closest(word, allNounWords)
    const hint = guess ? `; did you mean "${guess}"?` : ` (one of ${nounList})`
    throw new UsageError(`unknown noun "${word}" for "${verb}"${hint}`, verb)
  }
  const [noun, used] = found
  const command = withVerb.find((c) => c.noun === noun)
  if (!command) {
    const others = commands.filter((c) => c.noun === noun).map((c) => c.verb)
    throw new UsageError(
      `there is no "${verb} ${noun}"; for ${noun}s there is: ${others.join(', ')}`,
      verb,
    )
  }
  return { command, args: rest.slice(used) }
}

/** `vault change-password STORE`: a noun whose commands may be written noun first. */
function matchNounFirst(noun: Noun, words: readonly string[], commands: readonly Command[]): Match {
  const [first, ...rest] = words
  const withNoun = commands.filter((c) => c.noun === noun)
  const verbs = withNoun.map((c) => c.verb)
  if (first === undefined) {
    throw new UsageError(`"${noun}" needs a command: one of ${verbs.join(', ')}`, noun)
  }
  const command = withNoun.find((c) => c.verb === verbOf(first))
  if (!command) {
    const guess = closest(first, verbs)
    const hint = guess ? `; did you mean "${noun} ${guess}"?` : ` (one of ${verbs.join(', ')})`
    throw new UsageError(`unknown command "${noun} ${first}"${hint}`, noun)
  }
  return { command, args: [...rest] }
}

/** Checks the positional count against the command's ArgSpecs. */
export function checkArgs(command: Command, args: readonly string[]): void {
  const specs = command.args ?? []
  const name = commandName(command)
  const missing = specs[args.length]
  if (missing && !missing.optional) {
    throw new UsageError(`missing ${missing.name} for "${name}"`, name)
  }
  const extra = args[specs.length]
  if (extra !== undefined) {
    const quoteHint =
      specs.length > 0 || command.flags?.length ? ' (quote values that contain spaces)' : ''
    throw new UsageError(`unexpected argument "${extra}" for "${name}"${quoteHint}`, name)
  }
}

/** As much of a command as `words` names, for help on partial lines (`bulwark help list`). */
export function partialMatch(words: readonly string[], commands: readonly Command[]): PartialMatch {
  const [first, ...rest] = words
  if (first === undefined) return {}
  const direct = matchNoun(words)
  if (direct) return { noun: direct[0] }
  const verb = verbOf(first)
  if (!commands.some((c) => c.verb === verb)) return {}
  const noun = matchNoun(rest)
  return noun ? { verb, noun: noun[0] } : { verb }
}
