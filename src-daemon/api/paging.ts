// A page of a list route: the body stays the array it always was, and the
// headers say the rest: X-Total-Count (all that match the filters),
// X-Next-Cursor and a Link to the next page (absent on the last).
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Page } from '../services/paging'

export function sendPage<T>(req: FastifyRequest, reply: FastifyReply, page: Page<T>): T[] {
  reply.header('x-total-count', String(page.total))
  if (page.next !== null) {
    const url = new URL(req.url, 'http://daemon')
    url.searchParams.set('cursor', page.next)
    reply.header('x-next-cursor', page.next)
    reply.header('link', `<${url.pathname}${url.search}>; rel="next"`)
  }
  return page.items
}
