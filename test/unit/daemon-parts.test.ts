// Small parts of the daemon that are easiest to pin down directly: catalog
// migrations, listen addresses, accepted Host headers, endpoint rules.
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import Database from 'better-sqlite3'
import { bundledMigrations, migrate, openCatalog } from '../../src-daemon/catalog/db'
import { allowedHosts } from '../../src-daemon/api/guard'
import type { PluginInfo } from '../../src-daemon/contract'
import { parseListen } from '../../src-daemon/platform/listen'
import { MemorySecretStore } from '../../src-daemon/platform/secrets'
import {
  checkEndpoint,
  redactedEndpoint,
  resolvedEndpoint,
  storeEndpoint,
} from '../../src-daemon/services/endpoints'
import { tempDir } from '../helpers/daemon'

describe('catalog migrations', () => {
  it('applies each migration once and records it', () => {
    const path = join(tempDir(), 'c.db')
    const db = openCatalog(path)
    const versions = db.prepare('SELECT version FROM schema_migrations').all()
    expect(versions.length).toBe(bundledMigrations().length)
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    db.close()
    const again = new Database(path)
    expect(migrate(again, bundledMigrations())).toEqual([])
    again.close()
  })

  it('refuses a catalog from a newer Bulwark', () => {
    const path = join(tempDir(), 'c.db')
    openCatalog(path).close()
    const db = new Database(path)
    db.prepare("INSERT INTO schema_migrations VALUES (999, 'future', 0)").run()
    expect(() => migrate(db, bundledMigrations())).toThrow(
      /schema version 999, newer than this Bulwark knows/,
    )
    db.close()
  })
})

describe('listen addresses', () => {
  it.each([
    ['127.0.0.1:7411', { host: '127.0.0.1', port: 7411 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
    ['[::1]:8080', { host: '::1', port: 8080 }],
    [':9000', { host: '127.0.0.1', port: 9000 }],
    ['9000', { host: '127.0.0.1', port: 9000 }],
    ['0.0.0.0:7411', { host: '0.0.0.0', port: 7411 }],
  ])('%s', (text, expected) => expect(parseListen(text)).toEqual(expected))

  it.each(['host:port', '127.0.0.1:70000', '127.0.0.1:', 'a:b:c'])('refuses %s', (text) =>
    expect(() => parseListen(text)).toThrow(/invalid listen address/),
  )

  it('accepts the loopback names for a loopback daemon, and only those', () => {
    const hosts = allowedHosts('127.0.0.1', 7411)
    expect([...hosts].sort()).toEqual(['127.0.0.1:7411', '[::1]:7411', 'localhost:7411'])
    expect(allowedHosts('192.168.1.5', 80, ['backup.lan'])).toEqual(
      new Set(['192.168.1.5:80', '192.168.1.5', 'backup.lan:80', 'backup.lan']),
    )
  })
})

describe('endpoints', () => {
  const plugin: PluginInfo = {
    name: 'p',
    kind: 'target',
    title: 'P',
    version: '1',
    author: '',
    summary: '',
    source: 'builtin',
    capabilities: [],
    fields: [
      { name: 'host', title: 'Host', type: 'string', default: 'localhost' },
      { name: 'port', title: 'Port', type: 'integer', min: 1, max: 65535 },
      { name: 'tls', title: 'TLS', type: 'boolean' },
      { name: 'mode', title: 'Mode', type: 'enum', values: ['fast', 'safe'] },
      { name: 'paths', title: 'Paths', type: 'list' },
      { name: 'password', title: 'Password', type: 'string', secret: true },
    ],
  }

  it('coerces friendly forms, fills defaults and rejects the rest naming the field', () => {
    expect(checkEndpoint(plugin, { port: '5432', tls: 'true', paths: 'a' })).toEqual({
      host: 'localhost',
      port: 5432,
      tls: true,
      paths: ['a'],
    })
    expect(() => checkEndpoint(plugin, { mode: 'slow' })).toThrow(
      /endpoint.mode must be one of fast, safe/,
    )
    expect(() => checkEndpoint(plugin, { paths: [1] })).toThrow(/list of strings/)
    expect(() => checkEndpoint(plugin, { tls: 'yes' })).toThrow(/true or false/)
  })

  it('waives a required field when its required_unless flag is on', () => {
    const pg: PluginInfo = {
      ...plugin,
      fields: [
        {
          name: 'database',
          title: 'Database',
          type: 'string',
          required: true,
          required_unless: 'all',
        },
        { name: 'all', title: 'All', type: 'boolean', default: false },
      ],
    }
    expect(() => checkEndpoint(pg, {})).toThrow(/endpoint.database is required/)
    expect(checkEndpoint(pg, { all: true })).toEqual({ all: true })
    expect(checkEndpoint(pg, { database: 'x' })).toEqual({ database: 'x', all: false })
  })

  it("refuses a mode's own field given while another mode is chosen, and drops its default", () => {
    const redis: PluginInfo = {
      ...plugin,
      fields: [
        { name: 'mode', title: 'Mode', type: 'enum', values: ['keys', 'rdb'], default: 'keys' },
        {
          name: 'save_timeout',
          title: 'Save timeout',
          type: 'integer',
          default: 600,
          only_when: { field: 'mode', value: 'rdb' },
        },
        {
          name: 'restart_command',
          title: 'Restart command',
          type: 'string',
          only_when: { field: 'mode', value: 'rdb' },
        },
      ],
    }
    expect(checkEndpoint(redis, {})).toEqual({ mode: 'keys' })
    expect(checkEndpoint(redis, { save_timeout: 600, restart_command: '' })).toEqual({
      mode: 'keys',
    })
    expect(() => checkEndpoint(redis, { restart_command: 'systemctl restart redis' })).toThrow(
      /endpoint.restart_command is only used when mode is rdb: clear it, or set mode to rdb/,
    )
    expect(() => checkEndpoint(redis, { save_timeout: '60' })).toThrow(/only used when mode is rdb/)
    expect(checkEndpoint(redis, { mode: 'rdb', restart_command: 'x' })).toEqual({
      mode: 'rdb',
      save_timeout: 600,
      restart_command: 'x',
    })
  })

  it('keeps secrets out of what is stored and read, and back in what plugins get', () => {
    const secrets = new MemorySecretStore()
    const values = checkEndpoint(plugin, { port: 1, password: 's3cret!!' })
    const stored = storeEndpoint(plugin, 'target/x', values, secrets)
    expect(stored).not.toContain('s3cret')
    expect(JSON.parse(redactedEndpoint(plugin, 'target/x', stored, secrets)).password).toBe(
      '<redacted>',
    )
    expect(resolvedEndpoint(plugin, 'target/x', stored, secrets).password).toBe('s3cret!!')
  })

  it('lets external plugins without a schema take any keys, secrets still hidden', () => {
    const open: PluginInfo = {
      ...plugin,
      capabilities: ['any-endpoint'],
      fields: [{ name: 'token', title: 'token', type: 'string', secret: true }],
    }
    const secrets = new MemorySecretStore()
    const values = checkEndpoint(open, { bucket: 'b', depth: 3, token: 'tok-1234' })
    const stored = storeEndpoint(open, 'store/y', values, secrets)
    expect(JSON.parse(stored)).toEqual({ bucket: 'b', depth: 3 })
    expect(JSON.parse(redactedEndpoint(open, 'store/y', stored, secrets))).toEqual({
      token: '<redacted>',
      bucket: 'b',
      depth: 3,
    })
    expect(() => checkEndpoint(plugin, { bucket: 'b' })).toThrow(/unknown field "bucket"/)
  })
})
