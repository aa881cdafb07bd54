// The find glob of tree archives: '*' and '?' within a segment, '**' across,
// case-insensitive, by name unless the pattern holds a '/'.
import { describe, expect, it } from 'vitest'
import { compileGlob, globMatches } from '../../src-daemon/services/tree-glob'

const matches = (pattern: string, path: string) =>
  globMatches(compileGlob(pattern), path, path.slice(path.lastIndexOf('/') + 1))

describe('tree glob', () => {
  it('matches names when the pattern has no slash', () => {
    expect(matches('*.txt', 'a/b/notes.txt')).toBe(true)
    expect(matches('*.txt', 'notes.txt')).toBe(true)
    expect(matches('*.txt', 'a/notes.txt.bak')).toBe(false)
    expect(matches('*.TXT', 'a/Notes.txt')).toBe(true)
    expect(matches('report.odt', 'docs/report.odt')).toBe(true)
    expect(matches('report', 'docs/report.odt')).toBe(false)
  })

  it("keeps '?' and '*' within one segment", () => {
    expect(matches('?.md', 'x/a.md')).toBe(true)
    expect(matches('?.md', 'x/ab.md')).toBe(false)
    expect(matches('docs/*.md', 'docs/a.md')).toBe(true)
    expect(matches('docs/*.md', 'docs/sub/a.md')).toBe(false)
    expect(matches('docs/?/a.md', 'docs/x/a.md')).toBe(true)
  })

  it("lets '**' cross segments, also none", () => {
    expect(matches('docs/**/*.md', 'docs/a.md')).toBe(true)
    expect(matches('docs/**/*.md', 'docs/x/y/a.md')).toBe(true)
    expect(matches('docs/**/*.md', 'other/docs/a.md')).toBe(false)
    expect(matches('**/*.md', 'a.md')).toBe(true)
    expect(matches('**/*.md', 'deep/er/a.md')).toBe(true)
    expect(matches('docs/**', 'docs/x/y')).toBe(true)
    expect(matches('a**b/c', 'axx/yb/c')).toBe(true)
    expect(matches('***/c', 'a/b/c')).toBe(true)
  })

  it("drops a leading '/' and anchors at the root", () => {
    expect(matches('/docs/*.md', 'docs/a.md')).toBe(true)
    expect(matches('/a.md', 'docs/a.md')).toBe(false)
  })

  it('treats regex characters as literals', () => {
    expect(matches('a.b', 'axb')).toBe(false)
    expect(matches('a.b', 'a.b')).toBe(true)
    expect(matches('[x](y)+$^|{1}', 'dir/[x](y)+$^|{1}')).toBe(true)
    expect(matches('back\\slash', 'back\\slash')).toBe(true)
  })

  it('matches unicode case-insensitively', () => {
    expect(matches('ÉTÉ*', 'photos/été 2026.jpg')).toBe(true)
  })
})
