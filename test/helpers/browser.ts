// Real Chromium (Debian's /usr/bin/chromium) driven by playwright-core, for the
// UI's end-to-end tests. Outside CI a machine without it skips those tests with
// a message; under CI=true its absence fails them (test/helpers/skip.ts; .ci/run
// installs it). Also
// what those tests share: a page signed in, the main menu, and the store,
// schedule and retention policy a job needs, made through the API.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { expect } from 'vitest'
import type { RunningDaemon } from './daemon'
import { canRun } from './skip'

export const CHROMIUM = process.env.BULWARK_CHROMIUM ?? '/usr/bin/chromium'

/** Why the browser tests cannot run here, or null when they can. */
export function browserUnavailable(): string | null {
  const missing = existsSync(CHROMIUM) ? null : `Chromium at ${CHROMIUM}`
  return canRun(missing, 'apt-get install chromium, or set BULWARK_CHROMIUM') ? null : missing
}

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export interface BrowserSession {
  browser: Browser
  newPage(opts?: { width?: number; height?: number; dark?: boolean }): Promise<Page>
  close(): Promise<void>
}

export async function launchBrowser(): Promise<BrowserSession> {
  // playwright gives each launch a new, empty profile of its own.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS })
  const contexts: BrowserContext[] = []
  return {
    browser,
    async newPage(opts = {}) {
      const context = await browser.newContext({
        viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 },
        colorScheme: opts.dark ? 'dark' : 'light',
      })
      contexts.push(context)
      const page = await context.newPage()
      page.setDefaultTimeout(15_000)
      return page
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined)
      await browser.close()
    },
  }
}

/** Daemons whose printed sign-in link a page has used. */
const printedLinkUsed = new WeakSet<RunningDaemon>()

/** A new page, signed in with a one-time link (the printed one first, then fresh ones). */
export async function signedIn(b: BrowserSession, d: RunningDaemon): Promise<Page> {
  let link = d.signInUrl
  if (printedLinkUsed.has(d)) {
    const res = await d.api('POST', '/v1/auth/link')
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    link = res.body.url
  }
  printedLinkUsed.add(d)
  const page = await b.newPage()
  await page.goto(link)
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor()
  return page
}

/** Opens a page from the main menu, as a person would, and waits for its title. */
export async function goTo(page: Page, name: string) {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name, exact: true })
    .click()
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor()
}

/** POSTs a new resource through the API; its uuid. */
export async function created(d: RunningDaemon, path: string, body: unknown): Promise<string> {
  const res = await d.api('POST', path, body)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.uuid
}

/** The uuids of what a job needs besides its target. */
export interface JobBasics {
  store: string
  schedule: string
  retention: string
}

/** A local store under `dir`, a weekly schedule and a week's retention, for jobs to use. */
export async function jobBasics(d: RunningDaemon, dir: string): Promise<JobBasics> {
  const store = await created(d, '/v1/stores', {
    name: 'local',
    plugin: 'fs',
    endpoint: { path: join(dir, 'store'), vault_password: 'correct horse battery' },
  })
  const schedule = await created(d, '/v1/schedules', {
    name: 'weekly',
    when: 'weekly at 2:30am on sundays',
  })
  const retention = await created(d, '/v1/retention', { name: 'week', expires: 7 * 86400 })
  return { store, schedule, retention }
}
