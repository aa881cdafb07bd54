// The plugin manifest's field schema is declared twice until the lint
// boundaries allow one declaration to serve both sides: in the SDK
// (ManifestField, what plugin folders write) and in the wire contract
// (FieldSpec, what the daemon serves). This keeps them field for field the
// same: a change to one alone fails the typecheck (tsc -p tsconfig.node.json).
import { describe, expectTypeOf, it } from 'vitest'
import type { FieldSpec, FieldType as WireFieldType } from '../../src-daemon/contract'
import type { FieldType, ManifestField } from '../../plugins/sdk/manifest'

describe('field schema', () => {
  it('is the same type in the SDK and in the contract', () => {
    expectTypeOf<ManifestField>().toEqualTypeOf<FieldSpec>()
    expectTypeOf<FieldType>().toEqualTypeOf<WireFieldType>()
  })
})
