// Light, dark, or whatever the system says; remembered per browser.
import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'

export type ThemeMode = 'system' | 'light' | 'dark'
const KEY = 'bulwark.theme'

export const useTheme = defineStore('theme', () => {
  const stored = localStorage.getItem(KEY)
  const mode = ref<ThemeMode>(stored === 'light' || stored === 'dark' ? stored : 'system')
  const media = window.matchMedia?.('(prefers-color-scheme: dark)')
  const systemDark = ref(media?.matches ?? false)
  media?.addEventListener?.('change', (e) => (systemDark.value = e.matches))
  const dark = computed(() => (mode.value === 'system' ? systemDark.value : mode.value === 'dark'))
  watch(mode, (m) => localStorage.setItem(KEY, m))
  watch(dark, (d) => document.documentElement.setAttribute('data-theme', d ? 'dark' : 'light'), {
    immediate: true,
  })
  return { mode, dark }
})
