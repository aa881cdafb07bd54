// The daemon's health signals (GET /v1/health), kept live: reloaded when the
// event stream says one was raised or cleared, and when the stream
// reconnects (events may have been missed meanwhile).
import { computed, onScopeDispose, ref, shallowRef, watch } from 'vue'
import type { HealthReport, HealthSignal, HealthSignalKind } from '../../../src-daemon/contract'
import { useConnection } from '../stores/connection'
import { describeError } from './errors'

export function useHealth() {
  const conn = useConnection()
  const report = shallowRef<HealthReport | null>(null)
  const loading = ref(true)
  const error = ref<string | null>(null)
  let timer: ReturnType<typeof setTimeout> | undefined
  let seq = 0

  async function reload() {
    const mine = ++seq
    try {
      const next = await conn.client.getHealth()
      if (mine !== seq) return
      report.value = next
      error.value = null
    } catch (err) {
      if (mine === seq) error.value = describeError(err)
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  // One check raises or clears several at once: one reload for the burst.
  const off = conn.onEvent((e) => {
    if (e.type !== 'health') return
    clearTimeout(timer)
    timer = setTimeout(() => void reload(), 100)
  })
  const stop = watch(
    () => conn.epoch,
    () => void reload(),
    { immediate: true },
  )
  onScopeDispose(() => {
    off()
    stop()
    clearTimeout(timer)
  })
  const signals = computed<HealthSignal[]>(() => report.value?.signals ?? [])
  return { signals, report, loading, error, reload }
}

/** How each kind of signal is titled on screen. */
export const SIGNAL_TITLE: Record<HealthSignalKind, string> = {
  stale: 'No recent backup',
  shrunk: 'Archive much smaller than usual',
  'low-space': 'Store running out of space',
  'verify-overdue': 'Verify overdue',
  invalid: 'Archive failed verification',
}

/** Where a signal's subject is seen in the UI, and what the link says. */
export function signalLink(s: HealthSignal): { to: string; label: string } {
  const archive = typeof s.details.archive_uuid === 'string' ? s.details.archive_uuid : null
  if (s.signal === 'verify-overdue' && archive) {
    return { to: `/archives/${archive}`, label: 'Open the archive' }
  }
  switch (s.subject.kind) {
    case 'job':
      return { to: `/tasks?job=${s.subject.uuid}`, label: `Tasks of ${s.subject.name}` }
    case 'archive':
      return { to: `/archives/${s.subject.uuid}`, label: 'Open the archive' }
    case 'store':
      return { to: '/stores', label: 'Stores' }
  }
}
