// The kinds of notification channel and their settings, described with the
// same field specs as plugin endpoints so the UI form, the API's validation
// and secret redaction work unchanged. Every value that lets a stranger post
// to the channel (a token, a password, a webhook URL with its token in the
// path) is `secret: true`.
import { CHANNEL_KINDS, type ChannelKind, type ChannelKindInfo } from '../contract/notifications'
import type { FieldSpec } from '../contract/plugins'

/** ntfy and Gotify priorities by name; failures go out as 'high' unless set. */
const PRIORITIES = ['default', 'min', 'low', 'high', 'max']

const priorityField = (help: string): FieldSpec => ({
  name: 'priority',
  title: 'Priority',
  type: 'enum',
  values: PRIORITIES,
  default: 'default',
  help,
})

export const CHANNEL_KIND_INFO: Record<ChannelKind, ChannelKindInfo> = {
  webhook: {
    kind: 'webhook',
    title: 'Webhook',
    summary: 'Sends each notice as JSON (or your own JSON template) to a URL.',
    fields: [
      {
        name: 'url',
        title: 'URL',
        type: 'string',
        required: true,
        example: 'https://example.com/hooks/bulwark',
        help: 'An http(s) URL. Put credentials in secret headers, not in the URL: the URL is shown to anyone who can read channels.',
      },
      { name: 'method', title: 'Method', type: 'enum', values: ['POST', 'PUT'], default: 'POST' },
      {
        name: 'headers',
        title: 'Headers',
        type: 'list',
        example: 'X-Source: bulwark',
        help: 'One "Name: value" per entry.',
      },
      {
        name: 'secret_headers',
        title: 'Secret headers',
        type: 'list',
        secret: true,
        example: 'Authorization: Bearer …',
        help: 'One "Name: value" per entry, for credentials; never shown again once saved.',
      },
      {
        name: 'body',
        title: 'Body template',
        type: 'string',
        example: '{"text": "{{title}}", "job": "{{job.name}}"}',
        help: 'JSON with placeholders {{event}}, {{severity}}, {{title}}, {{body}}, {{at}}, {{job.name}}, {{job.uuid}}, {{task.uuid}}, {{task.url}}, {{url}}, {{fields.X}}; values are JSON-escaped, so put them inside quotes. Empty: the whole notice as JSON.',
      },
    ],
  },
  slack: {
    kind: 'slack',
    title: 'Slack',
    summary: 'Posts to a Slack channel through an incoming webhook.',
    fields: [
      {
        name: 'webhook_url',
        title: 'Webhook URL',
        type: 'string',
        required: true,
        secret: true,
        example: 'https://hooks.slack.com/services/T000/B000/XXXX',
        help: 'From the Slack app\'s "Incoming Webhooks" page; anyone holding it can post to the channel.',
      },
    ],
  },
  discord: {
    kind: 'discord',
    title: 'Discord',
    summary: 'Posts to a Discord channel through a channel webhook.',
    fields: [
      {
        name: 'webhook_url',
        title: 'Webhook URL',
        type: 'string',
        required: true,
        secret: true,
        example: 'https://discord.com/api/webhooks/123/XXXX',
        help: 'Channel settings → Integrations → Webhooks → Copy Webhook URL.',
      },
    ],
  },
  teams: {
    kind: 'teams',
    title: 'Microsoft Teams',
    summary: 'Posts an Adaptive Card to a Teams channel through a Workflows (or incoming) webhook.',
    fields: [
      {
        name: 'webhook_url',
        title: 'Webhook URL',
        type: 'string',
        required: true,
        secret: true,
        example: 'https://prod-00.westeurope.logic.azure.com/workflows/…',
        help: 'From the "Post to a channel when a webhook request is received" workflow, or a legacy incoming webhook.',
      },
    ],
  },
  ntfy: {
    kind: 'ntfy',
    title: 'ntfy',
    summary: 'Publishes to an ntfy topic (ntfy.sh or your own server).',
    fields: [
      {
        name: 'server',
        title: 'Server',
        type: 'string',
        default: 'https://ntfy.sh',
        example: 'https://ntfy.example.com',
      },
      {
        name: 'topic',
        title: 'Topic',
        type: 'string',
        required: true,
        example: 'bulwark-alerts',
        help: 'On a public server anyone who knows the topic can read it: pick one hard to guess, or use a token.',
      },
      {
        name: 'token',
        title: 'Access token',
        type: 'string',
        secret: true,
        help: 'Sent as "Authorization: Bearer"; needed when the topic is protected.',
      },
      priorityField('For successes and tests; failures are sent with at least "high".'),
    ],
  },
  gotify: {
    kind: 'gotify',
    title: 'Gotify',
    summary: 'Sends a message to a Gotify server as an application.',
    fields: [
      {
        name: 'server',
        title: 'Server',
        type: 'string',
        required: true,
        example: 'https://gotify.example.com',
      },
      {
        name: 'token',
        title: 'Application token',
        type: 'string',
        required: true,
        secret: true,
        help: 'Apps → Create application in Gotify; sent as the X-Gotify-Key header, never in the URL.',
      },
      priorityField('For successes and tests; failures are sent with at least "high" (8).'),
    ],
  },
  telegram: {
    kind: 'telegram',
    title: 'Telegram',
    summary: 'Sends a message from a Telegram bot to a chat.',
    fields: [
      {
        name: 'bot_token',
        title: 'Bot token',
        type: 'string',
        required: true,
        secret: true,
        example: '123456:ABC-DEF…',
        help: 'From @BotFather.',
      },
      {
        name: 'chat_id',
        title: 'Chat ID',
        type: 'string',
        required: true,
        example: '-1001234567890',
        help: 'A user, group or channel id (or @channelname); the bot must be a member.',
      },
      {
        name: 'api_url',
        title: 'API URL',
        type: 'string',
        default: 'https://api.telegram.org',
        help: 'Change only for a self-hosted Bot API server.',
      },
    ],
  },
  email: {
    kind: 'email',
    title: 'Email',
    summary: 'Sends an email through an SMTP server.',
    fields: [
      {
        name: 'host',
        title: 'SMTP host',
        type: 'string',
        required: true,
        example: 'smtp.example.com',
      },
      { name: 'port', title: 'Port', type: 'integer', default: 587, min: 1, max: 65535 },
      {
        name: 'security',
        title: 'Security',
        type: 'enum',
        values: ['starttls', 'tls', 'none'],
        default: 'starttls',
        help: 'starttls: port 587, upgrade required; tls: port 465; none: plain text, only on a trusted network.',
      },
      { name: 'username', title: 'Username', type: 'string' },
      { name: 'password', title: 'Password', type: 'string', secret: true },
      {
        name: 'from',
        title: 'From',
        type: 'string',
        required: true,
        example: 'Bulwark <bulwark@example.com>',
      },
      {
        name: 'to',
        title: 'To',
        type: 'list',
        required: true,
        example: 'ops@example.com',
        help: 'One address per entry.',
      },
      {
        name: 'verify_tls',
        title: 'Verify TLS certificate',
        type: 'boolean',
        default: true,
        help: 'Turn off only for a server with a self-signed certificate you trust.',
      },
    ],
  },
  healthchecks: {
    kind: 'healthchecks',
    title: 'Healthchecks',
    summary:
      'Pings a Healthchecks.io (or compatible) check: /start when a backup starts, the URL on success, /fail on failure.',
    fields: [
      {
        name: 'ping_url',
        title: 'Ping URL',
        type: 'string',
        required: true,
        secret: true,
        example: 'https://hc-ping.com/0f1e2d3c-…',
        help: 'The check\'s ping URL; enable "backup started" on this channel for run-time measurements. Other events are not sent.',
      },
    ],
  },
}

/** All kinds, in the contract's order. */
export function channelKinds(): ChannelKindInfo[] {
  return CHANNEL_KINDS.map((k) => CHANNEL_KIND_INFO[k])
}
