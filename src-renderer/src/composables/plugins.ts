// Installed plugins, loaded once per page that needs them.
import { ref } from 'vue'
import type { PluginInfo, PluginKind } from '../../../src-daemon/contract'
import { useConnection } from '../stores/connection'
import { describeError } from './errors'

export function usePlugins(kind?: PluginKind) {
  const conn = useConnection()
  const plugins = ref<PluginInfo[]>([])
  const error = ref<string | null>(null)
  const loading = ref(true)
  const load = async () => {
    try {
      plugins.value = await conn.client.listPlugins(kind)
      error.value = null
    } catch (err) {
      error.value = describeError(err)
    } finally {
      loading.value = false
    }
  }
  void load()
  const find = (name: string) => plugins.value.find((p) => p.name === name)
  return { plugins, error, loading, find, reload: load }
}
