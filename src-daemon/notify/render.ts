// Turning a Notice into text: the webhook kind's JSON body templates and the
// plain text other kinds send. Nothing here does I/O.
import type { Notice } from '../contract/notifications'

/** The placeholders a webhook body template may use, besides {{fields.<name>}}. */
export const TEMPLATE_PLACEHOLDERS = [
  'event',
  'severity',
  'title',
  'body',
  'at',
  'job.name',
  'job.uuid',
  'task.uuid',
  'task.url',
  'url',
] as const

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g

/** The value a placeholder stands for; missing values (no job, no url) are ''. */
function lookup(notice: Notice, name: string): string {
  let v: unknown
  if (name.startsWith('fields.')) v = notice.fields[name.slice('fields.'.length)]
  else if (name === 'job.name') v = notice.job?.name
  else if (name === 'job.uuid') v = notice.job?.uuid
  else if (name === 'task.uuid') v = notice.task?.uuid
  else if (name === 'task.url') v = notice.task?.url
  else v = (notice as unknown as Record<string, unknown>)[name]
  return v === undefined || v === null ? '' : String(v)
}

/** Names in a template that are neither a known placeholder nor fields.<name>. */
export function unknownPlaceholders(template: string): string[] {
  const known = new Set<string>(TEMPLATE_PLACEHOLDERS)
  const bad: string[] = []
  for (const m of template.matchAll(PLACEHOLDER)) {
    const name = m[1] ?? ''
    if (!known.has(name) && !/^fields\.[A-Za-z0-9_-]+$/.test(name)) bad.push(name)
  }
  return bad
}

/**
 * Fills a JSON template. Each value is escaped as the inside of a JSON string
 * (quotes, backslashes, newlines), so a placeholder written inside quotes can
 * never break the document or inject keys, whatever a job name contains.
 */
export function renderTemplate(template: string, notice: Notice): string {
  return template.replace(PLACEHOLDER, (_all, name: string) =>
    JSON.stringify(lookup(notice, name)).slice(1, -1),
  )
}

/** A made-up notice for checking templates when a channel is saved. */
export const SAMPLE_NOTICE: Notice = {
  event: 'test',
  severity: 'info',
  title: 'Sample "title"',
  body: 'line one\nline two',
  at: '2026-01-01T00:00:00.000Z',
  job: { uuid: '00000000-0000-0000-0000-000000000000', name: 'sample' },
  task: { uuid: '00000000-0000-0000-0000-000000000001', url: null },
  url: null,
  fields: {},
}

/** Title, body and link as plain text, for kinds without formatting. */
export function plainText(notice: Notice): string {
  const parts = [notice.title]
  if (notice.body) parts.push('', notice.body)
  const link = notice.task?.url ?? notice.url
  // Bodies built by the rules often carry the link already ("Task: <url>").
  if (link && !notice.body.includes(link)) parts.push('', link)
  return parts.join('\n')
}

/** Cuts text to a receiver's limit, marking the cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…'
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** The notice's link to the task or page in Bulwark, when it is an http(s) URL. */
export const noticeLink = (n: Notice): string | null => {
  const link = n.task?.url ?? n.url ?? null
  if (!link) return null
  try {
    const { protocol } = new URL(link)
    return protocol === 'http:' || protocol === 'https:' ? link : null
  } catch {
    return null
  }
}

/** A colour per severity, for the kinds that show one (Discord, email). */
export const NOTICE_COLOURS: Record<Notice['severity'], number> = {
  failure: 0xd03030,
  warning: 0xe0a000,
  recovery: 0x2ea043,
  success: 0x2ea043,
  info: 0x3b82f6,
}
