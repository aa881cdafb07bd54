// The message each HTTP channel kind sends (webhook, chat services, push
// servers, Healthchecks pings), built from a notice and the channel's
// settings; send-shared.ts sends it. A null request: this kind is not told
// about this event.
import type { ChannelKind, Notice } from '../contract/notifications'
import { headerList, parseHeaders, str } from './channel-settings'
import { NOTICE_COLOURS, noticeLink, plainText, renderTemplate, truncate } from './render'
import type { HttpRequest } from './send-shared'

type Builder = (s: Record<string, unknown>, n: Notice) => HttpRequest | null

const trimSlash = (u: string): string => u.replace(/\/+$/, '')

/** ntfy's priorities 1–5 and Gotify's 0–10 by name; failures get at least "high". */
const NTFY_PRIORITY: Record<string, number> = { min: 1, low: 2, default: 3, high: 4, max: 5 }
const GOTIFY_PRIORITY: Record<string, number> = { min: 0, low: 2, default: 5, high: 8, max: 10 }
function priority(table: Record<string, number>, s: Record<string, unknown>, n: Notice): number {
  const chosen = table[str(s.priority)] ?? table.default ?? 0
  return n.severity === 'failure' ? Math.max(chosen, table.high ?? 0) : chosen
}

const NTFY_TAGS: Record<Notice['severity'], string> = {
  failure: 'rotating_light',
  warning: 'warning',
  recovery: 'white_check_mark',
  success: 'white_check_mark',
  info: 'information_source',
}

/** Slack's mrkdwn treats &, < and > as markup. */
const slackEscape = (t: string): string =>
  t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

export const builders: Record<Exclude<ChannelKind, 'email'>, Builder> = {
  webhook: (s, n) => {
    const template = str(s.body).trim()
    const plain = parseHeaders(headerList(s.headers)).headers
    const secret = parseHeaders(headerList(s.secret_headers)).headers
    return {
      who: 'The webhook',
      url: str(s.url),
      method: str(s.method) || 'POST',
      headers: { 'content-type': 'application/json', ...plain, ...secret },
      text: template ? renderTemplate(template, n) : JSON.stringify(n),
      hint: 'check the URL, method and headers',
    }
  },

  slack: (s, n) => {
    const link = noticeLink(n)
    const lines = [`*${slackEscape(n.title)}*`]
    if (n.body) lines.push(slackEscape(n.body))
    const blocks: unknown[] = [
      { type: 'section', text: { type: 'mrkdwn', text: truncate(lines.join('\n'), 3000) } },
    ]
    if (link)
      blocks.push({
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `<${link}|Open in Bulwark> · ${n.at}` }],
      })
    return {
      who: 'Slack',
      url: str(s.webhook_url),
      // text is what notifications and old clients show.
      json: { text: n.title, blocks },
      hint: 'check the webhook URL',
    }
  },

  discord: (s, n) => {
    const link = noticeLink(n)
    const embed: Record<string, unknown> = {
      title: truncate(n.title, 256),
      description: truncate(n.body, 4096),
      color: NOTICE_COLOURS[n.severity],
      timestamp: n.at,
    }
    if (link) embed.url = link
    if (n.job) embed.footer = { text: truncate(`Job ${n.job.name}`, 2048) }
    return {
      who: 'Discord',
      url: str(s.webhook_url),
      // No pings: a job named "@everyone" must not wake a whole server.
      json: { username: 'Bulwark', allowed_mentions: { parse: [] }, embeds: [embed] },
      hint: 'check the webhook URL',
    }
  },

  teams: (s, n) => {
    const link = noticeLink(n)
    const colour = { failure: 'Attention', warning: 'Warning', recovery: 'Good', success: 'Good' }
    const body: unknown[] = [
      {
        type: 'TextBlock',
        text: n.title,
        weight: 'Bolder',
        size: 'Medium',
        wrap: true,
        color: colour[n.severity as keyof typeof colour] ?? 'Default',
      },
    ]
    // Card markdown joins single line breaks: make each line a paragraph.
    if (n.body) body.push({ type: 'TextBlock', text: n.body.replace(/\n/g, '\n\n'), wrap: true })
    body.push({ type: 'TextBlock', text: n.at, isSubtle: true, size: 'Small', wrap: true })
    const card = {
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      type: 'AdaptiveCard',
      version: '1.4',
      body,
      actions: link ? [{ type: 'Action.OpenUrl', title: 'Open in Bulwark', url: link }] : [],
    }
    return {
      who: 'Teams',
      url: str(s.webhook_url),
      // The message-with-attachments shape both Workflows and the older
      // incoming webhooks accept.
      json: {
        type: 'message',
        attachments: [
          {
            contentType: 'application/vnd.microsoft.card.adaptive',
            contentUrl: null,
            content: card,
          },
        ],
      },
      hint: 'check the webhook URL (and that the workflow is turned on)',
    }
  },

  ntfy: (s, n) => {
    const link = noticeLink(n)
    const token = str(s.token)
    // JSON publishing to the server's root: UTF-8 titles, unlike headers.
    const json: Record<string, unknown> = {
      topic: str(s.topic),
      title: n.title,
      message: n.body || n.title,
      priority: priority(NTFY_PRIORITY, s, n),
      tags: [NTFY_TAGS[n.severity], 'bulwark'],
    }
    if (link) json.click = link
    return {
      who: 'ntfy',
      url: `${trimSlash(str(s.server))}/`,
      headers: token ? { authorization: `Bearer ${token}` } : undefined,
      json,
      hint: token ? 'check the topic and the access token' : 'check the topic (is it protected?)',
    }
  },

  gotify: (s, n) => {
    const link = noticeLink(n)
    const extras: Record<string, unknown> = { 'client::display': { contentType: 'text/plain' } }
    if (link) extras['client::notification'] = { click: { url: link } }
    return {
      who: 'Gotify',
      url: `${trimSlash(str(s.server))}/message`,
      headers: { 'x-gotify-key': str(s.token) },
      json: {
        title: n.title,
        message: [n.body || n.title, link && !n.body.includes(link) ? link : null]
          .filter(Boolean)
          .join('\n\n'),
        priority: priority(GOTIFY_PRIORITY, s, n),
        extras,
      },
      hint: 'check the server and the application token',
    }
  },

  telegram: (s, n) => ({
    who: 'Telegram',
    url: `${trimSlash(str(s.api_url))}/bot${str(s.bot_token)}/sendMessage`,
    json: {
      chat_id: str(s.chat_id),
      text: truncate(plainText(n), 4096),
      link_preview_options: { is_disabled: true },
      disable_web_page_preview: true,
    },
    hint: 'check the bot token and the chat id (the bot must be in the chat)',
  }),

  healthchecks: (s, n) => {
    const suffix =
      n.event === 'backup.started'
        ? '/start'
        : n.event === 'backup.failed'
          ? '/fail'
          : n.event === 'backup.succeeded' || n.event === 'backup.recovered' || n.event === 'test'
            ? ''
            : null
    if (suffix === null) return null
    const u = new URL(str(s.ping_url))
    u.pathname = trimSlash(u.pathname) + suffix
    return {
      who: 'Healthchecks',
      url: u.href,
      // The body shows up as the ping's log in Healthchecks.
      text: n.event === 'backup.failed' ? n.body : n.title,
      hint: 'check the ping URL',
    }
  },
}
