// Lint: typescript-eslint's recommended rules, plus ARCHITECTURE.md's
// dependency rules as allow-lists (a forbidden import fails CI rather than
// relying on memory).
//
// Boundaries. MAY_IMPORT below is the architecture: every folder of the
// layout (a unit) lists what it may import of the project; a unit may always
// import itself and npm packages. Everything else in the project is forbidden:
// each unit gets an import-x/no-restricted-paths zone "anything under the
// project root except the allowed", so a new edge has to be added here, and a
// new folder has to be declared here before anything can import from it or it
// can import anything (an undeclared file may import nothing of the project).
// A nested unit (src-renderer/src/pages inside src-renderer) is its own unit:
// the more specific entry wins. `<folder>/*` makes each sub-folder a unit of
// its own (a plugin may import itself and the SDK, not another plugin).
// EXCEPTIONS are single files allowed one more edge, each with its reason;
// most are debts to pay back (issue 15). Co-located tests (*.test.ts,
// *.spec.ts) may also import test/helpers and test/fixtures.
// test/unit/lint-boundaries.test.ts probes every unit with one forbidden and
// one allowed import.
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import { createNodeResolver, importX } from 'eslint-plugin-import-x'
import pluginVue from 'eslint-plugin-vue'

const ROOT = dirname(fileURLToPath(import.meta.url))

// The daemon's leaves: every server-side unit of the daemon may use them.
const LEAVES = ['src-daemon/contract', 'src-daemon/platform']

/** unit (a folder, a file, or `<folder>/*`) → what it may import besides itself. */
export const MAY_IMPORT = {
  // wire types, schemas, error codes: browser-safe, imports nothing of ours
  'src-daemon/contract': [],
  // paths, logger, secrets, clock: the leaf under the whole daemon
  'src-daemon/platform': [],
  // data-dir.ts: local clients find the data directory as the daemon does
  'src-daemon/client': ['src-daemon/contract', 'src-daemon/platform/paths.ts'],
  // the `bulwark` command is an API client; it finds the daemon's endpoint
  // file in the data directory exactly as the daemon does (paths.ts)
  'src-daemon/cli': ['src-daemon/contract', 'src-daemon/client'],
  // HTTP only; use-cases live in services
  'src-daemon/api': ['src-daemon/services', ...LEAVES],
  'src-daemon/services': [
    'src-daemon/agents',
    'src-daemon/catalog',
    'src-daemon/tasks',
    'src-daemon/scheduler',
    'src-daemon/plugin-host',
    'src-daemon/vault',
    'src-daemon/notify',
    'plugins/sdk',
    ...LEAVES,
  ],
  'src-daemon/catalog': [...LEAVES],
  // computes runs and enqueues through what main.ts hands it
  'src-daemon/scheduler': [...LEAVES],
  // runners get the vault, the registry and the catalog; never services
  'src-daemon/tasks': [
    'src-daemon/catalog',
    'src-daemon/agents',
    'src-daemon/vault',
    'src-daemon/plugin-host',
    'plugins/sdk',
    ...LEAVES,
  ],
  // remote agents: the daemon's listener and links, and the agent itself;
  // the agent runs target plugins and cuts chunks with the vault's chunker
  'src-daemon/agents': [
    'src-daemon/catalog',
    'src-daemon/vault',
    'src-daemon/plugin-host',
    'plugins/sdk',
    ...LEAVES,
  ],
  // chunks, seals and reads archives through the store SDK; knows no catalog
  'src-daemon/vault': ['plugins/sdk', ...LEAVES],
  // import and rescan: what a scan of the store found (which knows no
  // catalog) is recorded in the catalog here, and only here
  'src-daemon/vault/import': ['src-daemon/vault', 'src-daemon/catalog', 'plugins/sdk', ...LEAVES],
  // the registry of built-in and external plugins speaks the SDK (the
  // built-ins themselves: see EXCEPTIONS)
  'src-daemon/plugin-host': ['plugins/sdk', ...LEAVES],
  // events → rules → channels (ARCHITECTURE.md, decisions)
  'src-daemon/notify': ['src-daemon/catalog', ...LEAVES],
  // the composition root wires every server-side unit, and reads its version
  'src-daemon/main.ts': [
    'src-daemon/api',
    'src-daemon/services',
    'src-daemon/catalog',
    'src-daemon/scheduler',
    'src-daemon/tasks',
    'src-daemon/vault',
    'src-daemon/plugin-host',
    'src-daemon/notify',
    'package.json',
    ...LEAVES,
  ],
  'src-daemon/daemon-entry.ts': ['src-daemon/main.ts', ...LEAVES],
  // the agent's own entry: never main.ts (its path helpers must stay in the daemon's bundle)
  'src-daemon/agent-entry.ts': [
    'src-daemon/agents',
    'src-daemon/plugin-host',
    'package.json',
    ...LEAVES,
  ],
  // the desktop shell talks to the daemon over HTTP only; it finds the data
  // directory exactly as the daemon does (paths.ts, a leaf of node:os/path)
  'src-main': ['src-daemon/contract', 'src-daemon/client'],
  // the renderer is a client of /v1: the contract, the client and itself.
  // This entry is its shell (main.ts, App.vue, router.ts, owner.ts); the
  // four folders below are units of their own.
  'src-renderer': [
    'src-renderer/src/pages',
    'src-renderer/src/components',
    'src-renderer/src/composables',
    'src-renderer/src/stores',
    'src-daemon/contract',
    'src-daemon/client',
  ],
  'src-renderer/src/pages': [
    'src-renderer/src/components',
    'src-renderer/src/composables',
    'src-renderer/src/stores',
    'src-renderer/src/owner.ts',
    'src-daemon/contract',
    'src-daemon/client',
  ],
  'src-renderer/src/components': [
    'src-renderer/src/composables',
    'src-renderer/src/stores',
    'src-renderer/src/owner.ts',
    'src-daemon/contract',
  ],
  // data fetched for pages and components
  'src-renderer/src/composables': [
    'src-renderer/src/stores',
    'src-renderer/src/owner.ts',
    'src-daemon/contract',
    'src-daemon/client',
  ],
  // Pinia: shared state only
  'src-renderer/src/stores': ['src-daemon/contract', 'src-daemon/client'],
  // interfaces, errors, conformance suites; the manifest's field schema is
  // the wire contract's (types only, one declaration for both sides)
  'plugins/sdk': ['src-daemon/contract/plugins.ts'],
  // each plugin: itself, the SDK and its own npm packages
  'plugins/targets/*': ['plugins/sdk'],
  'plugins/stores/*': ['plugins/sdk'],
  // executables speaking the plugin protocol, run as they are
  'plugins/external': [],
  // tests exercise every layer
  test: ['src-daemon', 'src-main', 'src-renderer', 'plugins'],
  // run the build output by path, import nothing of the sources
  bin: [],
  scripts: [],
  '*.{js,mjs,cjs,ts}': [], // eslint, vite and vitest configs
}

/**
 * Single files allowed more than their unit, and why. `via: 'import.meta.glob'`
 * also lets the file glob out of its folder (which the import rule cannot see).
 */
export const EXCEPTIONS = [
  {
    file: 'src-daemon/plugin-host/registry.ts',
    may: ['plugins/{targets,stores}/*/manifest.json', 'plugins/{targets,stores}/*/index.ts'],
    via: 'import.meta.glob',
    why: 'the one way the daemon reaches a concrete plugin: built-ins are found by import.meta.glob over their manifests and loaded lazily, so adding a plugin folder changes no core code',
  },
  {
    file: 'src-renderer/src/composables/taskView.ts',
    may: ['src-renderer/src/components/TaskLink.vue'],
    why: 'its Naive UI table columns are render functions that draw a TaskLink',
  },
  {
    file: 'src-renderer/src/components/AppShell.vue',
    may: ['src-renderer/src/router.ts'],
    why: "the app frame's navigation menu is the router's list of pages",
  },
]

// Co-located tests may also use the shared test helpers and fixtures.
const TEST_FILES = ['**/*.test.ts', '**/*.spec.ts']
const TEST_SUPPORT = ['test/helpers', 'test/fixtures']

const isGlob = (p) => /[*?{}[\]]/.test(p)
const escapeGlob = (p) => p.replace(/[*?{}[\]()!+@\\]/g, '\\$&')
const isFileLike = (p) => /\.[a-z]+$/.test(p) || p.endsWith('}')

/** The absolute glob an entry of the table covers (a folder: all below it). */
function globOf(entry) {
  if (isGlob(entry)) return `${escapeGlob(ROOT)}/${entry}`
  if (!isFileLike(entry)) return `${escapeGlob(join(ROOT, entry))}/**`
  // the rule takes exceptions only as globs: @(name) is the file itself
  return `${escapeGlob(dirname(join(ROOT, entry)))}/@(${escapeGlob(entry.split('/').at(-1))})`
}

/** Lint `files` patterns of a unit (relative to this file). */
const filesOf = (unit) => (isFileLike(unit) ? [unit] : [`${unit}/**`])

/** `plugins/targets/*` → one unit per plugin folder. */
function expand(unit) {
  if (!unit.endsWith('/*')) return [unit]
  const dir = unit.slice(0, -2)
  return readdirSync(join(ROOT, dir), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => `${dir}/${e.name}`)
}

function zone(name, self, allowed) {
  const list = allowed.length ? allowed.join(', ') : 'nothing of the project'
  return {
    target: '.',
    from: './**',
    except: ['**/node_modules/**', ...[...self, ...allowed].map(globOf)],
    message: `${name} may import only itself and ${list} (MAY_IMPORT in eslint.config.js).`,
  }
}

const rule = (z) => ({
  rules: { 'import-x/no-restricted-paths': ['error', { basePath: ROOT, zones: [z] }] },
})

/** One config block per unit (deeper units later, so they win), then tests, then exceptions. */
function boundaryConfigs() {
  const units = Object.entries(MAY_IMPORT)
    .flatMap(([unit, may]) => expand(unit).map((u) => [u, may]))
    .sort(([a], [b]) => a.split('/').length - b.split('/').length)
  const byUnit = new Map(units)
  const ownerOf = (file) =>
    units
      .map(([u]) => u)
      .filter((u) => file === u || file.startsWith(`${u}/`))
      .at(-1)
  const undeclared = {
    files: ['**/*.{js,mjs,cjs,ts,mts,cts,tsx,vue}'],
    ...rule({
      target: '.',
      from: './**',
      except: ['**/node_modules/**'],
      message:
        'this file is in no unit of MAY_IMPORT in eslint.config.js: declare its folder there.',
    }),
  }
  return [
    undeclared,
    ...units.map(([u, may]) => ({ files: filesOf(u), ...rule(zone(u, [u], may)) })),
    ...units
      .filter(([u]) => !isFileLike(u))
      .map(([u, may]) => ({
        files: TEST_FILES.map((t) => `${u}/${t}`),
        ...rule(zone(`${u} (tests)`, [u], [...may, ...TEST_SUPPORT])),
      })),
    ...EXCEPTIONS.map(({ file, may }) => {
      const unit = ownerOf(file)
      return { files: [file], ...rule(zone(file, [unit], [...byUnit.get(unit), ...may])) }
    }),
  ]
}

// import.meta.glob is an import the rule above does not see: one that climbs
// out of its folder must be an EXCEPTION (registry.ts's built-ins).
const GLOB_OUT_OF_FOLDER = {
  selector:
    "CallExpression[callee.object.type='MetaProperty'][callee.property.name=/^glob/][arguments.0.value=/\\.\\.\\//]",
  message:
    'import.meta.glob out of its folder bypasses the boundaries: declare it in EXCEPTIONS (eslint.config.js).',
}
const globExceptions = EXCEPTIONS.filter((e) => e.via === 'import.meta.glob').map((e) => e.file)

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...pluginVue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: {
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'] },
    },
    rules: {
      // vue-tsc checks names; prettier owns the layout.
      'no-undef': 'off',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/multiline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/html-indent': 'off',
      'vue/html-closing-bracket-newline': 'off',
      'vue/first-attribute-linebreak': 'off',
      'vue/multi-word-component-names': 'off',
    },
  },
  {
    plugins: { 'import-x': importX },
    settings: {
      // `./x.js` resolves to x.ts as TypeScript does, and `?worker`-style
      // suffixes are dropped, so such imports are checked too.
      'import-x/resolver-next': [
        createNodeResolver({
          extensions: ['.ts', '.js', '.mjs', '.json', '.vue'],
          extensionAlias: { '.js': ['.ts', '.js'] },
        }),
      ],
    },
    rules: {
      'no-restricted-syntax': ['error', GLOB_OUT_OF_FOLDER],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  ...boundaryConfigs(),
  ...globExceptions.map((file) => ({ files: [file], rules: { 'no-restricted-syntax': 'off' } })),
  {
    files: ['test/**/*.ts', '**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly' },
    },
  },
)
