// Signing a browser in, in real Chromium against the real daemon: the printed
// one-time link, staying signed in, signing out, and pasting the token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { browserUnavailable, launchBrowser, type BrowserSession } from '../helpers/browser'
import { startDaemon, type RunningDaemon } from '../helpers/daemon'

const skip = browserUnavailable()

describe.skipIf(skip !== null)('sign-in in Chromium', () => {
  let d: RunningDaemon
  let b: BrowserSession
  beforeAll(async () => {
    d = await startDaemon({ env: { BULWARK_WORKERS: '0' } })
    b = await launchBrowser()
  })
  afterAll(async () => {
    await b?.close()
    await d?.stop()
  })

  it('signs in with the printed link once, drops the code from the address, and stays signed in', async () => {
    const page = await b.newPage()
    await page.goto(d.signInUrl)
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor()
    expect(page.url()).toBe(`${d.url}/#/`)
    expect(await page.evaluate(() => localStorage.getItem('bulwark.token'))).toBe(d.token)
    await page.getByTestId('stream-state').getByText('Live').waitFor()
    // Back does not lead to the code, and a reload keeps the session.
    await page.reload()
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor()
    expect(page.url()).not.toContain('code=')

    // The same link in another browser is spent.
    const other = await b.newPage()
    await other.goto(d.signInUrl)
    await other.getByTestId('signin-error').getByText('already used or has expired').waitFor()
    expect(other.url()).not.toContain('code=')
  })

  it('opens the app, not an error, when a signed-in browser reopens a used link', async () => {
    const page = await b.newPage()
    const link = d.signInUrl.replace(/code=[^&]*/, 'code=used-or-expired-code')
    // Signed in by its token, the browser opens a spent link, in the open app
    // and in a fresh load alike: the dashboard, no error.
    await page.goto(d.url)
    await page.getByTestId('signin-page').waitFor()
    await page.getByLabel('API token').fill(d.token)
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor()
    await page.goto(link)
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor()
    expect(await page.getByTestId('signin-error').count()).toBe(0)
    expect(page.url()).not.toContain('code=')
    await page.goto('about:blank')
    await page.goto(link)
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor()
    expect(await page.getByTestId('signin-error').count()).toBe(0)
    expect(page.url()).not.toContain('code=')
  })

  it('signs out, then in again with the pasted token; a wrong token is refused in words', async () => {
    const page = await b.newPage()
    await page.goto(d.url)
    await page.getByTestId('signin-page').waitFor()
    await page.getByLabel('API token').fill('not-the-token')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByTestId('signin-error').getByText('missing or wrong token').waitFor()
    await page.getByLabel('API token').fill(d.token)
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor()
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByTestId('signin-page').waitFor()
    expect(await page.evaluate(() => localStorage.getItem('bulwark.token'))).toBeNull()
  })

  it('sends a signed-out browser to sign in, and back to the page it asked for', async () => {
    const page = await b.newPage()
    await page.goto(`${d.url}/#/targets`)
    await page.getByTestId('signin-page').waitFor()
    await page.getByLabel('API token').fill(d.token)
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Targets' }).waitFor()
  })
})
