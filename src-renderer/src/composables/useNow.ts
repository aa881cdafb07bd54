// The current time, ticking: for "in 3 h" and "5 min ago" that stay true.
import { onScopeDispose, ref } from 'vue'

export function useNow(intervalMs = 30_000) {
  const now = ref(Date.now())
  const timer = setInterval(() => (now.value = Date.now()), intervalMs)
  onScopeDispose(() => clearInterval(timer))
  return now
}
