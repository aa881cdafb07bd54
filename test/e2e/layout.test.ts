// Layout in real Chromium against the real daemon: the sidebar's border runs
// the page's full height, form help does not run into the next field's label;
// at 1280x800 the Archives table shows a 30-character target name on one
// line, neither wrapped nor cut (narrower, cut with its whole name on hover);
// at 800x700 the Jobs table fits its page without scrolling sideways, and its
// last-run cell is in view, covered by nothing (the row's actions included).
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  browserUnavailable,
  created,
  jobBasics,
  launchBrowser,
  type BrowserSession,
} from '../helpers/browser'
import { startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'
import { runTask } from '../helpers/tasks'

const skip = browserUnavailable()
/** 30 characters, as a real share or database is often called. */
const TARGET = 'customer-documents-share-north'
const JOB = 'documents-nightly'

describe.skipIf(skip !== null)('layout in Chromium', () => {
  let d: RunningDaemon
  let b: BrowserSession

  beforeAll(async () => {
    d = await startDaemon({ env: { BULWARK_WORKERS: '1' } })
    b = await launchBrowser()
    const dir = tempDir('bulwark-e2e-layout-')
    const src = join(dir, 'src')
    mkdirSync(src)
    writeFileSync(join(src, 'a.txt'), 'layout\n')
    const basics = await jobBasics(d, dir)
    const target = await created(d, '/v1/targets', {
      name: TARGET,
      plugin: 'files',
      endpoint: { path: src },
    })
    const job = await created(d, '/v1/jobs', {
      name: JOB,
      target,
      ...basics,
      paused: true,
    })
    const task = await runTask(d, `/v1/job/${job}/run`)
    expect(task.status, task.log).toBe('done')
  }, 90_000)
  afterAll(async () => {
    await b?.close()
    await d?.stop()
  })

  async function page(width: number, height = 800): Promise<Page> {
    const p = await b.newPage({ width, height })
    const link = (await d.api('POST', '/v1/auth/link')).body.url
    await p.goto(link)
    await p.getByRole('heading', { name: 'Dashboard' }).waitFor()
    return p
  }

  /** A signed-in page of the given size, opened at `path`. */
  async function pageAt(width: number, height: number, path: string): Promise<Page> {
    const p = await page(width, height)
    await p.goto(`${d.url}/#${path}`)
    return p
  }

  it('the sidebar border runs the full height, and only the content scrolls', async () => {
    // Short enough that the dashboard is longer than the window.
    const p = await page(1280, 420)
    const { doc, view, border, content } = await p.evaluate(() => ({
      doc: document.documentElement.scrollHeight,
      view: window.innerHeight,
      border: document.querySelector('.n-layout-sider__border')!.getBoundingClientRect().bottom,
      content: document.querySelector('.n-layout-content .n-scrollbar-content')!.scrollHeight,
    }))
    expect(content).toBeGreaterThan(view)
    expect(doc).toBeLessThanOrEqual(view)
    expect(border).toBeGreaterThanOrEqual(view)
  })

  it('form help keeps clear of the next field’s label (4 px at least)', async () => {
    const p = await page(1280, 900)
    await p.goto(`${d.url}/#/targets`)
    await p.getByTestId('new-resource').click()
    await p.getByTestId('plugin-select').click()
    await p.getByText('(postgres)').click()
    await p.locator('input[name="database"]').waitFor()
    const overlaps = await p.evaluate(() => {
      const items = [...document.querySelectorAll('.n-modal .n-form-item')]
      const bad: string[] = []
      for (let i = 0; i + 1 < items.length; i++) {
        const help = items[i]!.querySelector('.n-form-item-feedback')
        const label = items[i + 1]!.querySelector('.n-form-item-label')
        if (!help || !label || !help.textContent) continue
        const h = help.getBoundingClientRect()
        const l = label.getBoundingClientRect()
        if (h.bottom > l.top - 4) bad.push(`${help.textContent} over ${label.textContent}`)
      }
      return bad
    })
    expect(overlaps).toEqual([])
  })

  it('at 1280x800 the Archives table shows a 30-character target name on one line', async () => {
    const p = await pageAt(1280, 800, '/archives')
    await p.getByTestId('archive-open').first().waitFor()
    const name = p.locator('[data-col-key="target_name"] .archive-target-name', {
      hasText: TARGET,
    })
    await name.waitFor()
    const m = await name.evaluate((el) => {
      const range = document.createRange()
      range.selectNodeContents(el)
      const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)))
      return {
        text: el.textContent,
        lines: tops.size,
        scrollWidth: el.scrollWidth,
        clientWidth: el.clientWidth,
        height: el.getBoundingClientRect().height,
        lineHeight: parseFloat(getComputedStyle(el).lineHeight),
      }
    })
    expect(m.text).toBe(TARGET)
    expect(m.lines, JSON.stringify(m)).toBe(1)
    expect(m.scrollWidth, `cut: ${JSON.stringify(m)}`).toBeLessThanOrEqual(m.clientWidth)
    expect(m.height, JSON.stringify(m)).toBeLessThan(m.lineHeight * 1.5)
  })

  it('in a window too narrow for it, the name is cut, and told whole on hover', async () => {
    const p = await pageAt(900, 700, '/archives')
    const name = p.locator('[data-col-key="target_name"] .archive-target-name', {
      hasText: TARGET,
    })
    await name.waitFor()
    const cut = await name.evaluate((el) => el.scrollWidth > el.clientWidth)
    expect(cut).toBe(true)
    await name.hover()
    await expect.poll(() => name.getAttribute('title')).toBe(TARGET)
  })

  it('at 800x700 the Jobs table fits without scrolling sideways, the last run in view', async () => {
    const p = await pageAt(800, 700, '/jobs')
    const row = p.getByTestId(`job-row-${JOB}`)
    await row.waitFor()
    await p.getByTestId(`job-status-${JOB}`).waitFor()
    const m = await row.evaluate((tr) => {
      const table = tr.closest('.n-data-table')!
      const body = tr.closest('.n-data-table-base-table-body')!
      const scroller = body.querySelector('.n-scrollbar-container') ?? body
      const runs = tr.querySelector('[data-col-key="runs"]')!
      const r = runs.getBoundingClientRect()
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)
      const status = tr.querySelector('[data-testid^="job-status-"]')!.getBoundingClientRect()
      const s = status
      const statusHit = document.elementFromPoint(s.left + s.width / 2, s.top + s.height / 2)
      return {
        tableScroll: table.scrollWidth,
        tableClient: table.clientWidth,
        scroll: scroller.scrollWidth,
        client: scroller.clientWidth,
        window: window.innerWidth,
        runs: { left: r.left, right: r.right },
        centreInside: hit !== null && runs.contains(hit),
        statusInside: statusHit !== null && runs.contains(statusHit),
      }
    })
    const detail = JSON.stringify(m)
    expect(m.scroll, detail).toBeLessThanOrEqual(m.client)
    expect(m.tableScroll, detail).toBeLessThanOrEqual(m.tableClient)
    expect(m.runs.left, detail).toBeGreaterThanOrEqual(0)
    expect(m.runs.right, detail).toBeLessThanOrEqual(m.window)
    expect(m.centreInside, detail).toBe(true)
    expect(m.statusInside, detail).toBe(true)
  })
})
