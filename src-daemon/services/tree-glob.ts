// Name globs for finding entries in a tree archive (GET /v1/archive/:uuid/find):
// '*' is any run of characters within one path segment, '?' one character
// within a segment, '**' any run of whole segments (also none, so
// "docs/**/*.md" matches docs/a.md), case-insensitive. A pattern without '/'
// is matched against an entry's name, one with '/' against its whole path
// (a leading '/' means the archive's root, and is dropped). Everything else,
// '[' and '.' included, is literal: people type file names, not regexes.

export interface TreeGlob {
  /** Whether the pattern is matched against the whole path (it holds a '/'). */
  byPath: boolean
  regex: RegExp
}

const escape = (c: string) => c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')

/** Compiles a glob (see above). Pure; the pattern's length is bounded by the query schema. */
export function compileGlob(pattern: string): TreeGlob {
  const byPath = pattern.includes('/')
  const text = byPath ? pattern.replace(/^\/+/, '') : pattern
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === '*' && text[i + 1] === '*') {
      const start = i
      // Collapse runs of '*' beyond two: "***" means what "**" does.
      while (text[i + 1] === '*') i++
      if (text[i + 1] === '/' && (start === 0 || text[start - 1] === '/')) {
        // "**/" as a whole segment: no segment, or any segments each followed by '/'.
        out += '(?:[^/]*/)*'
        i++
      } else {
        out += '.*'
      }
    } else if (c === '*') {
      out += '[^/]*'
    } else if (c === '?') {
      out += '[^/]'
    } else {
      out += escape(c)
    }
  }
  return { byPath, regex: new RegExp(`^${out}$`, 'iu') }
}

/** Whether an entry (its path, relative, and name) matches the compiled glob. */
export function globMatches(glob: TreeGlob, path: string, name: string): boolean {
  return glob.regex.test(glob.byPath ? path : name)
}
