// bulwark list plugins, show plugin.
import type { FieldSpec } from '../../contract'
import type { Command } from '../command'
import { UsageError } from '../errors'
import { formatTable } from '../output'
import { custom, defineNoun, list } from './noun'

const fieldType = (f: FieldSpec) =>
  f.type === 'enum' && f.values?.length ? `enum(${f.values.join('|')})` : f.type

const fieldDefault = (f: FieldSpec) =>
  f.default === undefined
    ? ''
    : typeof f.default === 'string'
      ? f.default
      : JSON.stringify(f.default)

export const pluginCommands: Command[] = defineNoun({
  noun: 'plugin',
  verbs: [
    list({
      summary: 'list installed target and store plugins',
      flags: [
        { name: 'kind', value: 'target|store', help: 'only target plugins or only store plugins' },
      ],
      fetch(ctx) {
        const kind = ctx.flags.str('kind')
        if (kind !== undefined && kind !== 'target' && kind !== 'store') {
          throw new UsageError(`--kind must be target or store (got "${kind}")`, ctx.command)
        }
        return ctx.client.listPlugins(kind)
      },
      columns: [
        ['NAME', (p) => p.name],
        ['KIND', (p) => p.kind],
        ['VERSION', (p) => p.version],
        ['SOURCE', (p) => p.source],
        ['SUMMARY', (p) => p.summary || p.title],
      ],
      empty: 'no plugins',
    }),
    custom(() => ({
      verb: 'show',
      args: [{ name: 'NAME', help: 'the plugin name, as in list plugins' }],
      summary: 'show a plugin and its endpoint fields (what --set accepts)',
      async run(ctx) {
        const p = await ctx.client.getPlugin(ctx.args[0] ?? '')
        if (ctx.json) return ctx.out.json(p)
        ctx.out.pairs([
          ['Name', p.name],
          ['Kind', p.kind],
          ['Title', p.title],
          ['Version', p.version],
          ['Author', p.author],
          ['Source', p.source],
          ['Summary', p.summary],
          ['Capabilities', p.capabilities.join(', ')],
        ])
        ctx.out.line()
        if (p.fields.length === 0) return ctx.out.line('Fields: none')
        ctx.out.line('Fields:')
        const table = formatTable(
          ['NAME', 'TYPE', 'REQUIRED', 'SECRET', 'DEFAULT', 'HELP'],
          p.fields.map((f) => [
            f.name,
            fieldType(f),
            f.required ? 'yes' : 'no',
            f.secret ? 'yes' : 'no',
            fieldDefault(f),
            f.help ?? f.title,
          ]),
        )
        ctx.out.line(table.trimEnd().replace(/^/gm, '  '))
      },
    })),
  ],
})
