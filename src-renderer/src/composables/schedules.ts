// Schedules in the UI: timezones to pick from, run times read in a schedule's
// own timezone, the daemon's suggestions from an invalid-schedule error's
// details, and a debounced live preview of the next runs.
import { onScopeDispose, ref, shallowRef, watch, type Ref } from 'vue'
import type { SchedulePreviewResult } from '../../../src-daemon/contract'
import { useConnection } from '../stores/connection'
import { describeError, errorDetails, errorField } from './errors'

/** Shown as placeholders and one-click examples in the schedule editor. */
export const WHEN_EXAMPLES = [
  'daily at 3am',
  'every 4 hours',
  'weekly on sunday at 2:30',
  '0 3 * * *',
] as const

/** The browser's own IANA timezone, or UTC. */
export function browserTimezone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
  } catch {
    return 'UTC'
  }
}

/** "GMT+2", "GMT-4:30" for a timezone right now ('' when the runtime cannot say). */
export function zoneOffset(tz: string, at = new Date()): string {
  try {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      timeZoneName: 'shortOffset',
    }).formatToParts(at)
    return parts.find((p) => p.type === 'timeZoneName')?.value ?? ''
  } catch {
    return ''
  }
}

let zoneCache: { label: string; value: string }[] | null = null

/** Every IANA timezone this browser knows, UTC first, each labelled with its offset now. */
export function timezoneOptions(extra: (string | null | undefined)[] = []) {
  if (!zoneCache) {
    let names: string[]
    try {
      names = Intl.supportedValuesOf('timeZone')
    } catch {
      names = []
    }
    const sorted = [...new Set(names)].filter((n) => n !== 'UTC').sort()
    zoneCache = ['UTC', ...sorted].map((value) => ({ value, label: zoneLabel(value) }))
  }
  const known = new Set(zoneCache.map((o) => o.value))
  const more = [...new Set(extra)]
    .filter((z): z is string => !!z && !known.has(z))
    .map((value) => ({ value, label: zoneLabel(value) }))
  return [...more, ...zoneCache]
}

function zoneLabel(tz: string): string {
  const off = zoneOffset(tz)
  return off && off !== tz ? `${tz} (${off})` : tz
}

/** A run time on the wall clock of the schedule's timezone: "Sun, Mar 8, 2026, 03:00 CET". */
export function fmtInZone(iso: string, tz: string): string {
  const opts: Intl.DateTimeFormatOptions = {
    weekday: 'short',
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  }
  try {
    return new Date(iso).toLocaleString(undefined, { ...opts, timeZone: tz })
  } catch {
    return new Date(iso).toLocaleString(undefined, opts)
  }
}

/** A refused `when`: what is wrong, and the valid schedules the daemon offers instead. */
export interface WhenProblem {
  message: string
  examples: string[]
}

/**
 * The daemon's refusal of a `when`, from its structured details (`problem`,
 * `examples`); without examples the whole message is shown.
 */
export function whenProblemOf(err: unknown): WhenProblem {
  const details = errorDetails(err)
  const examples = Array.isArray(details.examples)
    ? [...new Set(details.examples.filter((e): e is string => typeof e === 'string'))]
    : []
  const problem = typeof details.problem === 'string' ? details.problem : undefined
  return { message: examples.length > 0 && problem ? problem : describeError(err), examples }
}

export interface PreviewState {
  result: Ref<SchedulePreviewResult | null>
  /** The daemon's refusal of `when` (shown under the field). */
  whenError: Ref<WhenProblem | null>
  /** Any other failure (timezone, network). */
  otherError: Ref<string | null>
  loading: Ref<boolean>
}

/**
 * Asks the daemon for the next runs of `when` in `timezone`, ~300 ms after the
 * last change; answers to superseded questions are dropped.
 */
export function useSchedulePreview(
  when: Ref<string>,
  timezone: Ref<string | null>,
  opts: { count?: number; delay?: number; enabled?: Ref<boolean> } = {},
): PreviewState {
  const conn = useConnection()
  const result = shallowRef<SchedulePreviewResult | null>(null)
  const whenError = shallowRef<WhenProblem | null>(null)
  const otherError = ref<string | null>(null)
  const loading = ref(false)
  let timer: ReturnType<typeof setTimeout> | undefined
  let seq = 0

  async function ask(mine: number, w: string, tz: string | null) {
    try {
      const res = await conn.client.previewSchedule({
        when: w,
        ...(tz ? { timezone: tz } : {}),
        count: opts.count ?? 5,
      })
      if (mine !== seq) return
      result.value = res
      whenError.value = null
      otherError.value = null
    } catch (err) {
      if (mine !== seq) return
      result.value = null
      const field = errorField(err)
      whenError.value = field === 'when' ? whenProblemOf(err) : null
      otherError.value = field === 'when' ? null : describeError(err)
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  watch(
    [when, timezone, () => opts.enabled?.value ?? true],
    ([w, tz, enabled]) => {
      clearTimeout(timer)
      const mine = ++seq
      if (!enabled || !w.trim()) {
        result.value = null
        whenError.value = null
        otherError.value = null
        loading.value = false
        return
      }
      loading.value = true
      timer = setTimeout(() => void ask(mine, w.trim(), tz), opts.delay ?? 300)
    },
    { immediate: true },
  )
  onScopeDispose(() => clearTimeout(timer))
  return { result, whenError, otherError, loading }
}

/** Just the weekday and time in a timezone: "Sat 09:00 UTC". */
export function fmtTimeInZone(iso: string, tz: string): string {
  try {
    return new Date(iso).toLocaleString(undefined, {
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      timeZoneName: 'short',
      timeZone: tz,
    })
  } catch {
    return new Date(iso).toLocaleTimeString()
  }
}
