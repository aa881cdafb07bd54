// Field schemas the request schemas share: uuids, names, summaries, owners,
// endpoints. A leaf of the contract: it imports nothing from the project.
import { Type } from '@sinclair/typebox'

export const UUID_PATTERN =
  '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'

export const Uuid = Type.String({ pattern: UUID_PATTERN, description: 'a uuid' })
export const Name = Type.String({ minLength: 1, maxLength: 200 })
export const Summary = Type.String({ maxLength: 4000 })
export const Owner = Type.String({ minLength: 1, maxLength: 200 })
/** The seed's JSON-encoded endpoint string; a JSON object is accepted too. */
export const Endpoint = Type.Union([Type.String(), Type.Record(Type.String(), Type.Unknown())])
export const Priority = Type.Integer({ minimum: 0, maximum: 100 })
export const Strict = { additionalProperties: false }
