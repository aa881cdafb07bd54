// The one error handler: every failure becomes {error:{code,message,field}}
// with a stable code. Unexpected errors are logged and answered without detail.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { BulwarkError, ErrorCode, errorStatus, type ApiErrorBody } from '../contract'
import type { Logger } from '../platform/logger'

export function sendError(reply: FastifyReply, err: BulwarkError): FastifyReply {
  const body: ApiErrorBody = { error: { code: err.code, message: err.message } }
  if (err.field !== undefined) body.error.field = err.field
  if (err.details !== undefined) body.error.details = err.details
  return reply.code(errorStatus[err.code]).type('application/json').send(body)
}

export function errorHandler(log: Logger) {
  return (err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof BulwarkError) return sendError(reply, err)
    const code = (err as FastifyError).code
    const status = (err as FastifyError).statusCode
    if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) {
      return sendError(
        reply,
        new BulwarkError(
          ErrorCode.InvalidJson,
          `the body is not valid JSON: ${err.message}`,
          'body',
        ),
      )
    }
    if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      return sendError(
        reply,
        new BulwarkError(ErrorCode.InvalidJson, 'the body is empty; send a JSON object', 'body'),
      )
    }
    if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return sendError(
        reply,
        new BulwarkError(ErrorCode.Validation, 'send the body as application/json', 'body'),
      )
    }
    if (status !== undefined && status >= 400 && status < 500) {
      return sendError(reply, new BulwarkError(ErrorCode.Validation, err.message, 'body'))
    }
    log.error(`${req.method} ${req.url} failed: ${err.stack ?? err.message}`)
    return sendError(
      reply,
      new BulwarkError(
        ErrorCode.Internal,
        'the daemon hit an internal error; its log has the details',
      ),
    )
  }
}
