// Each notification channel kind against a real receiver started here: an
// HTTP server standing in for Slack, Discord, Teams, ntfy, Gotify, Telegram,
// Healthchecks and plain webhooks, and an SMTP server (smtp-server) for email,
// plain and behind STARTTLS/TLS with a self-signed certificate. Asserts what
// each receiver got, how refusals are classed (retryable or not), and that no
// secret value ever shows in a detail or an error.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http'
import { createServer as createNetServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SMTPServer, type SMTPServerOptions } from 'smtp-server'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { ChannelKind, Notice } from '../../src-daemon/contract/notifications'
import { CHANNEL_KINDS } from '../../src-daemon/contract/notifications'
import { channelKinds, CHANNEL_KIND_INFO } from '../../src-daemon/notify/kinds'
import { checkSettings, sendNotice, SendError } from '../../src-daemon/notify/senders'

interface Received {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
}

/** One HTTP receiver for all the webhook-shaped kinds; `answer` decides its reply. */
let http: Server
let base: string
let received: Received[] = []
let answer: (req: Received, res: ServerResponse) => void

const ok = (req: Received, res: ServerResponse): void => {
  res.writeHead(200, { 'content-type': 'text/plain' }).end('ok')
}

beforeAll(async () => {
  http = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const r: Received = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      }
      received.push(r)
      answer(r, res)
    })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(http.address() as { port: number }).port}`
})
afterAll(async () => {
  http.closeAllConnections()
  await new Promise<void>((resolve) => http.close(() => resolve()))
})
beforeEach(() => {
  received = []
  answer = ok
})

function only(): Received {
  expect(received).toHaveLength(1)
  return received[0] as Received
}

const notice = (over: Partial<Notice> = {}): Notice => ({
  event: 'backup.failed',
  severity: 'failure',
  title: 'Backup of "nightly-db" failed',
  body: 'pg_dump exited with code 1\nconnection refused',
  at: '2026-12-07T03:00:00.000Z',
  job: { uuid: '11111111-2222-3333-4444-555555555555', name: 'nightly-db' },
  task: { uuid: '66666666-7777-8888-9999-000000000000', url: 'http://bulwark.local/tasks/6666' },
  url: 'http://bulwark.local/',
  fields: { bytes: 1234, error: 'exit 1' },
  ...over,
})

/** Runs a send expected to fail and returns its SendError. */
async function refused(p: Promise<unknown>): Promise<SendError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(SendError)
  return err as SendError
}

/** A port nothing listens on: one the system gave out and took back. */
async function closedPort(): Promise<number> {
  const server = createNetServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('channel kinds', () => {
  it('lists every kind in the contract order, secrets marked', () => {
    expect(channelKinds().map((k) => k.kind)).toEqual([...CHANNEL_KINDS])
    const secret = (kind: ChannelKind) =>
      CHANNEL_KIND_INFO[kind].fields.filter((f) => f.secret).map((f) => f.name)
    expect(secret('webhook')).toEqual(['secret_headers'])
    expect(secret('slack')).toEqual(['webhook_url'])
    expect(secret('discord')).toEqual(['webhook_url'])
    expect(secret('teams')).toEqual(['webhook_url'])
    expect(secret('ntfy')).toEqual(['token'])
    expect(secret('gotify')).toEqual(['token'])
    expect(secret('telegram')).toEqual(['bot_token'])
    expect(secret('email')).toEqual(['password'])
    expect(secret('healthchecks')).toEqual(['ping_url'])
    for (const k of channelKinds())
      for (const f of k.fields) {
        expect(['string', 'integer', 'boolean', 'enum', 'list']).toContain(f.type)
        if (f.type === 'enum') expect(f.values?.length).toBeGreaterThan(0)
      }
  })
})

describe('webhook', () => {
  const secretHeader = 'Authorization: Bearer wh-SECRET-9f8e7d6c'

  it('posts the notice as JSON with its plain and secret headers', async () => {
    const result = await sendNotice(
      'webhook',
      {
        url: `${base}/hook?x=1`,
        headers: ['X-Source: bulwark'],
        secret_headers: [secretHeader],
      },
      notice(),
    )
    expect(result).toMatchObject({ status: 200 })
    const r = only()
    expect(r).toMatchObject({ method: 'POST', path: '/hook?x=1' })
    expect(r.headers['content-type']).toBe('application/json')
    expect(r.headers['x-source']).toBe('bulwark')
    expect(r.headers.authorization).toBe('Bearer wh-SECRET-9f8e7d6c')
    expect(JSON.parse(r.body)).toEqual(notice())
  })

  it('fills a body template with JSON-escaped values, with PUT', async () => {
    const template =
      '{"text": "{{title}}", "detail": "{{body}}", "job": "{{job.name}}", "bytes": "{{fields.bytes}}", ' +
      '"missing": "{{fields.nope}}", "task": "{{task.url}}", "event": "{{ event }}"}'
    await sendNotice('webhook', { url: `${base}/t`, method: 'PUT', body: template }, notice())
    const r = only()
    expect(r.method).toBe('PUT')
    expect(JSON.parse(r.body)).toEqual({
      text: 'Backup of "nightly-db" failed',
      detail: 'pg_dump exited with code 1\nconnection refused',
      job: 'nightly-db',
      bytes: '1234',
      missing: '',
      task: 'http://bulwark.local/tasks/6666',
      event: 'backup.failed',
    })
  })

  it("sends the docs' example template as documented", async () => {
    const doc = readFileSync(join(__dirname, '../../docs/notifications.md'), 'utf8')
    const template = /Example, for a service[^\n]*\n\n```json\n([\s\S]*?)```/.exec(doc)?.[1]
    expect(template).toBeDefined()
    const settings = { url: `${base}/doc`, body: template }
    expect(checkSettings('webhook', settings)).toBeNull()
    await sendNotice('webhook', settings, notice())
    expect(JSON.parse(only().body)).toEqual({
      text: 'Backup of "nightly-db" failed',
      details: 'pg_dump exited with code 1\nconnection refused',
      link: 'http://bulwark.local/tasks/6666',
      labels: { job: 'nightly-db', event: 'backup.failed', severity: 'failure' },
    })
  })

  it('rejects, by field, what would not work', () => {
    const url = `${base}/x`
    expect(checkSettings('webhook', { url, body: '{"text": {{title}}}' })).toMatchObject({
      field: 'body',
    })
    expect(checkSettings('webhook', { url, body: '{"text": "{{titel}}"}' })?.message).toContain(
      '{{titel}}',
    )
    expect(checkSettings('webhook', { url, body: '{"text": "{{title}}"' })).toMatchObject({
      field: 'body',
    })
    expect(checkSettings('webhook', { url: 'ftp://example.com/x' })).toMatchObject({
      field: 'url',
    })
    expect(checkSettings('webhook', { url, headers: ['no colon here'] })).toMatchObject({
      field: 'headers',
    })
    expect(checkSettings('webhook', { url, body: '{"text": "{{title}}"}' })).toBeNull()
    expect(checkSettings('webhook', { url })).toBeNull()
    expect(checkSettings('slack', { webhook_url: 'not a url' })).toEqual({
      field: 'webhook_url',
      message: 'must be an http:// or https:// URL',
    })
    expect(checkSettings('ntfy', { topic: 'a/b' })).toMatchObject({ field: 'topic' })
    expect(
      checkSettings('email', { host: 'smtp', from: 'a@b', to: ['not-an-address'] }),
    ).toMatchObject({ field: 'to' })
  })

  it('reads secret headers that were kept as one string', async () => {
    // The endpoint secret store keeps String(value): "A: 1,B: 2".
    await sendNotice(
      'webhook',
      { url: `${base}/s`, secret_headers: `${secretHeader},X-Key: k-123` },
      notice(),
    )
    const r = only()
    expect(r.headers.authorization).toBe('Bearer wh-SECRET-9f8e7d6c')
    expect(r.headers['x-key']).toBe('k-123')
  })
})

describe('chat services', () => {
  it('slack: text and a mrkdwn block', async () => {
    await sendNotice(
      'slack',
      { webhook_url: `${base}/services/T0001/B0002/slackSECRETtoken1` },
      notice({ title: 'a <b> & c' }),
    )
    const r = only()
    expect(r.path).toBe('/services/T0001/B0002/slackSECRETtoken1')
    const body = JSON.parse(r.body)
    expect(body.text).toBe('a <b> & c')
    expect(body.blocks[0].text.text).toContain('*a &lt;b&gt; &amp; c*')
    expect(body.blocks[0].text.text).toContain('connection refused')
    expect(body.blocks[1].elements[0].text).toContain('<http://bulwark.local/tasks/6666|')
  })

  it('discord: an embed coloured by severity, no mentions', async () => {
    const url = `${base}/api/webhooks/123/discordSECRET456`
    answer = (_req, res) => res.writeHead(204).end()
    const result = await sendNotice('discord', { webhook_url: url }, notice())
    expect(result.status).toBe(204)
    await sendNotice('discord', { webhook_url: url }, notice({ severity: 'recovery' }))
    const [fail, good] = received.map((r) => JSON.parse(r.body))
    expect(fail.allowed_mentions).toEqual({ parse: [] })
    expect(fail.embeds[0]).toMatchObject({
      title: 'Backup of "nightly-db" failed',
      description: 'pg_dump exited with code 1\nconnection refused',
      color: 0xd03030,
      url: 'http://bulwark.local/tasks/6666',
      timestamp: '2026-12-07T03:00:00.000Z',
    })
    expect(good.embeds[0].color).toBe(0x2ea043)
  })

  it('teams: a message with an Adaptive Card', async () => {
    answer = (_req, res) => res.writeHead(202).end()
    const result = await sendNotice(
      'teams',
      { webhook_url: `${base}/workflows/abc/triggers/manual/paths/invoke?sig=teamsSECRETsig` },
      notice(),
    )
    expect(result.status).toBe(202)
    const body = JSON.parse(only().body)
    expect(body.type).toBe('message')
    const att = body.attachments[0]
    expect(att.contentType).toBe('application/vnd.microsoft.card.adaptive')
    expect(att.content).toMatchObject({ type: 'AdaptiveCard', version: '1.4' })
    expect(att.content.body[0]).toMatchObject({
      type: 'TextBlock',
      text: 'Backup of "nightly-db" failed',
      color: 'Attention',
    })
    expect(att.content.actions[0]).toMatchObject({
      type: 'Action.OpenUrl',
      url: 'http://bulwark.local/tasks/6666',
    })
  })

  it('ntfy: topic, title, tags and a raised priority for failures, token as Bearer', async () => {
    answer = (_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"id":"x1","event":"message"}')
    const result = await sendNotice(
      'ntfy',
      { server: `${base}/`, topic: 'bulwark-alerts', token: 'tk_ntfySECRET' },
      notice(),
    )
    expect(result).toEqual({ status: 200, detail: 'ntfy answered 200' })
    await sendNotice(
      'ntfy',
      { server: base, topic: 'bulwark-alerts', priority: 'low' },
      notice({ severity: 'success', event: 'backup.succeeded', title: 'Backup of nightly-db ✓' }),
    )
    const [fail, good] = received
    expect(fail?.path).toBe('/')
    expect(fail?.headers.authorization).toBe('Bearer tk_ntfySECRET')
    expect(JSON.parse(fail?.body ?? '')).toEqual({
      topic: 'bulwark-alerts',
      title: 'Backup of "nightly-db" failed',
      message: 'pg_dump exited with code 1\nconnection refused',
      priority: 4,
      tags: ['rotating_light', 'bulwark'],
      click: 'http://bulwark.local/tasks/6666',
    })
    expect(good?.headers.authorization).toBeUndefined()
    expect(JSON.parse(good?.body ?? '')).toMatchObject({
      title: 'Backup of nightly-db ✓',
      priority: 2,
      tags: ['white_check_mark', 'bulwark'],
    })
  })

  it('gotify: /message with the app token in X-Gotify-Key, never in the URL', async () => {
    await sendNotice(
      'gotify',
      { server: `${base}/gotify`, token: 'AgotifySECRET', priority: 'default' },
      notice(),
    )
    const r = only()
    expect(r.path).toBe('/gotify/message')
    expect(r.headers['x-gotify-key']).toBe('AgotifySECRET')
    const body = JSON.parse(r.body)
    expect(body).toMatchObject({ title: 'Backup of "nightly-db" failed', priority: 8 })
    expect(body.message).toContain('connection refused')
    expect(body.message).toContain('http://bulwark.local/tasks/6666')
  })

  it('telegram: sendMessage to the chat through api_url', async () => {
    answer = (_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"ok":true,"result":{"message_id":7}}')
    await sendNotice(
      'telegram',
      { bot_token: '123456:TelegramSECRET-abc', chat_id: '-100200300', api_url: base },
      notice(),
    )
    const r = only()
    expect(r.path).toBe('/bot123456:TelegramSECRET-abc/sendMessage')
    const body = JSON.parse(r.body)
    expect(body.chat_id).toBe('-100200300')
    expect(body.text).toBe(
      'Backup of "nightly-db" failed\n\npg_dump exited with code 1\nconnection refused\n\nhttp://bulwark.local/tasks/6666',
    )
    // A body that already carries the link does not get it twice.
    const withLink = 'pg_dump exited with code 1\nTask: http://bulwark.local/tasks/6666'
    await sendNotice(
      'telegram',
      { bot_token: '123456:TelegramSECRET-abc', chat_id: '-100200300', api_url: base },
      notice({ body: withLink }),
    )
    expect(JSON.parse(received[1]?.body ?? '').text).toBe(
      `Backup of "nightly-db" failed\n\n${withLink}`,
    )
  })
})

describe('healthchecks', () => {
  const ping = () => `${base}/ping/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0`

  it('pings /start, the URL and /fail by event, and skips the rest', async () => {
    const send = (event: Notice['event']) =>
      sendNotice('healthchecks', { ping_url: ping() }, notice({ event }))
    await send('backup.started')
    await send('backup.succeeded')
    await send('backup.recovered')
    await send('backup.failed')
    await send('test')
    const skipped = await send('health.stale')
    expect(skipped).toMatchObject({ skipped: true, status: null })
    const root = '/ping/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'
    expect(received.map((r) => r.path)).toEqual([`${root}/start`, root, root, `${root}/fail`, root])
    expect(received[3]?.body).toBe('pg_dump exited with code 1\nconnection refused')
  })
})

describe('refusals and failures', () => {
  const slackUrl = () => `${base}/services/T0001/B0002/slackSECRETtoken1`

  it('a 503 is retryable', async () => {
    answer = (_req, res) => res.writeHead(503).end('down for maintenance')
    const err = await refused(sendNotice('slack', { webhook_url: slackUrl() }, notice()))
    expect(err.retryable).toBe(true)
    expect(err.message).toBe('Slack answered 503: down for maintenance')
  })

  it('a 429 is retryable', async () => {
    answer = (_req, res) =>
      res
        .writeHead(429, { 'content-type': 'application/json' })
        .end('{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5"}')
    const err = await refused(
      sendNotice('telegram', { bot_token: '1:tok-abcdef', chat_id: '1', api_url: base }, notice()),
    )
    expect(err.retryable).toBe(true)
    expect(err.message).toContain('Too Many Requests')
  })

  it('a 404 is not, and says what the receiver answered', async () => {
    answer = (_req, res) => res.writeHead(404).end('no_team')
    const err = await refused(sendNotice('slack', { webhook_url: slackUrl() }, notice()))
    expect(err.retryable).toBe(false)
    expect(err.message).toBe('Slack answered 404: no_team — check the webhook URL')
  })

  it('a huge error page is cut, not held', async () => {
    answer = (_req, res) => res.writeHead(500).end('x'.repeat(5_000_000))
    const err = await refused(sendNotice('webhook', { url: `${base}/big` }, notice()))
    expect(err.retryable).toBe(true)
    expect(err.message.length).toBeLessThan(400)
  })

  it('a redirect is reported, not followed', async () => {
    answer = (_req, res) => res.writeHead(302, { location: 'https://elsewhere.example/' }).end()
    const err = await refused(
      sendNotice('webhook', { url: `${base}/r`, secret_headers: ['X-Key: redirSECRET'] }, notice()),
    )
    expect(err.retryable).toBe(false)
    expect(err.message).toContain('redirecting to https://elsewhere.example/')
    expect(received).toHaveLength(1)
  })

  it('an unreachable port is retryable', async () => {
    const port = await closedPort()
    const err = await refused(
      sendNotice('webhook', { url: `http://127.0.0.1:${port}/hook` }, notice()),
    )
    expect(err.retryable).toBe(true)
    expect(err.message).toMatch(/^Could not reach The webhook: .*ECONNREFUSED/)
  })

  it('a receiver that never answers times out, retryable', async () => {
    answer = () => undefined // holds the request open
    const err = await refused(
      sendNotice('webhook', { url: `${base}/slow` }, notice(), { timeoutMs: 300 }),
    )
    expect(err.retryable).toBe(true)
    expect(err.message).toBe('The webhook did not answer within 0.3 s')
  })

  it('a cancelled send says so', async () => {
    const ctl = new AbortController()
    answer = () => ctl.abort() // the request arrived: cancel it
    const err = await refused(
      sendNotice('webhook', { url: `${base}/c` }, notice(), { signal: ctl.signal }),
    )
    expect(err.message).toBe('Sending to The webhook was cancelled')
  })
})

describe('secrets', () => {
  /** A receiver that echoes everything it got, the way some error pages do. */
  const echo = (status: number) => (req: Received, res: ServerResponse) =>
    res
      .writeHead(status, { 'content-type': 'text/plain' })
      .end(`${req.method} ${req.path} ${JSON.stringify(req.headers)} ${req.body}`)

  const cases: { kind: ChannelKind; settings: () => Record<string, unknown>; secret: string }[] = [
    {
      kind: 'slack',
      settings: () => ({ webhook_url: `${base}/services/T0001/B0002/slackPathTOKEN77` }),
      secret: 'slackPathTOKEN77',
    },
    {
      kind: 'discord',
      settings: () => ({ webhook_url: `${base}/api/webhooks/42/discordPathTOKEN88` }),
      secret: 'discordPathTOKEN88',
    },
    {
      kind: 'telegram',
      settings: () => ({ bot_token: '987654:BotTOKENsecret99', chat_id: '5', api_url: base }),
      secret: 'BotTOKENsecret99',
    },
    {
      kind: 'webhook',
      settings: () => ({ url: `${base}/h`, secret_headers: ['X-Api-Key: headerSECRET11'] }),
      secret: 'headerSECRET11',
    },
    {
      kind: 'webhook',
      settings: () => ({
        url: `${base}/h`,
        secret_headers: ['Authorization: Bearer bearerSECRET12'],
      }),
      secret: 'bearerSECRET12',
    },
    {
      kind: 'gotify',
      settings: () => ({ server: base, token: 'gotifyKEYsecret13' }),
      secret: 'gotifyKEYsecret13',
    },
    {
      kind: 'ntfy',
      settings: () => ({ server: base, topic: 't', token: 'ntfyTOKENsecret14' }),
      secret: 'ntfyTOKENsecret14',
    },
    {
      kind: 'healthchecks',
      settings: () => ({ ping_url: `${base}/ping/aaaabbbb-cccc-dddd-eeee-ffff00001111` }),
      secret: 'aaaabbbb-cccc-dddd-eeee-ffff00001111',
    },
  ]

  for (const c of cases) {
    it(`${c.kind}: the ${c.secret} never shows, whatever the receiver echoes`, async () => {
      const texts: string[] = []
      answer = echo(200)
      texts.push((await sendNotice(c.kind, c.settings(), notice({ event: 'test' }))).detail)
      for (const status of [400, 503]) {
        answer = echo(status)
        texts.push((await refused(sendNotice(c.kind, c.settings(), notice()))).message)
      }
      // The receiver did get it, so it was there to leak.
      expect(received.map((r) => r.path + JSON.stringify(r.headers)).join(' ')).toContain(c.secret)
      expect(texts.join('\n')).toContain('<redacted>')
      for (const t of texts) expect(t).not.toContain(c.secret)
    })
  }

  it('an unreachable secret URL is not echoed in the network error', async () => {
    const port = await closedPort()
    const err = await refused(
      sendNotice(
        'slack',
        { webhook_url: `http://127.0.0.1:${port}/services/T1/B1/unreachableSECRET15` },
        notice(),
      ),
    )
    expect(err.retryable).toBe(true)
    expect(err.message).not.toContain('unreachableSECRET15')
  })
})

// ---- email -----------------------------------------------------------------

interface Mail {
  from: string
  to: string[]
  raw: string
  secure: boolean
  user: string | undefined
}

let certDir: string
let key: Buffer
let cert: Buffer

beforeAll(() => {
  certDir = mkdtempSync(join(tmpdir(), 'bulwark-smtp-'))
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-keyout',
      join(certDir, 'key.pem'),
      '-out',
      join(certDir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  )
  key = readFileSync(join(certDir, 'key.pem'))
  cert = readFileSync(join(certDir, 'cert.pem'))
})
afterAll(() => rmSync(certDir, { recursive: true, force: true }))

/** The Subject header, undoing the =?UTF-8?Q?...?= encoding mailers use for quotes. */
function subject(raw: string): string {
  const line = /^Subject: (.*)$/m.exec(raw)?.[1] ?? ''
  const q = /^=\?UTF-8\?Q\?(.*)\?=$/i.exec(line)?.[1]
  if (q === undefined) return line
  return Buffer.from(
    q
      .replace(/_/g, ' ')
      .replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  ).toString('utf8')
}

const PASSWORD = 'smtpPASS-secret-17'

/** A real SMTP server that keeps what it is sent and accepts user "bulwark" with PASSWORD. */
async function smtp(options: SMTPServerOptions): Promise<{
  port: number
  mails: Mail[]
  close: () => Promise<void>
}> {
  const mails: Mail[] = []
  const server = new SMTPServer({
    authOptional: true,
    logger: false,
    onAuth(auth, _session, cb) {
      // Echoes the password when refusing, as a careless server might.
      if (auth.username === 'bulwark' && auth.password === PASSWORD) cb(null, { user: 'bulwark' })
      else cb(new Error(`Invalid login for ${auth.username} with ${auth.password ?? ''}`))
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          secure: session.secure,
          user: session.user as string | undefined,
        })
        cb()
      })
    },
    ...options,
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const port = (server.server.address() as { port: number }).port
  return {
    port,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

const mailSettings = (port: number, over: Record<string, unknown> = {}) => ({
  host: '127.0.0.1',
  port,
  security: 'none',
  username: 'bulwark',
  password: PASSWORD,
  from: 'Bulwark <bulwark@example.com>',
  to: ['ops@example.com', 'dba@example.com'],
  ...over,
})

describe('email', () => {
  it('sends a plain-text and HTML message over a plain connection', async () => {
    const s = await smtp({ disabledCommands: ['STARTTLS'], allowInsecureAuth: true })
    try {
      const result = await sendNotice('email', mailSettings(s.port), notice())
      expect(result.status).toBe(250)
      expect(result.detail).toMatch(/^The mail server accepted it: 250/)
      expect(s.mails).toHaveLength(1)
      const m = s.mails[0] as Mail
      expect(m).toMatchObject({
        from: 'bulwark@example.com',
        to: ['ops@example.com', 'dba@example.com'],
        secure: false,
        user: 'bulwark',
      })
      expect(subject(m.raw)).toBe('Backup of "nightly-db" failed')
      expect(m.raw).toContain('Content-Type: text/plain')
      expect(m.raw).toContain('Content-Type: text/html')
      expect(m.raw).toContain('connection refused')
      expect(m.raw).toContain('Backup of &#34;nightly-db&#34; failed')
    } finally {
      await s.close()
    }
  })

  it('upgrades with STARTTLS to a self-signed server when verify_tls is off', async () => {
    const s = await smtp({ key, cert })
    try {
      await sendNotice(
        'email',
        mailSettings(s.port, { security: 'starttls', verify_tls: false }),
        notice(),
      )
      expect(s.mails).toHaveLength(1)
      expect(s.mails[0]?.secure).toBe(true)
      expect(s.mails[0]?.user).toBe('bulwark')
    } finally {
      await s.close()
    }
  })

  it('refuses the self-signed certificate when verify_tls is on', async () => {
    const s = await smtp({ key, cert })
    try {
      const err = await refused(
        sendNotice('email', mailSettings(s.port, { security: 'starttls' }), notice()),
      )
      expect(err.retryable).toBe(false)
      expect(err.message).toMatch(
        /^The mail server's TLS certificate was refused \(.*self[- ]signed/,
      )
      expect(err.message).toContain('Verify TLS certificate')
      expect(s.mails).toHaveLength(0)
    } finally {
      await s.close()
    }
  })

  it('speaks TLS from the first byte with security tls', async () => {
    const s = await smtp({ secure: true, key, cert })
    try {
      await sendNotice(
        'email',
        mailSettings(s.port, { security: 'tls', verify_tls: false }),
        notice({ severity: 'recovery', title: 'Backup of nightly-db recovered' }),
      )
      expect(s.mails[0]?.secure).toBe(true)
      expect(subject(s.mails[0]?.raw ?? '')).toBe('Backup of nightly-db recovered')
    } finally {
      await s.close()
    }
  })

  it('will not send in clear when starttls is asked for and not offered', async () => {
    const s = await smtp({ disabledCommands: ['STARTTLS'], allowInsecureAuth: true })
    try {
      const err = await refused(
        sendNotice('email', mailSettings(s.port, { security: 'starttls' }), notice()),
      )
      expect(err.retryable).toBe(false)
      expect(err.message).toContain('security setting')
      expect(s.mails).toHaveLength(0)
    } finally {
      await s.close()
    }
  })

  it('a refused login is not retryable and never shows the password', async () => {
    const s = await smtp({ disabledCommands: ['STARTTLS'], allowInsecureAuth: true })
    try {
      const err = await refused(
        sendNotice('email', mailSettings(s.port, { password: `${PASSWORD}-wrong` }), notice()),
      )
      expect(err.retryable).toBe(false)
      expect(err.message).toMatch(
        /^The mail server refused the login: 535 .*check the username and password$/,
      )
      expect(err.message).toContain('<redacted>')
      expect(err.message).not.toContain(PASSWORD)
    } finally {
      await s.close()
    }
  })

  it('says so when security tls meets a server that starts in clear', async () => {
    const s = await smtp({ disabledCommands: ['STARTTLS'], allowInsecureAuth: true })
    try {
      const err = await refused(
        sendNotice('email', mailSettings(s.port, { security: 'tls' }), notice(), {
          timeoutMs: 5000,
        }),
      )
      expect(err.retryable).toBe(false)
      expect(err.message).toContain('for port 587 use "starttls"')
    } finally {
      await s.close()
    }
  })

  it('an unreachable mail server is retryable', async () => {
    const port = await closedPort()
    const err = await refused(sendNotice('email', mailSettings(port), notice()))
    expect(err.retryable).toBe(true)
    expect(err.message).toContain('ECONNREFUSED')
  })
})
