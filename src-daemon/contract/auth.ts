// Signing a browser in: the daemon prints a link carrying a one-time code (in
// the URL fragment, so it never reaches a server log); the UI trades the code
// for the API token once, then keeps the token.
import { Type } from '@sinclair/typebox'

export const SignIn = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
)

/** POST /v1/auth/signin */
export interface SignInResult {
  token: string
}

/** POST /v1/auth/link: a fresh one-time sign-in link for a browser. */
export interface SignInLink {
  url: string
  /** The same link relative to the daemon: `/#/signin?code=...`. */
  path: string
  expires_at: string
}

/** The UI route that trades a code for the token. */
export const signInPath = (code: string): string => `/#/signin?code=${encodeURIComponent(code)}`
