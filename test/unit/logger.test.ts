// The daemon's logger (pino underneath): the text lines people read, the JSON
// lines log shippers read, levels, and secrets masked in both, in the message
// and in every field.
import { describe, expect, it } from 'vitest'
import { createLogger, parseLogFormat } from '../../src-daemon/platform/logger'
import { redactor } from '../../src-daemon/platform/redact'

function collect(format: 'text' | 'json', level: 'debug' | 'info' = 'info') {
  const lines: string[] = []
  return { lines, log: createLogger(level, (l) => lines.push(l), format) }
}

describe('logger', () => {
  it('text: one line per event, time, padded level, message, then fields', () => {
    const { lines, log } = collect('text')
    log.info('listening on http://127.0.0.1:8085')
    log.warn('request failed', { method: 'GET', status: 500, path: '/v1/a b' })
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO {2}listening on http:\/\/127\.0\.0\.1:8085\n$/,
    )
    expect(lines[1]).toMatch(/ WARN {2}request failed method=GET status=500 path="\/v1\/a b"\n$/)
  })

  it('json: pino lines with level, time, msg and the fields', () => {
    const { lines, log } = collect('json')
    log.error('store unreachable', { store: 'offsite' })
    const event = JSON.parse(lines[0]!) as Record<string, unknown>
    expect(event).toMatchObject({ level: 'error', msg: 'store unreachable', store: 'offsite' })
    expect(Number.isNaN(Date.parse(String(event.time)))).toBe(false)
  })

  it('drops events under its level', () => {
    const quiet = collect('text')
    quiet.log.debug('not shown')
    expect(quiet.lines).toEqual([])
    const loud = collect('text', 'debug')
    loud.log.debug('shown')
    expect(loud.lines[0]).toContain('DEBUG shown')
  })

  it('masks known secrets in the message and in fields, in both renderings', () => {
    redactor.add('hunter2-logger-secret')
    for (const format of ['text', 'json'] as const) {
      const { lines, log } = collect(format)
      log.info('connecting with hunter2-logger-secret', { url: 'pg://u:hunter2-logger-secret@h' })
      expect(lines[0]).not.toContain('hunter2-logger-secret')
      expect(lines[0]).toContain('<redacted>')
    }
  })

  it('BULWARK_LOG_FORMAT chooses json; anything else is text', () => {
    expect(parseLogFormat('json')).toBe('json')
    expect(parseLogFormat(undefined)).toBe('text')
    expect(parseLogFormat('yaml')).toBe('text')
  })
})
