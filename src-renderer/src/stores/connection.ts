// The connection to the daemon: the token this browser signed in with, one
// API client, and one event stream shared by every page (reconnecting with
// backoff). A 401 anywhere signs the browser out.
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import { ApiError, BulwarkClient } from '../../../src-daemon/client'
import type { DaemonEvent, DaemonStatus } from '../../../src-daemon/contract'

const TOKEN_KEY = 'bulwark.token'

/** The daemon that served this page, unless a dev build points elsewhere. */
export function daemonUrl(): string {
  return (import.meta.env.VITE_BULWARK_URL as string | undefined) ?? window.location.origin
}

export type StreamState = 'off' | 'connecting' | 'live' | 'retrying'

export const useConnection = defineStore('connection', () => {
  const token = ref<string | null>(localStorage.getItem(TOKEN_KEY))
  const signedOutReason = ref<string | null>(null)
  const status = ref<DaemonStatus | null>(null)
  const stream = ref<StreamState>('off')
  const client = shallowRef(makeClient(token.value))
  const signedIn = computed(() => token.value !== null)
  const listeners = new Set<(e: DaemonEvent) => void>()
  /** Bumped on each (re)connect, so pages reload what they may have missed. */
  const epoch = ref(0)
  let abort: AbortController | null = null

  function makeClient(t: string | null): BulwarkClient {
    const c = new BulwarkClient({ url: daemonUrl(), token: t ?? undefined })
    // Wrap request so an expired or revoked token signs the browser out.
    const request = c.request.bind(c)
    c.request = async <T>(...args: Parameters<typeof request>): Promise<T> => {
      try {
        return await request<T>(...args)
      } catch (err) {
        if (err instanceof ApiError && err.status === 401 && t !== null) {
          signOut('The daemon did not accept this browser’s token; sign in again.')
        }
        throw err
      }
    }
    return c
  }

  function setToken(t: string | null) {
    token.value = t
    if (t === null) localStorage.removeItem(TOKEN_KEY)
    else localStorage.setItem(TOKEN_KEY, t)
    client.value = makeClient(t)
    stopStream()
    if (t !== null) startStream()
  }

  /** Trades a sign-in link's one-time code for the token. */
  async function signInWithCode(code: string): Promise<void> {
    const res = await makeClient(null).signIn(code)
    await signInWithToken(res.token)
  }

  /** Checks the token against the daemon before keeping it. */
  async function signInWithToken(t: string): Promise<void> {
    const trial = new BulwarkClient({ url: daemonUrl(), token: t.trim() })
    status.value = await trial.status()
    signedOutReason.value = null
    setToken(t.trim())
  }

  function signOut(reason: string | null = null) {
    signedOutReason.value = reason
    status.value = null
    setToken(null)
  }

  function onEvent(fn: (e: DaemonEvent) => void): () => void {
    listeners.add(fn)
    return () => listeners.delete(fn)
  }

  async function refreshStatus() {
    status.value = await client.value.status()
  }

  function startStream() {
    if (abort || token.value === null) return
    const controller = new AbortController()
    abort = controller
    void (async () => {
      let delay = 1000
      while (!controller.signal.aborted) {
        stream.value = stream.value === 'off' ? 'connecting' : 'retrying'
        try {
          // A dropped connection resumes inside subscribe (Last-Event-ID); only a
          // `reset` (the daemon could not replay what was missed) needs a reload.
          const events = await client.value.subscribe(controller.signal, {
            onConnection: (state) => (stream.value = state),
          })
          stream.value = 'live'
          delay = 1000
          epoch.value++
          void refreshStatus().catch(() => undefined)
          for await (const e of events) {
            if (e.type === 'reset') epoch.value++
            for (const fn of listeners) fn(e)
          }
        } catch (err) {
          if (controller.signal.aborted) break
          if (err instanceof ApiError && err.status === 401) {
            signOut('The daemon did not accept this browser’s token; sign in again.')
            break
          }
        }
        if (controller.signal.aborted) break
        stream.value = 'retrying'
        await new Promise((r) => setTimeout(r, delay))
        delay = Math.min(delay * 2, 10_000)
      }
    })()
  }

  function stopStream() {
    abort?.abort()
    abort = null
    stream.value = 'off'
  }

  if (token.value !== null) startStream()

  return {
    token,
    signedIn,
    signedOutReason,
    status,
    stream,
    epoch,
    client,
    signInWithCode,
    signInWithToken,
    signOut,
    onEvent,
    refreshStatus,
  }
})
