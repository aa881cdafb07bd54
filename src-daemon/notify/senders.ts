// Delivers one notice through one channel kind. Knows each receiver's message
// shape and how it answers; knows nothing of rules, retries or the catalog
// (the channel service wraps this: it decides what to send and retries what
// is retryable). Every text that leaves this module is scrubbed of the
// channel's secret values, since it ends up in delivery records and the UI.
// The message shapes are in http-messages.ts and email-sender.ts, the HTTP
// request and the scrubbing in send-shared.ts, the settings in channel-settings.ts.
import type { ChannelKind, Notice } from '../contract/notifications'
import { checkSettings, withDefaults } from './channel-settings'
import { sendEmail } from './email-sender'
import { builders } from './http-messages'
import { CHANNEL_KIND_INFO } from './kinds'
import {
  httpSend,
  makeScrub,
  secretValues,
  SendError,
  type SendOptions,
  type SendResult,
} from './send-shared'

export { checkSettings } from './channel-settings'
export { SendError, type SendOptions, type SendResult } from './send-shared'

/** Delivers one notice; settings are complete (secrets included). Throws SendError. */
export async function sendNotice(
  kind: ChannelKind,
  settings: Record<string, unknown>,
  notice: Notice,
  opts: SendOptions = {},
): Promise<SendResult> {
  const s = withDefaults(kind, settings)
  const scrub = makeScrub(secretValues(kind, s))
  try {
    const bad = checkSettings(kind, s)
    if (bad) throw new SendError(`${bad.field} ${bad.message}`, false)
    let result: SendResult
    if (kind === 'email') result = await sendEmail(s, notice, opts)
    else {
      const req = builders[kind](s, notice)
      if (!req)
        return {
          status: null,
          detail: `${CHANNEL_KIND_INFO[kind].title} is not told about ${notice.event}`,
          skipped: true,
        }
      result = await httpSend(req, opts, scrub)
    }
    return { ...result, detail: scrub(result.detail) }
  } catch (err) {
    if (err instanceof SendError) throw new SendError(scrub(err.message), err.retryable)
    throw new SendError(scrub(`Sending failed: ${(err as Error)?.message ?? String(err)}`), false)
  }
}
