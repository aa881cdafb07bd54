// One table per noun: its verbs in help order, each with its flags (typed, with
// their help), the API call it makes and how the answer is printed (a list's
// columns, a show's fields). defineNoun() turns the table into the Command
// objects that parsing, dispatch and help read, so what every noun does alike
// (resolve the REF, call, print JSON or text, "deleted job …", a test's exit
// code, a task's uuid or --follow) is written here once.
import type { BulwarkClient } from '../../client'
import type { Created } from '../../contract'
import type { ArgSpec, Command, Context, Noun } from '../command'
import { EXIT_FAILED, EXIT_OK } from '../errors'
import type { Cell, Pair } from '../output'
import { resolveRef, type Named, type Resolved } from '../refs'
import { REF_ARG, UUID_ARG, printCreated, printDone, requireSomeFlag } from './common'
import { followTask } from './follow'

/** What a verb knows of its noun. */
export interface NounInfo {
  noun: Noun
  /** The noun in messages ("deleted retention policy …"). */
  kind: string
  /** The argument naming one of them. */
  ref: ArgSpec
  /** The first argument, resolved in the noun's list. */
  resolve(ctx: Context): Promise<Resolved>
}

/** A verb of a noun; defineNoun() gives it the noun. */
export type Verb = (n: NounInfo) => Command

export interface NounTable {
  noun: Noun
  /** Default: the noun. */
  kind?: string
  /** Default: REF (a uuid, a prefix or a name). */
  ref?: ArgSpec | 'UUID'
  /** The list a REF is looked up in; none for a noun named otherwise (a plugin by its name). */
  refs?(client: BulwarkClient): Promise<Named[]>
  verbs: Verb[]
}

export function defineNoun(t: NounTable): Command[] {
  const kind = t.kind ?? t.noun
  const info: NounInfo = {
    noun: t.noun,
    kind,
    ref: t.ref === 'UUID' ? UUID_ARG(kind) : (t.ref ?? REF_ARG(kind)),
    resolve(ctx) {
      const refs = t.refs
      if (!refs) throw new Error(`a ${kind} is not named by a REF`)
      return resolveRef(kind, ctx.args[0] ?? '', () => refs(ctx.client))
    },
  }
  return t.verbs.map((verb) => verb(info))
}

/** What help shows of a verb. */
type Help = Pick<Command, 'summary' | 'details' | 'flags' | 'synopsis' | 'usages'>

/** A column of a list (or a line of a show): its title and its cell. */
export type Column<T, X = undefined> = readonly [title: string, cell: (item: T, extra: X) => Cell]

export interface ListSpec<T, X> extends Help {
  args?: ArgSpec[]
  /** What the verb does when given arguments instead (ls archive UUID: one archive's folder). */
  withArgs?(ctx: Context): Promise<void>
  /** The API call, its query built from the flags. */
  fetch(ctx: Context): Promise<T[]>
  /** More the cells need (the names of jobs), fetched after the list. */
  extra?(ctx: Context, items: T[]): Promise<X>
  columns: Column<T, X>[]
  /** Printed instead of an empty table. */
  empty: string | ((ctx: Context) => string)
}

export const list =
  <T, X = undefined>(spec: ListSpec<T, X>): Verb =>
  (n) => ({
    ...helpOf(spec),
    verb: 'list',
    noun: n.noun,
    ...(spec.args ? { args: spec.args } : {}),
    async run(ctx) {
      if (spec.withArgs && ctx.args.length > 0) return spec.withArgs(ctx)
      const items = await spec.fetch(ctx)
      if (ctx.json) return ctx.out.json(items)
      const extra = (spec.extra ? await spec.extra(ctx, items) : undefined) as X
      ctx.out.table(
        spec.columns.map(([title]) => title),
        items.map((item) => spec.columns.map(([, cell]) => cell(item, extra))),
        typeof spec.empty === 'string' ? spec.empty : spec.empty(ctx),
      )
    },
  })

export interface ShowSpec<T, X> extends Help {
  get(client: BulwarkClient, uuid: string): Promise<T>
  extra?(ctx: Context, item: T): Promise<X>
  fields: Column<T, X>[]
}

export const show =
  <T, X = undefined>(spec: ShowSpec<T, X>): Verb =>
  (n) => ({
    ...helpOf(spec),
    verb: 'show',
    noun: n.noun,
    args: [n.ref],
    async run(ctx) {
      const item = await spec.get(ctx.client, (await n.resolve(ctx)).uuid)
      if (ctx.json) return ctx.out.json(item)
      const extra = (spec.extra ? await spec.extra(ctx, item) : undefined) as X
      ctx.out.pairs(spec.fields.map(([title, cell]): Pair => [title, cell(item, extra)]))
    },
  })

export interface CreateSpec<B extends { name: string }, R extends Created> extends Help {
  /** Checks and reads the flags into the request's body. */
  body(ctx: Context): B | Promise<B>
  call(client: BulwarkClient, body: B): Promise<R>
  /** Default: created KIND "NAME" UUID (with --json, the answer). */
  print?(ctx: Context, res: R, body: B): void
}

export const create =
  <B extends { name: string }, R extends Created>(spec: CreateSpec<B, R>): Verb =>
  (n) => ({
    ...helpOf(spec),
    verb: 'create',
    noun: n.noun,
    async run(ctx) {
      const body = await spec.body(ctx)
      const res = await spec.call(ctx.client, body)
      if (spec.print) spec.print(ctx, res, body)
      else printCreated(ctx, n.kind, body.name, res)
    },
  })

export interface EditSpec<L, B extends object> extends Help {
  /** Flag checks that need no daemon; run before the REF is resolved. */
  check?(ctx: Context): void
  /** What the body is built from: the stored item (and any refs the flags name). */
  load(ctx: Context, ref: Resolved): Promise<L>
  /** The whole item as it should be: the flags given over what `load` read. */
  body(ctx: Context, loaded: L, ref: Resolved): B | Promise<B>
  call(ctx: Context, uuid: string, body: B, loaded: L): Promise<unknown>
}

/**
 * `edit NOUN REF --flag …`: a change that names nothing is refused before
 * anything is asked of the daemon (any of the verb's flags counts).
 */
export const edit =
  <L, B extends object>(spec: EditSpec<L, B>): Verb =>
  (n) => ({
    ...helpOf(spec),
    verb: 'edit',
    noun: n.noun,
    args: [n.ref],
    async run(ctx) {
      requireSomeFlag(
        ctx,
        (spec.flags ?? []).map((f) => f.name),
      )
      spec.check?.(ctx)
      const ref = await n.resolve(ctx)
      const loaded = await spec.load(ctx, ref)
      const body = await spec.body(ctx, loaded, ref)
      const res = await spec.call(ctx, ref.uuid, body, loaded)
      // Named as it is now: the new name, if the edit gave one.
      const name = 'name' in body && typeof body.name === 'string' ? body.name : ref.name
      printDone(ctx, res, 'updated', n.kind, name === undefined ? ref : { uuid: ref.uuid, name })
    },
  })

export interface ActionSpec<R> extends Help {
  verb: string
  call(client: BulwarkClient, uuid: string): Promise<R>
  /** The past tense for "paused job …"; default: the verb + "d". */
  done?: string
  /** Instead of "VERBED KIND REF" (with --json, the answer). */
  print?(ctx: Context, res: R, ref: Resolved): void
}

/** A verb that does one thing to one item: delete, pause, unpause. */
export const action =
  <R>(spec: ActionSpec<R>): Verb =>
  (n) => ({
    ...helpOf(spec),
    verb: spec.verb,
    noun: n.noun,
    args: [n.ref],
    async run(ctx) {
      const ref = await n.resolve(ctx)
      const res = await spec.call(ctx.client, ref.uuid)
      if (spec.print) spec.print(ctx, res, ref)
      else printDone(ctx, res, spec.done ?? `${spec.verb}d`, n.kind, ref)
    },
  })

export interface TestSpec<R extends { ok: boolean }> extends Help {
  call(client: BulwarkClient, uuid: string): Promise<R>
  /** What was found, after "OK: " or "FAILED: ". */
  message(res: R): string
}

/** `test NOUN REF`: print OK or FAILED, exit 0 or 1. */
export const test =
  <R extends { ok: boolean }>(spec: TestSpec<R>): Verb =>
  (n) => ({
    ...helpOf(spec),
    verb: 'test',
    noun: n.noun,
    args: [n.ref],
    async run(ctx) {
      const res = await spec.call(ctx.client, (await n.resolve(ctx)).uuid)
      if (ctx.json) ctx.out.json(res)
      else ctx.out.line(`${res.ok ? 'OK' : 'FAILED'}: ${spec.message(res)}`)
      return res.ok ? EXIT_OK : EXIT_FAILED
    },
  })

export interface TaskSpec<B> extends Help {
  verb: string
  /** The request's body from the flags (an owner, where to restore). */
  body(ctx: Context, ref: Resolved): B | Promise<B>
  call(client: BulwarkClient, uuid: string, body: B): Promise<{ task_uuid: string }>
}

/** A verb that starts a task: prints its uuid, or follows it with --follow. */
export const startTask =
  <B>(spec: TaskSpec<B>): Verb =>
  (n) => ({
    ...helpOf(spec),
    verb: spec.verb,
    noun: n.noun,
    args: [n.ref],
    async run(ctx) {
      const ref = await n.resolve(ctx)
      const body = await spec.body(ctx, ref)
      const start = () => spec.call(ctx.client, ref.uuid, body)
      if (ctx.flags.has('follow')) return followTask(ctx, async () => (await start()).task_uuid)
      const res = await start()
      if (ctx.json) ctx.out.json(res)
      else ctx.out.line(res.task_uuid)
    },
  })

/** A verb of its own kind, written out; it gets the noun and its REF resolver. */
export const custom =
  (make: (n: NounInfo) => Omit<Command, 'noun'>): Verb =>
  (n) => ({ ...make(n), noun: n.noun })

function helpOf(spec: Help): Help {
  const help: Help = { summary: spec.summary }
  if (spec.details !== undefined) help.details = spec.details
  if (spec.flags !== undefined) help.flags = spec.flags
  if (spec.synopsis !== undefined) help.synopsis = spec.synopsis
  if (spec.usages !== undefined) help.usages = spec.usages
  return help
}
