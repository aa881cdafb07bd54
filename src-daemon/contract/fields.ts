// Field schemas the request schemas share (uuids, names, summaries, owners,
// endpoints) and helpers of the response schemas. A leaf of the contract: it imports nothing from the project.
import { Type, type TLiteral, type TSchema, type TUnion } from '@sinclair/typebox'

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

/** A closed object (no other fields): response schemas are exact (responses.ts). */
export const obj = <T extends Record<string, TSchema>>(props: T) => Type.Object(props, Strict)
export const nullable = <T extends TSchema>(s: T) => Type.Union([s, Type.Null()])
/** One of the strings; typed as their union (a mapped array would read as plain string). */
export const literals = <T extends readonly string[]>(values: T) =>
  Type.Union(values.map((v) => Type.Literal(v))) as unknown as TUnion<TLiteral<T[number]>[]>
