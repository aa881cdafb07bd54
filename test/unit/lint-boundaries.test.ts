// The boundaries of eslint.config.js (MAY_IMPORT) hold: for every unit, a
// probe file inside it with one forbidden import fails lint with exactly one
// import-x/no-restricted-paths error, and one with an allowed import passes.
// Probes are written into a temporary folder inside each unit
// (<unit>/__probe_<random>/) and removed afterwards, even when a test fails;
// all of them are linted by one ESLint instance in one call.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ESLint } from 'eslint'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '../..')
const RULE = 'import-x/no-restricted-paths'

/** unit of MAY_IMPORT → a file it may not import, and one it may (paths from the root). */
const PROBES: Record<string, { forbidden: string; allowed: string }> = {
  'src-daemon/contract': {
    forbidden: 'src-daemon/platform/paths.ts',
    allowed: 'src-daemon/contract/errors.ts',
  },
  'src-daemon/platform': {
    forbidden: 'src-daemon/contract/index.ts',
    allowed: 'src-daemon/platform/clock.ts',
  },
  'src-daemon/client': {
    forbidden: 'src-daemon/platform/logger.ts',
    allowed: 'src-daemon/platform/paths.ts',
  },
  'src-daemon/cli': {
    forbidden: 'src-daemon/platform/paths.ts',
    allowed: 'src-daemon/client/data-dir.ts',
  },
  'src-daemon/api': {
    forbidden: 'src-daemon/catalog/catalog.ts',
    allowed: 'src-daemon/services/index.ts',
  },
  'src-daemon/services': {
    forbidden: 'src-daemon/api/server.ts',
    allowed: 'src-daemon/tasks/queue.ts',
  },
  'src-daemon/catalog': {
    forbidden: 'src-daemon/services/index.ts',
    allowed: 'src-daemon/platform/clock.ts',
  },
  'src-daemon/scheduler': {
    forbidden: 'src-daemon/tasks/queue.ts',
    allowed: 'src-daemon/platform/clock.ts',
  },
  'src-daemon/tasks': {
    forbidden: 'src-daemon/services/index.ts',
    allowed: 'src-daemon/vault/reader.ts',
  },
  'src-daemon/agents': {
    forbidden: 'src-daemon/services/index.ts',
    allowed: 'src-daemon/vault/chunker.ts',
  },
  'src-daemon/agent-entry.ts': {
    forbidden: 'src-daemon/services/index.ts',
    allowed: 'src-daemon/agents/agent.ts',
  },
  'src-daemon/vault': {
    forbidden: 'src-daemon/catalog/catalog.ts',
    allowed: 'plugins/sdk/types.ts',
  },
  'src-daemon/vault/import': {
    forbidden: 'src-daemon/services/index.ts',
    allowed: 'src-daemon/catalog/catalog.ts',
  },
  'src-daemon/plugin-host': {
    forbidden: 'plugins/targets/files/index.ts',
    allowed: 'plugins/sdk/index.ts',
  },
  'src-daemon/notify': {
    forbidden: 'src-daemon/api/server.ts',
    allowed: 'src-daemon/catalog/catalog.ts',
  },
  'src-daemon/main.ts': {
    forbidden: 'plugins/stores/fs/index.ts',
    allowed: 'src-daemon/api/server.ts',
  },
  'src-daemon/daemon-entry.ts': {
    forbidden: 'src-daemon/services/index.ts',
    allowed: 'src-daemon/main.ts',
  },
  'src-main': {
    forbidden: 'src-daemon/platform/paths.ts',
    allowed: 'src-daemon/client/data-dir.ts',
  },
  'src-renderer': {
    forbidden: 'src-main/settings.ts',
    allowed: 'src-renderer/src/stores/connection.ts',
  },
  'src-renderer/src/pages': {
    forbidden: 'src-daemon/services/index.ts',
    allowed: 'src-renderer/src/components/EmptyState.vue',
  },
  'src-renderer/src/components': {
    forbidden: 'src-renderer/src/pages/JobsPage.vue',
    allowed: 'src-renderer/src/stores/connection.ts',
  },
  'src-renderer/src/composables': {
    forbidden: 'src-renderer/src/pages/JobsPage.vue',
    allowed: 'src-daemon/client/index.ts',
  },
  'src-renderer/src/stores': {
    forbidden: 'src-renderer/src/composables/errors.ts',
    allowed: 'src-daemon/client/index.ts',
  },
  'plugins/sdk': { forbidden: 'src-daemon/platform/logger.ts', allowed: 'plugins/sdk/errors.ts' },
  'plugins/targets/*': { forbidden: 'plugins/stores/fs/index.ts', allowed: 'plugins/sdk/types.ts' },
  'plugins/stores/*': { forbidden: 'src-daemon/vault/objects.ts', allowed: 'plugins/sdk/types.ts' },
  'plugins/external': { forbidden: 'plugins/sdk/types.ts', allowed: 'plugins/external/dirstore' },
  test: { forbidden: 'scripts/build-if-stale.js', allowed: 'src-daemon/services/index.ts' },
  bin: { forbidden: 'src-daemon/cli/index.ts', allowed: 'bin/bulwark.js' },
  scripts: { forbidden: 'src-daemon/main.ts', allowed: 'scripts/build-if-stale.js' },
  '*.{js,mjs,cjs,ts}': {
    forbidden: 'test/helpers/summary-reporter.ts',
    allowed: 'electron.vite.config.ts',
  },
}

/** A unit that is one file (or root files) has no folder to put a probe in. */
const FILE_UNITS: Record<string, string> = {
  'src-daemon/main.ts': 'src-daemon/main.ts',
  'src-daemon/daemon-entry.ts': 'src-daemon/daemon-entry.ts',
  'src-daemon/agent-entry.ts': 'src-daemon/agent-entry.ts',
  '*.{js,mjs,cjs,ts}': 'vitest.config.ts',
}

interface Boundaries {
  MAY_IMPORT: Record<string, string[]>
  EXCEPTIONS: { file: string; may: string[]; why: string }[]
}

const token = Math.random().toString(36).slice(2, 10)
const probeDirs: string[] = []

/** The folder of a unit a probe goes into: `plugins/targets/*` → its first plugin. */
function folderOf(unit: string): string {
  if (!unit.endsWith('/*')) return unit
  const dir = unit.slice(0, -2)
  const first = readdirSync(join(ROOT, dir), { withFileTypes: true }).find((e) => e.isDirectory())
  return `${dir}/${first!.name}`
}

const specifier = (fromDir: string, file: string): string => {
  const rel = relative(join(ROOT, fromDir), join(ROOT, file))
  return rel.startsWith('.') ? rel : `./${rel}`
}

/** Writes a probe importing `target` into a fresh folder in `dir`; returns its path. */
function probe(dir: string, name: string, target: string): string {
  const probeDir = join(dir, `__probe_${token}`)
  if (!probeDirs.includes(probeDir)) {
    mkdirSync(join(ROOT, probeDir), { recursive: true })
    probeDirs.push(probeDir)
  }
  const file = join(probeDir, `${name}.ts`)
  writeFileSync(join(ROOT, file), `import '${specifier(probeDir, target)}'\n`)
  return file
}

let boundaries: Boundaries
const results = new Map<string, ESLint.LintResult>()
const lintedAs = new Map<string, string>()

beforeAll(async () => {
  // Read as data (a computed specifier, so it is no import of the config).
  const url = pathToFileURL(join(ROOT, 'eslint.config.js')).href
  boundaries = (await import(url)) as Boundaries
  const eslint = new ESLint({ cwd: ROOT })
  const files: string[] = []
  try {
    for (const [unit, { forbidden, allowed }] of Object.entries(PROBES)) {
      if (FILE_UNITS[unit]) continue
      const dir = folderOf(unit)
      files.push(probe(dir, 'forbidden', forbidden), probe(dir, 'allowed', allowed))
      lintedAs.set(`${unit}:forbidden`, files.at(-2)!)
      lintedAs.set(`${unit}:allowed`, files.at(-1)!)
    }
    // A folder in no unit may import nothing of the project.
    files.push(probe('src-daemon', 'undeclared', 'src-daemon/contract/index.ts'))
    lintedAs.set('undeclared', files.at(-1)!)
    // `./x.js` is checked as x.ts, as TypeScript resolves it.
    files.push(probe('src-daemon/tasks', 'dot-js', 'src-daemon/services/index.ts'))
    writeFileSync(join(ROOT, files.at(-1)!), `import '../../services/index.js'\n`)
    lintedAs.set('dot-js', files.at(-1)!)
    // import.meta.glob is an import the zones cannot see: out of its folder, it is flagged.
    files.push(probe('src-daemon/vault', 'glob', 'src-daemon/vault/objects.ts'))
    writeFileSync(join(ROOT, files.at(-1)!), `export const x = import.meta.glob('../../x/*.ts')\n`)
    lintedAs.set('glob', files.at(-1)!)
    for (const r of await eslint.lintFiles(files)) results.set(relative(ROOT, r.filePath), r)
  } finally {
    // Written probes go at once; afterAll removes them again if this threw midway.
    removeProbes()
  }
  // The units that are single files are linted as themselves, with the probe's text.
  for (const [unit, file] of Object.entries(FILE_UNITS)) {
    for (const kind of ['forbidden', 'allowed'] as const) {
      const text = `import '${specifier(dirname(file), PROBES[unit]![kind])}'\n`
      const [r] = await eslint.lintText(text, { filePath: join(ROOT, file) })
      results.set(`${unit}:${kind}`, r!)
      lintedAs.set(`${unit}:${kind}`, `${unit}:${kind}`)
    }
  }
}, 120_000)

function removeProbes(): void {
  for (const dir of probeDirs.splice(0)) rmSync(join(ROOT, dir), { recursive: true, force: true })
}

afterAll(removeProbes)

const messagesOf = (key: string) => {
  const r = results.get(lintedAs.get(key)!)
  expect(r, `${key} was linted`).toBeDefined()
  return r!.messages.map((m) => `${m.ruleId}: ${m.message}`)
}

describe('lint boundaries', () => {
  it('has a probe for every unit of MAY_IMPORT, and names only paths that exist', () => {
    expect(Object.keys(PROBES).sort()).toEqual(Object.keys(boundaries.MAY_IMPORT).sort())
    const named = [
      ...Object.entries(boundaries.MAY_IMPORT).flatMap(([unit, may]) => [unit, ...may]),
      ...boundaries.EXCEPTIONS.flatMap((e) => [e.file, ...e.may]),
    ].filter((p) => !/[*{]/.test(p))
    expect(named.filter((p) => !existsSync(join(ROOT, p)))).toEqual([])
    for (const e of boundaries.EXCEPTIONS) expect(e.why.length, e.file).toBeGreaterThan(20)
  })

  for (const unit of Object.keys(PROBES)) {
    it(`${unit}: a forbidden import fails, an allowed one passes`, () => {
      const forbidden = messagesOf(`${unit}:forbidden`)
      expect(forbidden).toHaveLength(1)
      expect(forbidden[0]).toMatch(new RegExp(`^${RULE}: `))
      expect(messagesOf(`${unit}:allowed`)).toEqual([])
    })
  }

  it('a folder declared nowhere may import nothing of the project', () => {
    const [message, ...more] = messagesOf('undeclared')
    expect(more).toEqual([])
    expect(message).toMatch(new RegExp(`^${RULE}: .*in no unit of MAY_IMPORT`))
  })

  it('an import spelled with .js is checked as the .ts it resolves to', () => {
    expect(messagesOf('dot-js')).toEqual([expect.stringMatching(new RegExp(`^${RULE}: `))])
  })

  it('an import.meta.glob out of its folder fails unless declared (registry.ts)', () => {
    expect(messagesOf('glob')).toEqual([
      expect.stringMatching(/^no-restricted-syntax: import\.meta\.glob out of its folder/),
    ])
  })
})
