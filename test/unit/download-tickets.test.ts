// Download tickets (single use, one archive, a minute), the guard's helper
// that redeems them for GET /v1/archive/:uuid/download only, and the file
// names of downloads on both sides of the wire.
import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { DownloadTickets, admitsDownload } from '../../src-daemon/api/tickets'
import { dispositionFilename } from '../../src-daemon/client'
import { safeName } from '../../src-daemon/services/archive-download'
import { FakeClock } from '../helpers/in-process'

const A = randomUUID()
const B = randomUUID()

describe('DownloadTickets', () => {
  it('redeems a ticket once, for its own archive only', () => {
    const tickets = new DownloadTickets(new FakeClock(0))
    const { ticket, expiresAt } = tickets.issue(A)
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(expiresAt).toBe(60_000)
    expect(tickets.redeem(ticket, A)).toBe(true)
    expect(tickets.redeem(ticket, A)).toBe(false)

    const other = tickets.issue(A).ticket
    expect(tickets.redeem(other, B)).toBe(false)
    // Shown for the wrong archive, it is spent.
    expect(tickets.redeem(other, A)).toBe(false)
    expect(tickets.size).toBe(0)
  })

  it('accepts the archive uuid in either case', () => {
    const tickets = new DownloadTickets(new FakeClock(0))
    expect(tickets.redeem(tickets.issue(A.toUpperCase()).ticket, A)).toBe(true)
    expect(tickets.redeem(tickets.issue(A).ticket, A.toUpperCase())).toBe(true)
  })

  it('expires tickets after their lifetime and forgets them', () => {
    const clock = new FakeClock(1_000)
    const tickets = new DownloadTickets(clock, 60_000)
    const early = tickets.issue(A).ticket
    const late = tickets.issue(A).ticket
    clock.advance(59_999)
    expect(tickets.redeem(early, A)).toBe(true)
    clock.advance(1)
    expect(tickets.size).toBe(0)
    expect(tickets.redeem(late, A)).toBe(false)
  })

  it('refuses what it never issued', () => {
    const tickets = new DownloadTickets(new FakeClock(0))
    const { ticket } = tickets.issue(A)
    expect(tickets.redeem('', A)).toBe(false)
    expect(tickets.redeem(ticket.slice(0, -1), A)).toBe(false)
    expect(tickets.redeem(ticket + 'x', A)).toBe(false)
    expect(tickets.redeem('x'.repeat(10_000), A)).toBe(false)
    expect(tickets.redeem(ticket, A)).toBe(true)
  })

  it("admits a GET of that archive's download with exactly one live ticket, nothing else", () => {
    const tickets = new DownloadTickets(new FakeClock(0))
    const path = `/v1/archive/${A}/download`
    const t = () => tickets.issue(A).ticket
    expect(admitsDownload(tickets, 'GET', `${path}?ticket=${t()}`)).toBe(true)
    const used = t()
    expect(admitsDownload(tickets, 'GET', `${path}?ticket=${used}`)).toBe(true)
    expect(admitsDownload(tickets, 'GET', `${path}?ticket=${used}`)).toBe(false)
    expect(admitsDownload(tickets, 'POST', `${path}?ticket=${t()}`)).toBe(false)
    expect(admitsDownload(tickets, 'HEAD', `${path}?ticket=${t()}`)).toBe(false)
    expect(admitsDownload(tickets, 'GET', `/v1/archive/${B}/download?ticket=${t()}`)).toBe(false)
    expect(admitsDownload(tickets, 'GET', `/v1/archive/${A}?ticket=${t()}`)).toBe(false)
    expect(admitsDownload(tickets, 'GET', `${path}/?ticket=${t()}`)).toBe(false)
    expect(admitsDownload(tickets, 'GET', `/v1/archive/${A}/download-link?ticket=${t()}`)).toBe(
      false,
    )
    expect(admitsDownload(tickets, 'GET', `${path}?ticket=${t()}&ticket=${t()}`)).toBe(false)
    expect(admitsDownload(tickets, 'GET', path)).toBe(false)
    expect(admitsDownload(tickets, 'GET', `${path}?other=${t()}`)).toBe(false)
    expect(admitsDownload(tickets, 'GET', `${path}?x=1&ticket=${t()}`)).toBe(true)
  })
})

describe('download file names', () => {
  it('are made of safe characters on the daemon', () => {
    expect(safeName('orders')).toBe('orders')
    expect(safeName('données clients/2026')).toBe('donnees-clients-2026')
    expect(safeName('../../etc/passwd')).toBe('etc-passwd')
    expect(safeName('...')).toBe('')
    expect(safeName('x'.repeat(300))).toHaveLength(100)
  })

  it('are read from Content-Disposition by the client, never with a directory', () => {
    expect(dispositionFilename('attachment; filename="orders-20260131-040000.dump"')).toBe(
      'orders-20260131-040000.dump',
    )
    expect(dispositionFilename('attachment; filename=plain.tar')).toBe('plain.tar')
    expect(
      dispositionFilename(`attachment; filename="fallback.bin"; filename*=UTF-8''donn%C3%A9es.tar`),
    ).toBe('données.tar')
    expect(dispositionFilename('attachment; filename="../../.ssh/authorized_keys"')).toBe(
      'authorized_keys',
    )
    expect(dispositionFilename('attachment; filename="C:\\\\temp\\\\x.bin"')).toBe('x.bin')
    expect(dispositionFilename('attachment; filename=".."')).toBeNull()
    expect(dispositionFilename('attachment')).toBeNull()
    expect(dispositionFilename(null)).toBeNull()
  })
})
