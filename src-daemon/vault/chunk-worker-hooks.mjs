// Module hooks that let Node 20 run the chunk worker's TypeScript sources
// (chunk-worker-source.mjs): TypeScript is compiled as vitest compiles it
// (Vite's oxc transform), and an import without an extension ('./objects')
// finds the .ts file, as it does in the bundler.
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

let transform

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context)
  } catch (err) {
    const relative = specifier.startsWith('.') || specifier.startsWith('/')
    if (relative && context.parentURL?.endsWith('.ts')) return next(`${specifier}.ts`, context)
    throw err
  }
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context)
  transform ??= (await import('vite')).transformWithOxc
  const file = fileURLToPath(url)
  const { code } = await transform(await readFile(file, 'utf8'), file, { lang: 'ts' })
  return { format: 'module', source: code, shortCircuit: true }
}
