// Lint: typescript-eslint's recommended rules, plus the dependency rules of
// ARCHITECTURE.md as import-x/no-restricted-paths zones (a forbidden import
// fails CI rather than relying on memory).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import importX from 'eslint-plugin-import-x'
import pluginVue from 'eslint-plugin-vue'

const d = (p) => `./src-daemon/${p}`
const ALL_DAEMON = [
  'api',
  'services',
  'catalog',
  'scheduler',
  'tasks',
  'vault',
  'plugin-host',
  'platform',
  'cli',
  'client',
  'main.ts',
  'daemon-entry.ts',
]
const daemonExcept = (...allowed) => ALL_DAEMON.filter((x) => !allowed.includes(x)).map(d)

const zones = [
  // contract is a browser-safe leaf
  {
    target: d('contract'),
    from: [...ALL_DAEMON.map(d), './src-main', './src-renderer', './plugins'],
  },
  // platform is a leaf under everything else
  {
    target: d('platform'),
    from: [...daemonExcept('platform'), d('contract'), './src-main', './src-renderer', './plugins'],
  },
  {
    target: d('client'),
    from: [...daemonExcept('client'), './src-main', './src-renderer', './plugins'],
  },
  {
    target: d('cli'),
    from: [
      ...daemonExcept('cli', 'client', 'platform'),
      './src-main',
      './src-renderer',
      './plugins',
    ],
  },
  { target: './src-renderer', from: [...daemonExcept('client'), './src-main', './plugins'] },
  { target: './src-main', from: [...daemonExcept('client'), './src-renderer', './plugins'] },
  { target: d('api'), from: [...daemonExcept('api', 'services', 'platform'), './plugins'] },
  { target: d('services'), from: [d('api'), d('cli'), d('client'), d('main.ts')] },
  {
    target: d('catalog'),
    from: [
      d('api'),
      d('services'),
      d('tasks'),
      d('scheduler'),
      d('plugin-host'),
      d('vault'),
      d('cli'),
      d('client'),
    ],
  },
  { target: d('tasks'), from: [d('api'), d('services'), d('cli'), d('client')] },
  { target: d('scheduler'), from: [d('api'), d('services'), d('catalog'), d('cli'), d('client')] },
  {
    target: d('vault'),
    from: [d('api'), d('services'), d('tasks'), d('catalog'), d('cli'), d('client')],
  },
  {
    target: d('plugin-host'),
    from: [d('api'), d('services'), d('tasks'), d('catalog'), d('cli'), d('client')],
  },
  // plugins see only the SDK and their own npm packages
  { target: './plugins', from: ['./src-daemon', './src-main', './src-renderer'] },
  { target: './plugins/sdk', from: ['./plugins/targets', './plugins/stores'] },
]

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
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.js', '.json', '.vue'] } } },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['test/**/*.ts', '**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
)
