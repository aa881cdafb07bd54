// Browser sign-in: a one-time code from a printed link is traded for the token.
import type { Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import {
  BulwarkError,
  ErrorCode,
  SignIn,
  SignInLinkSchema,
  SignInResultSchema,
  signInPath,
  type SignInLink,
  type SignInResult,
} from '../../contract'
import { toIso } from '../../platform/clock'
import type { OneTimeCodes } from '../one-time'
import { answers } from '../responses'

export interface SignInOptions {
  codes: OneTimeCodes
  token: string
  /** The daemon's URL, known once it listens. */
  url: () => string
  dataDir: string
}

export function authRoutes(app: FastifyInstance, o: SignInOptions): void {
  app.post<{ Body: Static<typeof SignIn> }>(
    '/v1/auth/signin',
    { schema: { body: SignIn, response: answers(SignInResultSchema) } },
    (req): SignInResult => {
      if (!o.codes.redeem(req.body.code)) {
        throw new BulwarkError(
          ErrorCode.Unauthorized,
          'this sign-in link was already used or has expired: run "bulwark ui" for a new one, ' +
            `or sign in with the token in ${o.dataDir}/token`,
        )
      }
      return { token: o.token }
    },
  )
  app.post('/v1/auth/link', { schema: { response: answers(SignInLinkSchema) } }, (): SignInLink =>
    signInLink(o),
  )
}

export function signInLink(o: Pick<SignInOptions, 'codes' | 'url'>): SignInLink {
  const { code, expiresAt } = o.codes.issue()
  const path = signInPath(code)
  return { url: o.url() + path, path, expires_at: toIso(expiresAt) }
}
