// Row buttons that spin while their action runs (busy by key, such as
// "run:<uuid>"), a failure shown as an error message.
import { useMessage } from 'naive-ui'
import { ref } from 'vue'
import { describeError } from './errors'

export function useBusy() {
  const message = useMessage()
  const busy = ref(new Set<string>())

  async function withBusy(key: string, fn: () => Promise<void>) {
    busy.value = new Set(busy.value).add(key)
    try {
      await fn()
    } catch (err) {
      message.error(describeError(err), { duration: 8000 })
    } finally {
      const next = new Set(busy.value)
      next.delete(key)
      busy.value = next
    }
  }

  return { busy, withBusy }
}
