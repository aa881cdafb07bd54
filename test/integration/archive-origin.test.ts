// What an archive was taken of survives its target: the target's name and
// where it pointed (never a secret) are kept in the catalog row and in the
// manifest, so `show archive` after the target is deleted, and the archive
// list after a disaster-recovery import into a new daemon, still say it.
import { afterAll, describe, expect, it } from 'vitest'
import { runCli, startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'
import { PASSWORD, VaultBench, randomTree } from '../helpers/vault-bench'

const running: RunningDaemon[] = []
afterAll(async () => {
  for (const d of running) await d.stop()
})

describe('an archive remembers what it was taken of', () => {
  it('after its target is deleted, and after a disaster-recovery import', async () => {
    const d = await startDaemon()
    running.push(d)
    const b = new VaultBench(d)
    const storeDir = tempDir('bulwark-origin-store-')
    const store = await b.store({ path: storeDir })
    const src = randomTree(1, 10_000)
    const job = await b.job(store, src)
    const archive = await b.goodBackup(job)
    const targetName = archive.target_name as string
    expect(archive.origin_target_name).toBe(targetName)
    expect(archive.origin_target_location).toBe(`path ${src}`)

    // The job and its target go; the archive stays, and says what it was.
    expect((await d.api('DELETE', `/v1/job/${job}`)).status).toBe(200)
    expect((await d.api('DELETE', `/v1/target/${archive.target_uuid}`)).status).toBe(200)
    const after = await b.archive(archive.uuid)
    expect(after.target_name).toBeNull()
    expect(after.origin_target_name).toBe(targetName)
    const shown = await runCli(['show', 'archive', archive.uuid], { dataDir: d.dataDir })
    expect(shown.code, shown.stderr).toBe(0)
    expect(shown.stdout).toMatch(
      new RegExp(`^Target: +${targetName} \\(files, .*\\) — that target is deleted$`, 'm'),
    )
    expect(shown.stdout).toMatch(new RegExp(`^Taken of: +path ${src}$`, 'm'))

    // A new daemon that only has the store and its password.
    const other = await startDaemon()
    running.push(other)
    const imported = await other.api('POST', '/v1/stores/import', {
      name: 'recovered',
      plugin: 'fs',
      endpoint: { path: storeDir, vault_password: PASSWORD },
    })
    expect(imported.status, JSON.stringify(imported.body)).toBe(200)
    const listed = (await other.api('GET', '/v1/archives')).body as any[]
    const mine = listed.find((a) => a.uuid === archive.uuid)
    expect(mine).toMatchObject({
      target_name: null,
      origin_target_name: targetName,
      origin_target_location: `path ${src}`,
    })
    const list = await runCli(['list', 'archives'], { dataDir: other.dataDir })
    expect(list.code, list.stderr).toBe(0)
    expect(list.stdout).toContain(targetName.slice(0, 16))
    // Nothing secret is recorded: the vault password appears nowhere in what was kept.
    expect(JSON.stringify(mine)).not.toContain(PASSWORD)
  })
})
