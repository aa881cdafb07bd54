// Real Chromium (Debian's /usr/bin/chromium) driven by playwright-core, for the
// UI's end-to-end tests. Outside CI a machine without it skips those tests with
// a message; under CI=true its absence fails them (.ci/run installs it).
import { existsSync } from 'node:fs'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'

export const CHROMIUM = process.env.BULWARK_CHROMIUM ?? '/usr/bin/chromium'

/** Why the browser tests cannot run here, or null when they can. */
export function browserUnavailable(): string | null {
  if (existsSync(CHROMIUM)) return null
  const why = `Chromium is not installed at ${CHROMIUM} (apt-get install chromium)`
  if (process.env.CI === 'true') throw new Error(`CI=true but ${why}`)
  return why
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
