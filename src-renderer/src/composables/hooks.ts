// The job editor's hooks as rows to edit (docs/hooks.md): one draft per
// command, turned back into the API's shape on save. Blank rows are dropped,
// an empty timeout means the default, and a fractional one is rounded.
import {
  HOOK_PHASES,
  type HookPhase,
  type Job,
  type JobHooksInput,
} from '../../../src-daemon/contract'

export interface HookDraft {
  /** Stable across removals, for v-for. */
  key: number
  command: string
  essential: boolean
  timeout_seconds: number | null
}

export type HookDrafts = Record<HookPhase, HookDraft[]>

let next = 0

export function newHook(phase: HookPhase): HookDraft {
  return { key: ++next, command: '', essential: phase === 'before', timeout_seconds: null }
}

export function toDrafts(hooks: Job['hooks'] | undefined): HookDrafts {
  const drafts = {} as HookDrafts
  for (const phase of HOOK_PHASES) {
    drafts[phase] = (hooks?.[phase] ?? []).map((h) => ({ key: ++next, ...h }))
  }
  return drafts
}

export function fromDrafts(drafts: HookDrafts): JobHooksInput {
  const hooks: JobHooksInput = {}
  for (const phase of HOOK_PHASES) {
    const list = drafts[phase]
      .filter((d) => d.command.trim() !== '')
      .map((d) => ({
        command: d.command.trim(),
        essential: d.essential,
        ...(d.timeout_seconds === null ? {} : { timeout_seconds: Math.round(d.timeout_seconds) }),
      }))
    if (list.length > 0) hooks[phase] = list
  }
  return hooks
}

/** "2 before, 1 after", or "none". */
export function countHooks(drafts: HookDrafts): string {
  const parts = HOOK_PHASES.map(
    (p) => [p, drafts[p].filter((d) => d.command.trim()).length] as const,
  )
    .filter(([, n]) => n > 0)
    .map(([p, n]) => `${n} ${p.replace('_', ' ')}`)
  return parts.length > 0 ? parts.join(', ') : 'none'
}
