// @vitest-environment happy-dom
// The archive page's Files section against a real daemon and a real tree
// archive (a files target over a temp dir, backed up by its job): browsing
// the root, a folder, breadcrumbs back, paging with "Load more", a search by
// name and back, two files ticked and restored into a new directory with
// each conflict choice (compared on disk), a file's download link fetched,
// and the comparison with an older archive after files changed. Also the
// path and mode helpers the section reads with, and a dump archive saying it
// cannot be browsed.
import { flushPromises } from '@vue/test-utils'
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import type { Archive } from '../../src-daemon/contract'
import ArchivePage from '../../src-renderer/src/pages/ArchivePage.vue'
import {
  crumbs,
  fmtDelta,
  isAbsolutePath,
  modeString,
  restorePaths,
  restoreSummary,
  searchPattern,
} from '../../src-renderer/src/composables/tree'
import { tempDir, type RunningDaemon } from '../helpers/daemon'
import { runTask, waitForTask } from '../helpers/tasks'
import { allByTestId, byTestId, startUiDaemon, text, type, unmountAll, until } from '../helpers/ui'
import { mountPage, unmountPages } from '../helpers/ui-page'

describe('tree helpers', () => {
  it('reads modes as ls -l does', () => {
    expect(modeString('dir', 0o755)).toBe('drwxr-xr-x')
    expect(modeString('file', 0o644)).toBe('-rw-r--r--')
    expect(modeString('file', 0o4750)).toBe('-rwsr-x---')
    expect(modeString('file', 0o2640)).toBe('-rw-r-S---')
    expect(modeString('dir', 0o1777)).toBe('drwxrwxrwt')
    expect(modeString('symlink', 0o777)).toBe('lrwxrwxrwx')
    expect(modeString('fifo', 0o600)).toBe('prw-------')
  })
  it('makes breadcrumbs, patterns, deltas and restore paths', () => {
    expect(crumbs('')).toEqual([{ name: 'root', path: '' }])
    expect(crumbs('a/b c/d')).toEqual([
      { name: 'root', path: '' },
      { name: 'a', path: 'a' },
      { name: 'b c', path: 'a/b c' },
      { name: 'd', path: 'a/b c/d' },
    ])
    expect(searchPattern(' report ')).toBe('*report*')
    expect(searchPattern('*.odt')).toBe('*.odt')
    expect(fmtDelta(1229)).toBe('+1.2 KiB')
    expect(fmtDelta(-300)).toBe('−300 B')
    expect(fmtDelta(0)).toBe('±0 B')
    // A ticked folder restores what is inside it: its files are not asked twice.
    expect(restorePaths(['docs/a', 'docs', 'docsx/b', 'notes'])).toEqual([
      'docs',
      'docsx/b',
      'notes',
    ])
    expect(isAbsolutePath('/home/ann')).toBe(true)
    expect(isAbsolutePath('C:\\Users\\ann')).toBe(true)
    expect(isAbsolutePath('home/ann')).toBe(false)
    expect(isAbsolutePath('./x')).toBe(false)
    expect(restoreSummary(['a', 'b', 'c'], '/home/ann/docs', 'overwrite')).toBe(
      'Restores 3 items into /home/ann/docs; existing files are overwritten.',
    )
    expect(restoreSummary([], '/x', 'keep-both')).toMatch(/^Restores the whole archive into \/x; /)
    expect(restoreSummary(['docs/r.odt'], '/x', 'refuse')).toBe(
      'Restores docs/r.odt into /x; if any file already exists there, nothing is written.',
    )
  })
})

describe('against a real daemon and tree archive', () => {
  let d: RunningDaemon
  const source = tempDir('bulwark-ui-tree-src-')
  let archive: Archive
  let older: Archive
  let dump: Archive

  async function created(path: string, body: unknown): Promise<string> {
    const res = await d.api('POST', path, body)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    return res.body.uuid
  }

  /** Mounts the archive page of `uuid` (`query` after it), signed in, with the message and dialog providers. */
  const mountArchive = (uuid: string, query = '') =>
    mountPage(d, `/archives/${uuid}${query}`, [{ path: '/archives/:uuid', component: ArchivePage }])

  /** The paths of the rows the browser shows, in order. */
  const rows = () =>
    allByTestId('tree-table')
      .flatMap((t) => [...t.querySelectorAll<HTMLElement>('tr[data-testid^="tree-row-"]')])
      .map((r) => r.dataset.testid!.slice('tree-row-'.length))

  async function click(el: HTMLElement) {
    el.click()
    await flushPromises()
  }
  const tick = (path: string) => click(byTestId(`tree-select-${path}`)!)
  const radio = (testid: string) => byTestId(testid)!

  /** The newest toast saying how a task ended. */
  const ended = () => allByTestId('toast-task-ended').at(-1)?.textContent ?? ''

  beforeAll(async () => {
    d = await startUiDaemon({ BULWARK_WORKERS: '1' })
    mkdirSync(join(source, 'docs', 'sub'), { recursive: true })
    mkdirSync(join(source, 'many'))
    writeFileSync(join(source, 'docs', 'a.txt'), 'alpha\n'.repeat(100))
    writeFileSync(join(source, 'docs', 'b.txt'), 'bravo\n')
    writeFileSync(join(source, 'docs', 'sub', 'report.odt'), 'report v1\n')
    writeFileSync(join(source, 'notes.md'), '# notes\n')
    // More than a page (200) in one folder.
    for (let i = 0; i < 205; i++)
      writeFileSync(join(source, 'many', `f${String(i).padStart(3, '0')}`), `${i}\n`)
    const store = await created('/v1/stores', {
      name: 'ui-tree-store',
      plugin: 'fs',
      endpoint: { path: tempDir('bulwark-ui-tree-store-'), vault_password: 'tree browser pw' },
    })
    const schedule = await created('/v1/schedules', { name: 'daily', when: 'daily at 4am' })
    const retention = await created('/v1/retention', { name: 'week', expires: 7 * 86400 })
    const target = await created('/v1/targets', {
      name: 'ui-tree-src',
      plugin: 'files',
      endpoint: { path: source },
    })
    const job = await created('/v1/jobs', {
      name: 'ui-tree-job',
      target,
      store,
      schedule,
      retention,
      paused: true,
    })
    const first = await runTask(d, `/v1/job/${job}/run`)
    expect(first.status, first.log).toBe('done')
    older = (await d.api<Archive>('GET', `/v1/archive/${first.archive_uuid}`)).body
    expect(older.format).toBe('tree')

    // Then a file grows, one is removed and one added: the second archive.
    writeFileSync(join(source, 'docs', 'a.txt'), 'alpha\n'.repeat(300))
    rmSync(join(source, 'notes.md'))
    writeFileSync(join(source, 'docs', 'c.txt'), 'charlie\n')
    const second = await runTask(d, `/v1/job/${job}/run`)
    expect(second.status, second.log).toBe('done')
    archive = (await d.api<Archive>('GET', `/v1/archive/${second.archive_uuid}`)).body

    // A command's output: one dump, not a tree.
    const exec = await created('/v1/targets', {
      name: 'ui-tree-dump',
      plugin: 'exec',
      endpoint: { backup_command: 'echo dump', restore_command: 'cat >/dev/null' },
    })
    const dumpJob = await created('/v1/jobs', {
      name: 'ui-tree-dump-job',
      target: exec,
      store,
      schedule,
      retention,
      paused: true,
    })
    const third = await runTask(d, `/v1/job/${dumpJob}/run`)
    expect(third.status, third.log).toBe('done')
    dump = (await d.api<Archive>('GET', `/v1/archive/${third.archive_uuid}`)).body
  }, 120_000)
  afterAll(async () => {
    await d.stop()
  })
  afterEach(() => {
    unmountPages()
    vi.restoreAllMocks()
  })

  describe('the Files section', () => {
    it('says a dump archive cannot be browsed', async () => {
      await mountArchive(dump.uuid)
      await until(() => byTestId('tree-not-browsable'), 'the note')
      expect(text('tree-not-browsable')).toContain('single dump; it cannot be browsed')
      expect(byTestId('tree-browser')).toBeNull()
    })

    it('browses the root, a folder and back by the breadcrumbs, with sizes, dates and modes', async () => {
      const router = await mountArchive(archive.uuid)
      await until(() => rows().length > 0, 'the root listed')
      expect(rows()).toEqual(['docs', 'many'])
      await click(byTestId('tree-open-docs')!)
      await until(() => rows().includes('docs/a.txt'), 'docs listed')
      expect(rows()).toEqual(['docs/a.txt', 'docs/b.txt', 'docs/c.txt', 'docs/sub'])
      const a = byTestId('tree-row-docs/a.txt')!
      expect(a.textContent).toContain('1.8 KiB') // 1800 bytes
      expect(a.textContent).toContain('-rw-r--r--')
      await click(byTestId('tree-open-docs/sub')!)
      await until(() => rows().includes('docs/sub/report.odt'), 'docs/sub listed')
      expect(text('tree-crumbs').replace(/\s+/g, '')).toBe('root/docs/sub')
      // The folder is in the page's address.
      expect(router.currentRoute.value.query.path).toBe('docs/sub')
      await click(byTestId('tree-crumb-docs')!)
      await until(() => rows().includes('docs/a.txt'), 'back in docs')
      await click(byTestId('tree-crumb-root')!)
      await until(() => rows().includes('many'), 'back at the root')
      expect(router.currentRoute.value.query.path).toBeUndefined()
    })

    it('opens at the folder a link names (?path=)', async () => {
      const router = await mountArchive(archive.uuid, '?path=docs%2Fsub')
      await until(() => rows().join() === 'docs/sub/report.odt', 'docs/sub listed')
      await router.push(`/archives/${archive.uuid}?path=docs`)
      await until(() => rows().includes('docs/c.txt'), 'docs listed')
    })

    it('pages through a big folder with Load more', async () => {
      await mountArchive(archive.uuid)
      await until(() => byTestId('tree-open-many'), 'the root listed')
      await click(byTestId('tree-open-many')!)
      await until(() => rows().length === 200, 'the first page')
      expect(text('tree-load-more')).toContain('200 of 205 shown')
      await click(byTestId('tree-load-more')!)
      await until(() => rows().length === 205, 'the second page')
      expect(rows().at(-1)).toBe('many/f204')
      expect(byTestId('tree-load-more')).toBeNull()
      // "Select all on this page" ticks every row shown, and unticks them again.
      await click(byTestId('tree-select-all')!)
      expect(text('tree-selection-count')).toBe('205 selected')
      expect(byTestId('tree-select-many/f204')!.getAttribute('aria-checked')).toBe('true')
      await click(byTestId('tree-select-all')!)
      expect(text('tree-selection-count')).toBe('Nothing selected')
    }, 60_000) // happy-dom draws 205 rows slowly

    it('searches by name, opens a folder match, and Esc returns to browsing', async () => {
      await mountArchive(archive.uuid)
      await until(() => rows().length > 0, 'the root listed')
      await type('tree-search', 'report')
      await click(byTestId('tree-search-go')!)
      await until(() => rows().includes('docs/sub/report.odt'), 'the match')
      expect(rows()).toEqual(['docs/sub/report.odt'])
      expect(text('tree-search-heading')).toBe('1 match for “report”')
      // The full path is shown.
      expect(text('tree-name-docs/sub/report.odt')).toBe('docs/sub/report.odt')

      await type('tree-search', 'sub')
      const box = document.querySelector<HTMLInputElement>('input[name="tree-search"]')!
      box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }))
      await until(() => rows().includes('docs/sub'), 'the folder match')
      await click(byTestId('tree-open-docs/sub')!)
      await until(
        () => rows().includes('docs/sub/report.odt') && !byTestId('tree-search-heading'),
        'docs/sub browsed',
      )

      await type('tree-search', '*.txt')
      await click(byTestId('tree-search-go')!)
      await until(() => rows().length === 3, 'three .txt matches')
      box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }))
      await until(() => rows().join() === 'docs/sub/report.odt', 'browsing docs/sub again')
      expect(byTestId('tree-search-heading')).toBeNull()
    })

    it('downloads a file as itself and a folder as a tar or a zip through single-use links', async () => {
      const links: string[] = []
      vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (
        this: HTMLAnchorElement,
      ) {
        links.push(this.href)
      })
      await mountArchive(archive.uuid)
      await until(() => byTestId('tree-open-docs'), 'the root listed')
      await click(byTestId('tree-open-docs')!)
      await until(() => byTestId('tree-download-docs/b.txt'), 'docs listed')
      await click(byTestId('tree-download-docs/b.txt')!)
      await until(() => links.length === 1, 'the link followed')
      expect(links[0]).toMatch(
        new RegExp(`^${d.url}/v1/archive/${archive.uuid}/download\\?ticket=`),
      )
      const res = await fetch(links[0]!)
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('bravo\n')
      // A folder comes as a tar, or a zip, holding its files under its name.
      expect(byTestId('tree-download-docs/sub')!.textContent).toContain('.tar')
      await click(byTestId('tree-download-docs/sub')!)
      await until(() => links.length === 2, 'the tar link followed')
      const tar = Buffer.from(await (await fetch(links[1]!)).arrayBuffer())
      expect(tar.subarray(257, 262).toString()).toBe('ustar')
      expect(tar.toString('latin1')).toContain('sub/report.odt')
      expect(tar.toString('latin1')).toContain('report v1\n')
      await click(byTestId('tree-download-zip-docs/sub')!)
      await until(() => links.length === 3, 'the zip link followed')
      const zip = Buffer.from(await (await fetch(links[2]!)).arrayBuffer())
      expect(zip.subarray(0, 4).toString('latin1')).toBe('PK\x03\x04')
      expect(zip.toString('latin1')).toContain('sub/report.odt')
    })

    it('compares with the older archive (and from it, the newer): added, removed and modified, each browsable', async () => {
      await mountArchive(archive.uuid)
      await until(() => byTestId('tree-diff-other'), 'the comparison')
      const selection =
        byTestId('tree-diff-other')!.querySelector<HTMLElement>('.n-base-selection')!
      await until(
        () => text('tree-diff-other').includes('another archive of this target'),
        'the other archives',
      )
      selection.click()
      await flushPromises()
      selection.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }))
      await flushPromises()
      selection.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }))
      await until(() => byTestId('tree-diff-added'), 'the diff')
      expect(text('tree-diff-added-count')).toBe('(1)')
      expect(text('tree-diff-removed-count')).toBe('(1)')
      expect(byTestId('tree-diff-added-docs/c.txt')).not.toBeNull()
      expect(byTestId('tree-diff-removed-notes.md')).not.toBeNull()
      // a.txt grew from 600 to 1800 bytes.
      expect(text('tree-diff-modified-docs/a.txt')).toContain('+1.2 KiB')
      await click(byTestId('tree-diff-added-docs/c.txt')!.querySelector('button')!)
      await until(() => rows().includes('docs/c.txt'), 'docs browsed from the diff')
      expect(text('tree-diff-direction')).toMatch(
        /^Changes from ui-tree-src of .* to ui-tree-src of .*\.$/,
      )
      const direction = text('tree-diff-direction')
      unmountAll()

      // From the older archive, the newer one: the same changes, the same way round.
      await mountArchive(older.uuid)
      const other = await until(
        () =>
          (text('tree-diff-other').includes('another archive of this target') &&
            byTestId('tree-diff-other')!.querySelector<HTMLElement>('.n-base-selection')) ||
          null,
        'the other archives',
      )
      other.click()
      await flushPromises()
      other.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }))
      await flushPromises()
      other.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }))
      await until(() => byTestId('tree-diff-added'), 'the diff')
      expect(text('tree-diff-direction')).toBe(direction)
      expect(text('tree-diff-modified-docs/a.txt')).toContain('+1.2 KiB')
      expect(byTestId('tree-diff-added-docs/c.txt')).not.toBeNull()
    })
  })

  describe('restoring ticked files', () => {
    const dest = tempDir('bulwark-ui-tree-dest-')
    const original = (p: string) => readFileSync(join(source, p), 'utf8')
    const restored = (p: string) => readFileSync(join(dest, p), 'utf8')

    /** Ticks docs/a.txt and docs/b.txt, opens the dialog, aims it at `dest` with `conflict`, confirms. */
    async function restoreTwo(conflict: 'refuse' | 'overwrite' | 'keep-both') {
      await mountArchive(archive.uuid)
      await until(() => byTestId('tree-open-docs'), 'the root listed')
      await click(byTestId('tree-open-docs')!)
      await until(() => byTestId('tree-select-docs/a.txt'), 'docs listed')
      await tick('docs/a.txt')
      await tick('docs/b.txt')
      expect(text('tree-selection-count')).toBe('2 selected')
      await click(byTestId('tree-restore-selected')!)
      await until(() => byTestId('tree-restore-dialog'), 'the dialog')
      // Its own directory is offered, and chosen first.
      expect(text('tree-restore-dest-own')).toContain(source)
      await click(radio('tree-restore-dest-new'))
      await type('tree-restore-to', 'relative/dir')
      expect(text('tree-restore-to-error')).toContain('absolute path')
      expect((byTestId('tree-restore-confirm') as HTMLButtonElement).disabled).toBe(true)
      await type('tree-restore-to', dest)
      expect(text('tree-restore-to-hint')).toBe(
        `Items keep their folders inside it: docs/a.txt is written as ${dest}/docs/a.txt.`,
      )
      await click(radio(`tree-restore-conflict-${conflict}`))
      const summary = text('tree-restore-summary')
      expect(summary).toContain(`Restores 2 items into ${dest}`)
      const before = allByTestId('toast-task-ended').length
      await click(byTestId('tree-restore-confirm')!)
      const link = await until(
        () => document.querySelector<HTMLAnchorElement>('[data-testid="toast-task-link"]'),
        'the toast linking the restore task',
      )
      const task = await waitForTask(d, link.getAttribute('href')!.split('/tasks/')[1]!)
      await until(
        () => allByTestId('toast-task-ended').length > before,
        'the toast saying it ended',
      )
      return { task, summary }
    }

    it('restores two files into a new directory, stops at an existing file, overwrites or keeps both when told', async () => {
      // Into an empty directory: both files as they were backed up.
      const first = await restoreTwo('refuse')
      expect(first.summary).toContain('if any file already exists there, nothing is written')
      expect(first.task.status, first.task.log).toBe('done')
      expect(ended()).toContain(': done.')
      expect(restored('docs/a.txt')).toBe(original('docs/a.txt'))
      expect(restored('docs/b.txt')).toBe(original('docs/b.txt'))
      expect(readdirSync(join(dest, 'docs')).sort()).toEqual(['a.txt', 'b.txt'])
      unmountAll()

      // Changed since: "stop" refuses and writes nothing, loudly.
      writeFileSync(join(dest, 'docs', 'a.txt'), 'mine\n')
      const refused = await restoreTwo('refuse')
      expect(refused.task.status).toBe('failed')
      expect(ended()).toContain('failed')
      expect(restored('docs/a.txt')).toBe('mine\n')
      unmountAll()

      // "Keep both": the restored copy beside it, the file left as it is.
      const both = await restoreTwo('keep-both')
      expect(both.summary).toContain('the restored copy is written beside it')
      expect(both.task.status, both.task.log).toBe('done')
      expect(restored('docs/a.txt')).toBe('mine\n')
      const copies = readdirSync(join(dest, 'docs')).filter((n) => n.startsWith('a.restored-'))
      expect(copies).toHaveLength(1)
      expect(copies[0]).toMatch(/^a\.restored-\d{8}-\d{6}\.txt$/)
      expect(restored(`docs/${copies[0]}`)).toBe(original('docs/a.txt'))
      unmountAll()

      // "Overwrite": the archive's version in place.
      const over = await restoreTwo('overwrite')
      expect(over.summary).toContain('existing files are overwritten')
      expect(over.task.status, over.task.log).toBe('done')
      expect(restored('docs/a.txt')).toBe(original('docs/a.txt'))
      expect(restored('docs/b.txt')).toBe(original('docs/b.txt'))
    }, 60_000)
  })

  it('restores the whole archive into a new directory, equal to the directory it was taken from', async () => {
    const whole = join(tempDir('bulwark-ui-tree-whole-'), 'copy')
    await mountArchive(archive.uuid)
    await until(() => byTestId('tree-restore-all'), 'the browser')
    await click(byTestId('tree-restore-all')!)
    await until(() => byTestId('tree-restore-dialog'), 'the dialog')
    expect(document.body.textContent).toContain('Restore the whole archive')
    await click(radio('tree-restore-dest-new'))
    await type('tree-restore-to', whole)
    expect(text('tree-restore-summary')).toBe(
      `Restores the whole archive into ${whole}; if any file already exists there, nothing is written.`,
    )
    await click(byTestId('tree-restore-confirm')!)
    const link = await until(
      () => document.querySelector<HTMLAnchorElement>('[data-testid="toast-task-link"]'),
      'the toast linking the restore task',
    )
    const task = await waitForTask(d, link.getAttribute('href')!.split('/tasks/')[1]!)
    expect(task.status, task.log).toBe('done')
    // The source has not changed since this archive was taken.
    expect(execFileSync('diff', ['-r', source, whole], { encoding: 'utf8' })).toBe('')
  })

  // Last: it purges the older archive the comparison uses.
  it('says a purged tree archive has nothing left to browse', async () => {
    const del = await d.api('DELETE', `/v1/archive/${older.uuid}`)
    expect(del.status, JSON.stringify(del.body)).toBe(200)
    const purge = await waitForTask(d, del.body.task_uuid)
    expect(purge.status, purge.log).toBe('done')
    await mountArchive(older.uuid)
    await until(() => byTestId('tree-purged'), 'the note')
    expect(text('tree-purged')).toContain('nothing left to browse')
    expect(byTestId('tree-browser')).toBeNull()
  })
})
