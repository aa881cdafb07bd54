// The real `bulwark` binary against a real daemon (its agent listener off:
// creating an agent needs none), for remote agents: create prints the line to
// run on the agent's host and its expiry (--json: the whole AgentCreated);
// list and show say it is pending, with no host yet; a target naming it is
// listed with it, and delete is refused while the target uses it; agents are
// found by name, uuid or prefix, and an unknown one is named in the error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentCreated, AgentView } from '../../src-daemon/contract/agents'
import { runCli, startDaemon, tempDir, type RunningDaemon } from '../helpers/daemon'

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/
const MISSING_UUID = '00000000-0000-4000-8000-000000000000'

describe('bulwark agents', () => {
  let d: RunningDaemon
  const cli = (...args: string[]) => runCli(args, { dataDir: d.dataDir })
  async function ok(...args: string[]): Promise<string> {
    const r = await cli(...args)
    expect(r.stderr, `bulwark ${args.join(' ')}`).toBe('')
    expect(r.code, `bulwark ${args.join(' ')}`).toBe(0)
    return r.stdout
  }
  const json = async <T>(...args: string[]) => JSON.parse(await ok(...args, '--json')) as T
  async function fails(code: number, ...args: string[]): Promise<string> {
    const r = await cli(...args)
    expect(r.code, `bulwark ${args.join(' ')}: ${r.stderr}`).toBe(code)
    expect(r.stdout).toBe('')
    return r.stderr
  }
  const rowOf = (table: string, name: string) =>
    table.split('\n').find((l) => l.split(/\s{2,}/).includes(name)) ?? ''

  beforeAll(async () => {
    d = await startDaemon()
  })
  afterAll(async () => {
    await d?.stop()
  })

  it('documents the agent commands', async () => {
    const [help, createHelp] = await Promise.all([cli('help'), cli('create', 'agent', '--help')])
    expect(help.stdout).toMatch(/^ {2}list agents {2,}list remote agents/m)
    expect(help.stdout).toMatch(/^ {2}create agent {2,}create an agent/m)
    expect(help.stdout).toMatch(/^ {2}delete agent REF {2,}delete an agent/m)
    expect(help.stdout).toMatch(/^ {2}pair agent REF {2,}print a new pairing line/m)
    expect(createHelp.stdout).toMatch(/^Usage: {2}bulwark create agent --name NAME/)
    expect(createHelp.stdout).toContain('--agent-listen')
  })

  it('creates, lists, shows and deletes an agent', async () => {
    const out = await ok('create', 'agent', '--name', 'db-host-1')
    const lines = out.trimEnd().split('\n')
    expect(lines).toHaveLength(3)
    const uuid = new RegExp(`^created agent "db-host-1" (${UUID.source})$`).exec(lines[0]!)?.[1]
    expect(uuid, out).toBeTruthy()
    expect(lines[1]).toMatch(
      /^Run this on the agent's host; its token works once, until \d{4}-\d\d-\d\d \d\d:\d\d:$/,
    )
    expect(lines[2]).toMatch(/^bulwark agent .*--pair \S+$/)

    const listed = await ok('list', 'agents')
    expect(listed).toMatch(/^UUID +NAME +STATE +HOST +VERSION +LAST SEEN +TARGETS\n/)
    expect(rowOf(listed, 'db-host-1').split(/\s{2,}/)).toEqual([
      uuid!.slice(0, 8),
      'db-host-1',
      'pending',
      '-',
      '-',
      'never',
      '-',
    ])

    for (const ref of ['db-host-1', uuid!, uuid!.slice(0, 6)]) {
      const shown = await ok('show', 'agent', ref)
      expect(shown).toMatch(new RegExp(`^UUID: +${uuid}\\nName: +db-host-1\\nState: +pending\\n`))
      expect(shown).toMatch(/^Paired: +not yet/m)
      expect(shown).toMatch(/^Targets: +none$/m)
    }

    expect(await ok('delete', 'agent', 'db-host-1')).toBe(`deleted agent "db-host-1" (${uuid})\n`)
    expect(await ok('list', 'agents')).toBe(
      'no agents (bulwark create agent --name NAME adds one)\n',
    )
  })

  it('gives the whole AgentCreated and AgentView with --json', async () => {
    const created = await json<AgentCreated>('create', 'agent', '--name', 'json-agent')
    expect(Object.keys(created).sort()).toEqual(['command', 'expires_at', 'ok', 'token', 'uuid'])
    expect(created.ok).toBe('created')
    expect(created.uuid).toMatch(UUID)
    expect(created.command).toContain(`--pair ${created.token}`)
    expect(new Date(created.expires_at).getTime()).toBeGreaterThan(Date.now())

    const listed = await json<AgentView[]>('list', 'agents')
    const api = (await d.api<AgentView[]>('GET', '/v1/agents')).body
    expect(listed).toEqual(api)
    const shown = await json<AgentView>('show', 'agent', 'json-agent')
    expect(shown).toMatchObject({
      uuid: created.uuid,
      name: 'json-agent',
      state: 'pending',
      host: '',
      version: '',
      paired_at: null,
      last_seen: null,
      targets: [],
    })
    const again = await json<AgentCreated>('pair', 'agent', 'json-agent')
    expect(again).toMatchObject({ ok: 'token', uuid: created.uuid })
    expect(again.token).not.toBe(created.token)
    expect(await ok('pair', 'agent', 'json-agent')).toMatch(
      /^bulwark agent --server \S+ --pair \S+$/m,
    )
    expect(await json('delete', 'agent', created.uuid)).toEqual({ ok: 'deleted' })
  })

  it('refuses to delete an agent a target runs on, naming the target', async () => {
    const created = await json<AgentCreated>('create', 'agent', '--name', 'nas-1')
    await ok(
      'create',
      'target',
      '--name',
      'photos',
      '--plugin',
      'files',
      '--set',
      `path=${tempDir('bulwark-cli-agents-')}`,
      '--agent',
      'nas-1',
    )
    expect(rowOf(await ok('list', 'agents'), 'nas-1')).toMatch(/ {2}photos$/)
    expect(await ok('show', 'agent', 'nas-1')).toMatch(/^Targets: +photos$/m)

    const refused = await fails(1, 'delete', 'agent', 'nas-1')
    const api = await d.api<{ error: { message: string } }>('DELETE', `/v1/agent/${created.uuid}`)
    expect(api.status).toBe(400)
    expect(refused).toMatch(/^bulwark: /)
    expect(refused).toContain(api.body.error.message)
    expect(refused).toContain('photos')

    await ok('delete', 'target', 'photos')
    await ok('delete', 'agent', 'nas-1')
  })

  it('names an unknown agent in the error', async () => {
    await ok('create', 'agent', '--name', 'known-one')
    expect(await fails(1, 'show', 'agent', 'nope')).toBe(
      'bulwark: no agent matches "nope"; known agents: known-one\n',
    )
    expect(await fails(1, 'delete', 'agent', 'known-on')).toContain('did you mean "known-one"?')
    const api404 = await d.api<{ error: { message: string } }>('GET', `/v1/agent/${MISSING_UUID}`)
    expect(api404.status).toBe(404)
    expect(await fails(1, 'show', 'agent', MISSING_UUID)).toBe(
      `bulwark: ${api404.body.error.message}\n`,
    )
    expect(await fails(2, 'create', 'agent')).toContain('--name')
    const bad = await fails(1, 'create', 'agent', '--name', 'bad name!')
    expect(bad).toContain('name')
  })
})
