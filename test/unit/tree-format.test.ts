// The tree format's pure parts: paths a tree may hold (and those a user may
// give), the NDJSON records read back with every check, tree order, keep-both
// names and the exclude / .bulwarkignore rules.
import { describe, expect, it } from 'vitest'
import {
  TreeParser,
  compareTreePaths,
  normalizeTreePath,
  parseRecord,
  parseTreeRoot,
  pathProblem,
  recordLine,
  type TreeRecord,
} from '../../src-daemon/vault/tree'
import { ignoreRules, ignored } from '../../src-daemon/vault/tree-walk'
import { parseGetfattr, xattrDump } from '../../src-daemon/vault/tree-xattrs'
import { keepBothName, selectRecords } from '../../src-daemon/vault/tree-restore-plan'

const ID = 'a'.repeat(64)
const rec = (path: string, extra: Partial<TreeRecord> = {}): TreeRecord => ({
  path,
  type: 'file',
  mode: 0o644,
  uid: 1000,
  gid: 1000,
  mtime_ns: '1700000000123456789',
  ctime_ns: '1700000000123456789',
  size: 3,
  ino: '42',
  dev: '2049',
  content: [[ID, 10, 2, 3]],
  ...extra,
})

describe('tree paths', () => {
  it('refuses what could leave the directory', () => {
    for (const bad of ['', '/etc/passwd', '../x', 'a/../b', 'a/./b', 'a//b', 'a/', 'a\0b']) {
      expect(pathProblem(bad), JSON.stringify(bad)).toBeDefined()
    }
    for (const good of ['a', 'a/b', 'with space', 'new\nline', 'é☃', '...', '.hidden']) {
      expect(pathProblem(good), JSON.stringify(good)).toBeUndefined()
    }
  })

  it('normalizes what users type', () => {
    expect(normalizeTreePath('/')).toBe('')
    expect(normalizeTreePath('./docs/')).toBe('docs')
    expect(normalizeTreePath('docs/report.odt')).toBe('docs/report.odt')
    expect(normalizeTreePath('docs/../..')).toBeInstanceOf(Error)
  })

  it('orders depth first, names by code unit', () => {
    const paths = ['a.txt', 'a/b', 'a', 'B', 'a/b/c', 'ab']
    expect(paths.sort(compareTreePaths)).toEqual(['B', 'a', 'a/b', 'a/b/c', 'a.txt', 'ab'])
  })
})

describe('tree records', () => {
  it('read back what was written', () => {
    const records = [
      rec('a', { type: 'dir', size: 0, content: undefined }),
      rec('a/f'),
      rec('a/l', { type: 'symlink', size: 0, content: undefined, target: '../../etc' }),
      rec('b', { type: 'hardlink', size: 0, content: undefined, target: 'a/f' }),
    ]
    const parser = new TreeParser('test')
    const text = Buffer.from(records.map(recordLine).join(''))
    // Cut anywhere, even inside a multi-byte character.
    parser.push(text.subarray(0, 7))
    parser.push(text.subarray(7))
    expect(parser.finish()).toEqual(records)
  })

  it('refuse damage with the entry named', () => {
    const line = (r: unknown) => JSON.stringify(r)
    const bad: [unknown, string][] = [
      [{ ...rec('x'), path: '../x' }, 'bad path'],
      [{ ...rec('x'), size: 4 }, 'slices of 3 bytes for a size of 4'],
      [{ ...rec('x'), content: [[ID, 4, 2, 3]] }, 'slice out of its chunk'],
      [{ ...rec('x'), content: [['zz', 10, 0, 3]] }, 'bad chunk id'],
      [{ ...rec('x'), type: 'socket' }, 'bad type'],
      [{ ...rec('x'), mtime_ns: 1.5 }, 'bad mtime_ns'],
      [
        { ...rec('x', { type: 'hardlink', size: 0, content: undefined, target: '/etc/passwd' }) },
        'bad hard link',
      ],
      [{ ...rec('x', { type: 'dir', content: undefined }) }, 'not a file but has a size'],
    ]
    for (const [r, why] of bad) {
      expect(() => parseRecord(line(r), 7, 'archive A: tree')).toThrow(
        new RegExp(`archive A: tree is corrupt: tree entry 7 .*${why.replace(/[()]/g, '.')}`),
      )
    }
    const parser = new TreeParser('t')
    expect(() => parser.push(Buffer.from(recordLine(rec('b')) + recordLine(rec('a'))))).toThrow(
      /out of order/,
    )
  })
})

describe("the directory's own metadata (tree.root)", () => {
  const bad = (why: string) => new Error(`corrupt: ${why}`)
  it('reads back what was written, xattrs included', () => {
    const root = {
      mode: 0o2751,
      uid: 0,
      gid: 5,
      user: 'root',
      group: 'tty',
      mtime_ns: '1500000000654321000',
      xattrs: { 'user.note': 'aGk=' },
    }
    expect(parseTreeRoot(JSON.parse(JSON.stringify(root)), bad)).toEqual(root)
  })

  it('refuses damage, naming the field', () => {
    const good = { mode: 0o755, uid: 1, gid: 1, mtime_ns: '1' }
    expect(() => parseTreeRoot([], bad)).toThrow(/"tree.root" is not an object/)
    expect(() => parseTreeRoot({ ...good, uid: -1 }, bad)).toThrow(/bad uid/)
    expect(() => parseTreeRoot({ ...good, mtime_ns: 1 }, bad)).toThrow(/bad mtime_ns/)
    expect(() => parseTreeRoot({ ...good, xattrs: { 'user.x': '!!' } }, bad)).toThrow(/bad xattrs/)
  })
})

describe("extended attributes in the attr tools' dump format", () => {
  it('reads getfattr output: quoted bytes, the root, empty values; skips what is outside', () => {
    const out = Buffer.from(
      [
        '# file: /src',
        'user.root=0scm9vdA==',
        '',
        '# file: /src/d/new\\012line \\134 \xc3\xa9',
        'user.odd\\075name=0sAAEC',
        'user.empty=0s',
        '',
        '# file: /srcx/other',
        'user.x=0sMQ==',
        '',
      ].join('\n'),
      'latin1',
    )
    expect(parseGetfattr(out, '/src')).toEqual(
      new Map([
        ['', { 'user.root': 'cm9vdA==' }],
        ['d/new\nline \\ é', { 'user.odd=name': 'AAEC', 'user.empty': '' }],
      ]),
    )
  })

  it('writes what it reads back', () => {
    const entries: [string, Record<string, string>][] = [
      ['/to', { 'user.root': 'cm9vdA==' }],
      ['/to/a b\\c\td\né☃', { 'user.a=b': 'AAEC', 'user.empty': '' }],
    ]
    const dump = xattrDump(entries)
    expect(dump).toContain('# file: /to/a\\040b\\134c\\011d\\012é☃\n')
    expect(dump).toContain('user.empty=""\n')
    expect([...parseGetfattr(Buffer.from(dump), '/to')]).toEqual([
      ['', entries[0]![1]],
      ['a b\\c\td\né☃', entries[1]![1]],
    ])
  })
})

describe('restores', () => {
  it('name the kept copy beside the original', () => {
    const at = Date.UTC(2026, 11, 7, 15, 30, 5)
    expect(keepBothName('report.odt', at)).toBe('report.restored-20261207-153005.odt')
    expect(keepBothName('Makefile', at)).toBe('Makefile.restored-20261207-153005')
    expect(keepBothName('.bashrc', at)).toBe('.bashrc.restored-20261207-153005')
  })

  it('select an entry and what is inside it, and name unknown paths', () => {
    const all = ['a', 'a/b', 'a/b/c', 'a.txt', 'ab'].map((p) => rec(p))
    expect(selectRecords(all, ['a']).map((r) => r.path)).toEqual(['a', 'a/b', 'a/b/c'])
    expect(selectRecords(all, undefined)).toBe(all)
    expect(() => selectRecords(all, ['a', 'nope'])).toThrow('not in the archive: nope')
  })
})

describe('exclude rules', () => {
  it('match names at any depth without a slash, anchored with one', () => {
    const rules = [ignoreRules('', ['*.log', 'cache/*', 'node_modules', '# comment', ''])]
    expect(ignored(rules, 'x/y/app.log', 'app.log')).toBe(true)
    expect(ignored(rules, 'cache/a', 'a')).toBe(true)
    expect(ignored(rules, 'sub/cache/a', 'a')).toBe(false)
    expect(ignored(rules, 'cache', 'cache')).toBe(false)
    expect(ignored(rules, 'a/node_modules', 'node_modules')).toBe(true)
    expect(ignored(rules, 'logs', 'logs')).toBe(false)
  })

  it('apply a .bulwarkignore below its own directory only', () => {
    const rules = [ignoreRules('sub', ['tmp', 'build/**'])]
    expect(ignored(rules, 'sub/tmp', 'tmp')).toBe(true)
    expect(ignored(rules, 'sub/x/tmp', 'tmp')).toBe(true)
    expect(ignored(rules, 'tmp', 'tmp')).toBe(false)
    expect(ignored(rules, 'sub/build/a/b', 'b')).toBe(true)
    expect(ignored(rules, 'other/build/a', 'a')).toBe(false)
  })
})
