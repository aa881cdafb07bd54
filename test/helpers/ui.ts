// Component tests of the UI (under happy-dom) against a real daemon: the
// daemon on the page's origin, an editor mounted signed in with the providers
// it needs, and the few ways a test reads and types into the page.
import { flushPromises, mount } from '@vue/test-utils'
import { NDialogProvider, NMessageProvider } from 'naive-ui'
import { createPinia, setActivePinia } from 'pinia'
import { defineComponent, h, ref, type Component } from 'vue'
import { createMemoryHistory, createRouter } from 'vue-router'
import { useConnection } from '../../src-renderer/src/stores/connection'
import { startDaemon, type RunningDaemon } from './daemon'

/** A daemon for a file's tests; the page and the daemon share an origin, as when the daemon serves the UI. */
export async function startUiDaemon(
  env: Record<string, string> = { BULWARK_WORKERS: '0' },
): Promise<RunningDaemon> {
  const d = await startDaemon({ env })
  ;(window as any).happyDOM.setURL(d.url + '/')
  return d
}

const mounted: { unmount(): void }[] = []

/**
 * Mounts an editor signed in to `d`, in the message and dialog providers, with
 * `show` as its v-model:show and the uuids it emits as `saved` collected.
 */
export async function mountEditor(d: RunningDaemon, editor: Component, props: object) {
  setActivePinia(createPinia())
  trackRequests()
  await useConnection().signInWithToken(d.token)
  const saved: string[] = []
  current = { saved }
  const show = ref(true)
  const Host = defineComponent({
    setup: () => () =>
      h(NMessageProvider, () =>
        h(NDialogProvider, () =>
          h(editor, {
            ...props,
            show: show.value,
            'onUpdate:show': (v: boolean) => (show.value = v),
            onSaved: (uuid: string) => void saved.push(uuid),
          }),
        ),
      ),
  })
  // Real transitions: with <transition-stub> the modal's focus trap cannot
  // find its content and pulls focus out of the selects, closing their menus.
  // The job form links to the pages where targets and stores are made.
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [{ path: '/:page(.*)*', component: { render: () => null } }],
  })
  const wrapper = mount(Host, {
    attachTo: document.body,
    global: { plugins: [router], stubs: { transition: false } },
  })
  mounted.push(wrapper)
  await flushPromises()
  return { saved, show }
}

/** After each test: unmounts what was mounted, signs out (closing the event stream), empties the page. */
export function unmountAll() {
  for (const w of mounted.splice(0)) w.unmount()
  useConnection().signOut()
  document.body.innerHTML = ''
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Waits (up to `ms`) for `check` to return something truthy. */
export async function until<T>(
  check: () => T | Promise<T>,
  what: string,
  ms = 10_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms
  for (;;) {
    await flushPromises()
    const v = await check()
    if (v) return v as NonNullable<T>
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

export const input = (name: string) =>
  document.querySelector<HTMLInputElement>(`input[name="${name}"]`)!

/** Types `value` into the input named `name`, as a person would. */
export async function type(name: string, value: string) {
  const el = input(name)
  el.value = value
  el.dispatchEvent(new Event('input', { bubbles: true }))
  await flushPromises()
}

export const byTestId = (id: string) => document.querySelector<HTMLElement>(`[data-testid="${id}"]`)
export const allByTestId = (id: string) => [
  ...document.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`),
]
export const text = (id: string) => byTestId(id)?.textContent?.trim() ?? ''

/** Requests the page has sent and finished (see trackRequests). */
const requests = { started: 0, finished: 0 }
let tracked = false
/** Counts the page's fetches, so a test can wait for the daemon's answer rather than for time. */
function trackRequests() {
  if (tracked) return
  tracked = true
  const fetch = globalThis.fetch
  globalThis.fetch = (async (...args: Parameters<typeof fetch>) => {
    requests.started++
    try {
      return await fetch(...args)
    } finally {
      requests.finished++
    }
  }) as typeof fetch
}

/** The `saved` list of the editor mounted last (see mountEditor). */
let current: { saved: string[] } | undefined

/** A refusal the form shows: an error on a field, or the editor's failure alert. */
const refusalShown = () =>
  !!byTestId('editor-error') ||
  [...document.querySelectorAll('.n-form-item-feedback--error')].some((e) => e.textContent?.trim())

/**
 * Clicks the editor's submit button and waits for the outcome: the editor
 * saved, or it shows a refusal (its own, or the daemon's answer), with no
 * request of the page still open and the button no longer busy. Should
 * neither come (a test that expects nothing to happen), it returns after 5 s.
 */
export async function save() {
  const savedBefore = current?.saved.length ?? 0
  const clicked = Date.now()
  const button = byTestId('editor-save')!
  button.click()
  await until(() => {
    if (button.classList.contains('n-button--loading')) return false
    if (requests.finished !== requests.started) return false
    if ((current?.saved.length ?? 0) > savedBefore) return true
    // A refusal already on screen may be the last one: give validation time to clear it or send.
    if (refusalShown()) return Date.now() - clicked > 300
    return Date.now() - clicked > 5000
  }, 'the editor to save or refuse')
  await flushPromises()
}
