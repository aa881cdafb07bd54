// Layout in real Chromium against the real daemon: the sidebar's border runs
// the page's full height, form help does not run into the next field's label,
// the Archives table shows a target's name whole at 1280 px, and at 800 px the
// Jobs table's sticky actions column does not cover the last run.
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

describe.skipIf(skip !== null)('layout in Chromium', () => {
  let d: RunningDaemon
  let b: BrowserSession
  const TARGET = 'customer-documents-share'

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
      name: 'documents-nightly',
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

  it('shows a target’s name whole in the Archives table at 1280 px', async () => {
    const p = await page(1280, 800)
    await p.goto(`${d.url}/#/archives`)
    await p.getByTestId('archive-open').first().waitFor()
    const cut = await p.evaluate(() =>
      [...document.querySelectorAll('.n-data-table-td')]
        .filter((td) => td.textContent?.includes('customer-documents-share'))
        .map((td) => [...td.querySelectorAll('*')].some((e) => e.scrollWidth > e.clientWidth + 1)),
    )
    expect(cut).toEqual([false])
  })

  it('at 800 px the Jobs table’s sticky actions leave the last run readable', async () => {
    const p = await page(800, 800)
    await p.goto(`${d.url}/#/jobs`)
    const row = p.getByTestId('job-row-documents-nightly')
    await row.waitFor()
    // As it opens, and scrolled to its end: the last run beside the actions, not under them.
    const cellsAt = async (end: boolean) => {
      if (end)
        await p.evaluate(() => {
          for (const e of document.querySelectorAll('.n-data-table .n-scrollbar-container'))
            e.scrollLeft = e.scrollWidth
        })
      return row.locator('td').evaluateAll((tds) =>
        tds.map((td) => {
          const r = td.getBoundingClientRect()
          return { left: r.left, right: r.right }
        }),
      )
    }
    for (const end of [false, true]) {
      const cells = await cellsAt(end)
      const actions = cells[cells.length - 1]!
      const runs = cells[cells.length - 2]!
      expect(runs.right, `scrolled to the end: ${end}`).toBeLessThanOrEqual(actions.left + 0.5)
    }
  })
})
