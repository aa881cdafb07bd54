// Download tickets for part of a tree archive: bound to the path and format
// the link carries, so a ticket for one file cannot fetch another, the whole
// tree, or the folder in another format.
import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { DownloadTickets, admitsDownload, downloadQuery } from '../../src-daemon/api/tickets'
import { FakeClock } from '../helpers/in-process'

const A = randomUUID()
const url = (query: string) => `/v1/archive/${A}/download?${query}`

describe('download tickets for part of a tree', () => {
  it('admits the link as issued, once', () => {
    const tickets = new DownloadTickets(new FakeClock(0))
    const part = { path: 'docs/été & co.md' }
    const { ticket } = tickets.issue(A, part)
    const query = downloadQuery(ticket, part)
    expect(query).toBe(`ticket=${ticket}&path=docs%2F%C3%A9t%C3%A9+%26+co.md`)
    expect(admitsDownload(tickets, 'GET', url(query))).toBe(true)
    expect(admitsDownload(tickets, 'GET', url(query))).toBe(false)
  })

  it('refuses the ticket for another path, no path, another format, or a path given twice', () => {
    const tickets = new DownloadTickets(new FakeClock(0))
    const issue = (part: { path?: string; format?: 'tar' | 'zip' }) => tickets.issue(A, part).ticket
    expect(admitsDownload(tickets, 'GET', url(`ticket=${issue({ path: 'a' })}&path=b`))).toBe(false)
    expect(admitsDownload(tickets, 'GET', url(`ticket=${issue({ path: 'a' })}`))).toBe(false)
    expect(admitsDownload(tickets, 'GET', url(`ticket=${issue({})}&path=a`))).toBe(false)
    const zip = issue({ path: 'd', format: 'zip' })
    expect(admitsDownload(tickets, 'GET', url(`ticket=${zip}&path=d&format=tar`))).toBe(false)
    const twice = issue({ path: 'a' })
    expect(admitsDownload(tickets, 'GET', url(`ticket=${twice}&path=a&path=a`))).toBe(false)
    // Every one of them was spent or never matched: nothing is left to redeem but `twice`.
    expect(tickets.size).toBe(1)
    expect(admitsDownload(tickets, 'GET', url(`ticket=${twice}&path=a`))).toBe(true)
  })

  it('keeps whole-archive tickets as they were: bound to the archive alone', () => {
    const tickets = new DownloadTickets(new FakeClock(0))
    const { ticket } = tickets.issue(A)
    expect(downloadQuery(ticket, {})).toBe(`ticket=${ticket}`)
    expect(tickets.redeem(ticket, A, {})).toBe(true)
  })
})
