// The endpoint model behind every plugin form: defaults, stored values with
// secrets redacted, what is sent, and what is missing.
import { describe, expect, it } from 'vitest'
import { REDACTED, type FieldSpec } from '../../src-daemon/contract'
import {
  applies,
  missingFields,
  modelFrom,
  newModel,
  toEndpoint,
  type EndpointModel,
} from '../../src-renderer/src/composables/endpoint'

const fields: FieldSpec[] = [
  { name: 'host', title: 'Host', type: 'string', required: true },
  { name: 'port', title: 'Port', type: 'integer', default: 5432, min: 1, max: 65535 },
  { name: 'password', title: 'Password', type: 'string', secret: true },
  { name: 'all', title: 'All databases', type: 'boolean' },
  { name: 'database', title: 'Database', type: 'string', required: true, required_unless: 'all' },
  { name: 'mode', title: 'Mode', type: 'enum', values: ['a', 'b'], default: 'a' },
  { name: 'exclude', title: 'Exclude', type: 'list' },
]

describe('endpoint model', () => {
  it('starts a new form at the defaults', () => {
    expect(newModel(fields)).toEqual({
      host: '',
      port: 5432,
      password: '',
      all: false,
      database: '',
      mode: 'a',
      exclude: [],
    })
  })

  it('reads a stored endpoint, keeping a secret as the redaction marker', () => {
    const m = modelFrom(
      fields,
      JSON.stringify({ host: 'db', port: '6543', password: REDACTED, exclude: 'tmp' }),
    )
    expect(m).toMatchObject({ host: 'db', port: 6543, password: REDACTED, exclude: ['tmp'] })
    // Sent back as is, the daemon keeps the stored secret.
    expect(toEndpoint(fields, m).password).toBe(REDACTED)
  })

  it('leaves empty optional fields out so the plugin defaults apply', () => {
    const m = { ...newModel(fields), host: 'db', database: 'orders', port: null }
    expect(toEndpoint(fields, m)).toEqual({
      host: 'db',
      database: 'orders',
      all: false,
      mode: 'a',
    })
  })

  it('names missing required fields, honouring required_unless, and range errors', () => {
    const m = newModel(fields)
    expect(missingFields(fields, m)).toEqual({
      host: 'Host is required',
      database: 'Database is required',
    })
    expect(missingFields(fields, { ...m, host: 'db', all: true, port: 70000 })).toEqual({
      port: 'Port must be at most 65535',
    })
  })

  it('treats an unreadable stored endpoint as empty fields', () => {
    expect(modelFrom(fields, 'not json').host).toBe('')
  })

  it("leaves a mode's own fields out (and hidden) until that mode is chosen", () => {
    const modal: FieldSpec[] = [
      ...fields,
      {
        name: 'restart',
        title: 'Restart',
        type: 'string',
        only_when: { field: 'mode', value: 'b' },
      },
    ]
    const m: EndpointModel = {
      ...newModel(modal),
      host: 'h',
      database: 'd',
      restart: 'systemctl restart x',
    }
    const restart = modal[modal.length - 1]!
    expect(applies(restart, modal, m)).toBe(false)
    expect(toEndpoint(modal, m)).not.toHaveProperty('restart')
    m.mode = 'b'
    expect(applies(restart, modal, m)).toBe(true)
    expect(toEndpoint(modal, m)).toMatchObject({ mode: 'b', restart: 'systemctl restart x' })
    expect(applies(fields[0]!, modal, m)).toBe(true)
  })
})
