// The one way a test says "this machine lacks something I need". Outside CI
// the tests that need it skip, with one printed line naming what is missing
// and how to get it; under CI=true (where .ci/run installs everything) the
// same absence fails the run instead, so a skip can never hide there.
//
// Skips that are not about the machine stay plain skipIf with a comment:
// capability-driven conformance checks (plugins/sdk/conformance) and tests
// that only apply to one platform.
import { it, type TestContext } from 'vitest'

export const underCI = (): boolean => process.env.CI === 'true' || process.env.CI === '1'

const message = (missing: string, how?: string) => (how ? `${missing} (${how})` : missing)

/**
 * Whether tests needing something can run: true when `missing` is null.
 * Otherwise false (use as `describe.skipIf(!canRun(...))`), after printing
 * one line outside CI, or, under CI=true, after adding a failing test that
 * names what is missing (so the run fails once, with the reason, instead of
 * every test of the suite failing on its own).
 */
export function canRun(missing: string | null, how?: string): boolean {
  if (missing === null) return true
  const why = message(missing, how)
  if (!underCI()) {
    console.warn(`skipping tests: ${why}`)
    return false
  }
  const fail = () => {
    throw new Error(`CI=true but ${why}`)
  }
  try {
    it(`needs ${missing}`, fail)
  } catch {
    // Called while tests run rather than while they are collected: fail here.
    fail()
  }
  return false
}

/** The same, for a need found only inside a running test: skips it, or fails it under CI=true. */
export function skipTest(ctx: TestContext, missing: string, how?: string): void {
  const why = message(missing, how)
  if (underCI()) throw new Error(`CI=true but ${why}`)
  console.warn(`skipping "${ctx.task.name}": ${why}`)
  ctx.skip(why)
}
