// The store conformance suite against the external-protocol adapter, over the
// shipped example plugins/external/dirstore (a real executable in a real
// directory). The protocol has no stat or listing, and dirstore reports a
// missing key with exit 1, so those checks are skipped for it alone; the
// Bulwark extension that does tell a missing key (exit 66) is checked with a
// small plugin written here.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { PluginError, PluginNotFoundError, isNotFound } from '../../plugins/sdk/errors'
import { storeCapabilities } from '../../plugins/sdk/types'
import { readAll, rejection, testContext } from '../../plugins/sdk/conformance/services'
import { storeConformance } from '../../plugins/sdk/conformance/store-suite'
import { externalStore } from '../../src-daemon/plugin-host/external'

const SHIPPED = fileURLToPath(new URL('../../plugins/external', import.meta.url))
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-ext-conf-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

chmodSync(join(SHIPPED, 'dirstore'), 0o755)
const dirstore = externalStore({
  name: 'dirstore',
  exe: join(SHIPPED, 'dirstore'),
  version: '1.0.0',
  test: true,
})
let n = 0

storeConformance('dirstore (external)', () => ({ path: join(tmp, `store-${++n}`) }), {
  plugin: dirstore,
  cannot: ['head', 'list', 'typedNotFound'],
})

describe('external store adapter', () => {
  it('declares that it cannot hold a vault', () => {
    expect(storeCapabilities(dirstore)).toEqual({
      vault: false,
      atomicPut: false,
      rangedGet: false,
      connections: 4,
    })
  })

  it('a retrieve exiting 66 (EX_NOINPUT) is a PluginNotFoundError naming the key', async () => {
    const exe = join(tmp, 'exit66')
    writeFileSync(
      exe,
      [
        '#!/bin/sh',
        'case "$1:$3" in',
        '  retrieve:there) printf here ;;',
        '  retrieve:gone) echo "no such blob $3" >&2; exit 66 ;;',
        '  *) echo "disk on fire" >&2; exit 1 ;;',
        'esac',
      ].join('\n'),
    )
    chmodSync(exe, 0o755)
    const store = externalStore({ name: 'exit66', exe, version: '0.1.0', test: false })
    const ctx = testContext()
    expect((await readAll(await store.get({}, 'there', ctx))).toString()).toBe('here')
    const gone = await rejection(store.get({}, 'gone', ctx))
    expect(gone).toBeInstanceOf(PluginNotFoundError)
    expect(gone.message).toBe(
      'no object gone in external store exit66 (external plugin exit66: retrieve exited with code 66: no such blob gone)',
    )
    const other = await rejection(store.get({}, 'other', ctx))
    expect(other).toBeInstanceOf(PluginError)
    expect(isNotFound(other)).toBe(false)
  })
})
