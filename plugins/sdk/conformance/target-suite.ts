// What every target plugin must do, as a vitest suite. A plugin's test file runs it in one line:
//   targetConformance('postgres', { endpoint, restoreEndpoint, seed, snapshot, mutate, badEndpoint })
// seed() must make a backup of a few MiB at least (say a 6 MiB random blob),
// so that a backup can be caught mid-stream by the abort test.
import { Readable } from 'node:stream'
import { finished } from 'node:stream/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PluginAbortedError, PluginError } from '../errors'
import type { Endpoint, TargetPlugin } from '../types'
import {
  childGroups,
  loadPlugin,
  readAll,
  rejection,
  secretFields,
  survivors,
  testContext,
} from './services'

export interface TargetConformanceOptions {
  /** The endpoint seed() fills and backups read. */
  endpoint: () => Promise<Endpoint>
  /** A fresh place to restore into; called once per restore. */
  restoreEndpoint: () => Promise<Endpoint>
  seed(): Promise<void>
  /** Everything the backup should preserve, in a form toEqual can compare. */
  snapshot(endpoint: Endpoint): Promise<unknown>
  /** Changes what endpoint() holds, so a restore has something to undo. */
  mutate(): Promise<void>
  /** Unusable (wrong host, missing directory...), with any secret field set to a telltale value. */
  badEndpoint: () => Promise<Endpoint>
  cleanup?(): Promise<void>
  /** The plugin under test; by default plugins/targets/<name>/index.ts. */
  plugin?: TargetPlugin
  /** False for a plugin that runs no external tool (skips the process-group check). */
  spawnsTools?: boolean
}

/** Runs a backup to the end; resolves to its bytes or to the error it failed with. */
async function backupOutcome(
  target: TargetPlugin,
  ep: Endpoint,
): Promise<{ data?: Buffer; error?: Error }> {
  try {
    return { data: await readAll(await target.backup(ep, testContext())) }
  } catch (error) {
    return { error: error as Error }
  }
}

export function targetConformance(name: string, opts: TargetConformanceOptions): void {
  describe(`target ${name}: conformance`, () => {
    let target: TargetPlugin
    let secrets: string[] = []
    let seeded: unknown

    /** Secret values of an endpoint, which no message may contain. */
    const secretValues = (ep: Endpoint) =>
      secrets.map((f) => ep[f]).filter((v): v is string => typeof v === 'string' && v.length > 0)

    beforeAll(async () => {
      target = opts.plugin ?? (await loadPlugin('target', name))
      secrets = await secretFields('target', name)
      await opts.seed()
      seeded = await opts.snapshot(await opts.endpoint())
    })
    afterAll(async () => {
      await opts.cleanup?.()
    })

    it('backs up, and restores what was backed up after the source changed', async () => {
      const ep = await opts.endpoint()
      const { data, error } = await backupOutcome(target, ep)
      expect(error).toBeUndefined()
      expect(data!.length).toBeGreaterThan(0)
      await opts.mutate()
      expect(await opts.snapshot(ep)).not.toEqual(seeded) // the mutation is visible
      const into = await opts.restoreEndpoint()
      await target.restore(into, Readable.from([data!]), testContext())
      expect(await opts.snapshot(into)).toEqual(seeded)
    })

    it('a restore from a truncated backup fails with a PluginError', async () => {
      const { data } = await backupOutcome(target, await opts.endpoint())
      const half = data!.subarray(0, Math.floor(data!.length / 2))
      const err = await rejection(
        target.restore(await opts.restoreEndpoint(), Readable.from([half]), testContext()),
      )
      expect(err).toBeInstanceOf(PluginError)
    })

    it('a backup of a bad endpoint fails with a PluginError that keeps secrets out', async () => {
      const bad = await opts.badEndpoint()
      if (secrets.length > 0) expect(secretValues(bad)).toHaveLength(secrets.length)
      const { data, error } = await backupOutcome(target, bad)
      expect(data).toBeUndefined()
      expect(error).toBeInstanceOf(PluginError)
      for (const secret of secretValues(bad)) expect(error!.message).not.toContain(secret)
    })

    it('aborting a backup mid-stream fails it with PluginAbortedError and stops its tools', async () => {
      const c = testContext()
      const before = childGroups()
      const stream = await target.backup(await opts.endpoint(), c)
      const iterator = stream[Symbol.asyncIterator]()
      const first = await iterator.next()
      expect(first.done).toBe(false) // something was produced before the abort
      const groups = new Set([...childGroups()].filter((g) => !before.has(g)))
      if (opts.spawnsTools !== false) expect(groups.size).toBeGreaterThan(0)
      c.controller.abort()
      // Without reading on: the plugin must stop by itself, not because the tool ran out of data.
      const err = await rejection(
        Promise.race([
          finished(stream),
          new Promise((_, reject) =>
            setTimeout(() => reject(new Error('the backup did not stop within 10 s')), 10_000),
          ),
        ]),
      )
      expect(err).toBeInstanceOf(PluginAbortedError)
      expect(await survivors(groups)).toEqual([])
    })

    it('test() describes a good endpoint and rejects a bad one without secrets', async () => {
      const line = await target.test(await opts.endpoint(), testContext())
      expect(typeof line).toBe('string')
      expect(line.length).toBeGreaterThan(0)
      expect(line).not.toContain('\n')
      const bad = await opts.badEndpoint()
      const err = await rejection(target.test(bad, testContext()))
      expect(err).toBeInstanceOf(PluginError)
      for (const secret of secretValues(bad)) expect(err.message).not.toContain(secret)
    })
  })
}
