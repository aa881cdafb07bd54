// Validates params, query and bodies against the contract's TypeBox schemas
// and words the first problem for a person, naming the field at fault.
import type { TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors'
import type { FastifySchemaCompiler } from 'fastify'
import { BulwarkError, ErrorCode, UUID_PATTERN } from '../contract'

const EXAMPLE_UUID = '6b8398be-fdc0-424a-8532-e812e5dfc116'

const OPTIONAL_BODY = 'x-optional-body'

/** Marks a body schema as optional: no body at all is then accepted as `{}`. */
export function optionalBody<T extends TSchema>(schema: T): T {
  return { ...schema, [OPTIONAL_BODY]: true }
}

export const typeboxValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = TypeCompiler.Compile(schema)
  const mayBeEmpty = (schema as Record<string, unknown>)[OPTIONAL_BODY] === true
  return (data: unknown) => {
    if ((data === undefined || data === null) && mayBeEmpty) return { value: {} }
    if (check.Check(data)) return { value: data }
    const first = check.Errors(data).First()
    return { error: toBulwarkError(first, httpPart ?? 'body', schema) }
  }
}

function toBulwarkError(err: ValueError | undefined, part: string, root: TSchema): BulwarkError {
  if (!err || err.path === '') {
    if (part === 'body')
      return new BulwarkError(ErrorCode.Validation, 'the request needs a JSON object body', 'body')
    return new BulwarkError(ErrorCode.Validation, `invalid ${part}`, part)
  }
  const field = err.path.replace(/^\//, '').replace(/\//g, '.')
  const name = part === 'querystring' ? `query parameter ${field}` : field
  if (err.type === ValueErrorType.ObjectRequiredProperty) {
    return new BulwarkError(ErrorCode.Validation, `${name} is required`, field)
  }
  if (err.type === ValueErrorType.ObjectAdditionalProperties) {
    const allowed = Object.keys((root as { properties?: object }).properties ?? {})
    const hint =
      field === 'paused'
        ? '; pause or unpause a job with POST /v1/job/:uuid/pause or /unpause'
        : `; allowed fields: ${allowed.join(', ')}`
    return new BulwarkError(ErrorCode.Validation, `unknown field "${field}"${hint}`, field)
  }
  return new BulwarkError(
    ErrorCode.Validation,
    `${name} must be ${expectation(err.schema)}, got ${shown(err.value)}`,
    field,
  )
}

function expectation(schema: TSchema): string {
  const s = schema as Record<string, unknown>
  if (s.pattern === UUID_PATTERN) return `a uuid such as ${EXAMPLE_UUID}`
  if (typeof s.description === 'string') return s.description
  if (Array.isArray(s.anyOf)) {
    const literals = (s.anyOf as Record<string, unknown>[]).map((o) => o.const)
    if (literals.every((l) => l !== undefined)) return `one of ${literals.join(', ')}`
    return 'a JSON object or a JSON-encoded string'
  }
  switch (s.type) {
    case 'integer': {
      const range = [
        typeof s.minimum === 'number' ? `at least ${s.minimum}` : '',
        typeof s.maximum === 'number' ? `at most ${s.maximum}` : '',
      ].filter(Boolean)
      return `a whole number${range.length ? ' ' + range.join(' and ') : ''}`
    }
    case 'string':
      if (s.minLength === 1)
        return `a non-empty string${s.maxLength ? ` of at most ${s.maxLength} characters` : ''}`
      return `a string${s.maxLength ? ` of at most ${s.maxLength} characters` : ''}`
    case 'boolean':
      return 'true or false'
    case 'object':
      return 'a JSON object'
    default:
      return `of type ${String(s.type)}`
  }
}

function shown(value: unknown): string {
  if (value === undefined) return 'nothing'
  const text = JSON.stringify(value)
  return text.length > 60 ? text.slice(0, 57) + '...' : text
}
