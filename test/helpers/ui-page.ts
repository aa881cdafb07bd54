// Component tests of whole pages (under happy-dom) against a real daemon: a
// page mounted signed in at its path, in the message and dialog providers the
// app gives it, with a router that has the page's routes and a blank page for
// any other path (links the page follows land there).
import { flushPromises, mount } from '@vue/test-utils'
import { NDialogProvider, NMessageProvider } from 'naive-ui'
import { createPinia, setActivePinia } from 'pinia'
import { defineComponent, h, type Component } from 'vue'
import { RouterView, createMemoryHistory, createRouter, type Router } from 'vue-router'
import { useConnection } from '../../src-renderer/src/stores/connection'
import type { RunningDaemon } from './daemon'
import { unmountAll } from './ui'

const mounted: { unmount(): void }[] = []

/**
 * Mounts the app's `routes` at `path` (query included), signed in to `d` with
 * a fresh Pinia, and waits for its first requests. Returns its router.
 */
export async function mountPage(
  d: RunningDaemon,
  path: string,
  routes: { path: string; component: Component }[],
): Promise<Router> {
  setActivePinia(createPinia())
  await useConnection().signInWithToken(d.token)
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [...routes, { path: '/:rest(.*)*', component: { render: () => null } }],
  })
  await router.push(path)
  const Host = defineComponent({
    setup: () => () => h(NMessageProvider, () => h(NDialogProvider, () => h(RouterView))),
  })
  // Real transitions: with <transition-stub> a modal's focus trap cannot find its content.
  mounted.push(
    mount(Host, {
      attachTo: document.body,
      global: { plugins: [router], stubs: { transition: false } },
    }),
  )
  await flushPromises()
  return router
}

/** After each test: unmounts the pages (and editors) mounted, signs out, empties the page. */
export function unmountPages() {
  for (const w of mounted.splice(0)) w.unmount()
  unmountAll()
}
