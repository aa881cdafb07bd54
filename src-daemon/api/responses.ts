// What a route answers, for its `schema.response`: a JSON schema for 2xx and
// the one error shape for 4xx and 5xx, or a content type for the routes that
// stream bytes or text. server.ts serializes with JSON.stringify, so these
// describe answers (for GET /v1/openapi.json and the contract test) and never
// drop a field from one.
import { Type, type TSchema } from '@sinclair/typebox'
import { ApiErrorSchema } from '../contract'

const errors = { '4xx': ApiErrorSchema, '5xx': ApiErrorSchema }

/** A JSON answer (200 unless `status` says otherwise), and the error shape. */
export const answers = (schema: TSchema, status = 200) => ({ [status]: schema, ...errors })

/** A JSON array of `item`. */
export const listOf = (item: TSchema) => answers(Type.Array(item))

/** An answer that is not JSON: its content type and what it holds. */
export const bytes = (contentType: string, description: string) => ({
  200: {
    description,
    content: { [contentType]: { schema: Type.String({ description }) } },
  },
  ...errors,
})
