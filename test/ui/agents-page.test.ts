// @vitest-environment happy-dom
// The Agents page and a target's "Runs on" against a real daemon (its agent
// listener off: creating an agent needs none): an agent created on the page
// shows its one-line command with --pair, its expiry, and Copy; it is listed
// as pending and removed after a question. The list follows agents made
// elsewhere without an event. A target given an agent in the editor is saved
// with agent=<name> and the targets list says where it runs; removing an agent
// a target still uses shows the daemon's refusal and keeps the row.
import { flushPromises } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { PluginInfo, Target } from '../../src-daemon/contract'
import type { Component } from 'vue'
import type { AgentCreated, AgentView } from '../../src-daemon/contract/agents'
import EndpointEditor from '../../src-renderer/src/components/EndpointEditor.vue'
import AgentsPage from '../../src-renderer/src/pages/AgentsPage.vue'
import TargetsPage from '../../src-renderer/src/pages/TargetsPage.vue'
import { tempDir, type RunningDaemon } from '../helpers/daemon'
import { byTestId, input, mountEditor, save, startUiDaemon, type, until } from '../helpers/ui'
import { mountPage, unmountPages } from '../helpers/ui-page'

let d: RunningDaemon
beforeAll(async () => {
  d = await startUiDaemon()
})
afterAll(async () => {
  await d?.stop()
})

afterEach(unmountPages)

/** Mounts `page` at `path`, signed in, in the providers the app gives it. */
const mountAt = (path: string, page: Component) => mountPage(d, path, [{ path, component: page }])

const row = (name: string) =>
  document.querySelector<HTMLElement>(`[data-testid="agent-row"][data-name="${name}"]`)
const inRow = (name: string, testid: string) =>
  row(name)?.querySelector<HTMLElement>(`[data-testid="${testid}"]`) ?? null
const toasts = () =>
  [...document.querySelectorAll('.n-message')].map((m) => m.textContent ?? '').join('\n')
const fieldError = (name: string) =>
  document.querySelector(`[data-field="${name}"] .n-form-item-feedback`)?.textContent ?? ''

const agents = async () => (await d.api<AgentView[]>('GET', '/v1/agents')).body

async function createAgent(name: string): Promise<AgentCreated> {
  const res = await d.api<AgentCreated>('POST', '/v1/agents', { name })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body
}

async function deleteAllAgents() {
  for (const t of (await d.api<Target[]>('GET', '/v1/targets')).body)
    await d.api('DELETE', `/v1/target/${t.uuid}`)
  for (const a of await agents()) await d.api('DELETE', `/v1/agent/${a.uuid}`)
}

/** Answers the open question with the button labelled `label`. */
async function answer(title: string, label: string) {
  const dialog = await until(() => document.querySelector<HTMLElement>('.n-dialog'), 'a question')
  expect(dialog.textContent).toContain(title)
  ;[...dialog.querySelectorAll<HTMLElement>('button')]
    .find((b) => b.textContent?.trim() === label)!
    .click()
  await flushPromises()
}

describe('AgentsPage', () => {
  afterEach(deleteAllAgents)

  it('explains agents while there are none, and creates one: command, expiry, pending', async () => {
    await mountAt('/agents', AgentsPage)
    const empty = await until(() => byTestId('empty-state'), 'the empty state')
    expect(empty.textContent).toContain('No agents yet')
    expect(empty.textContent).toMatch(/another host/)

    byTestId('first-agent')!.click()
    await until(() => input('name'), 'the name field')
    // Checked before sending: a name the daemon would refuse.
    await type('name', 'bad name!')
    byTestId('editor-save')!.click()
    await until(() => fieldError('name').includes('Letters, digits'), 'the name refused')
    expect(await agents()).toHaveLength(0)

    await type('name', 'db-host-1')
    byTestId('editor-save')!.click()
    const command = await until(() => input('command'), 'the command to run', 30_000)
    expect(command.readOnly).toBe(true)
    expect(command.value).toMatch(/^bulwark agent .*--pair \S+/)
    const [agent] = await agents()
    expect(agent).toMatchObject({ name: 'db-host-1', state: 'pending', targets: [] })
    const note = byTestId('agent-token-note')!.textContent ?? ''
    expect(note).toContain('works once')
    expect(note).toContain('--agent-listen')
    expect(byTestId('agent-expires')!.textContent?.trim()).toMatch(/\d/)

    byTestId('agent-command-copy')!.click()
    await until(() => byTestId('agent-command-copy')!.textContent?.includes('Copied'), 'Copied')
    expect(await navigator.clipboard.readText()).toBe(command.value)

    byTestId('agent-created-done')!.click()
    await until(() => !input('command'), 'the dialog to close')
    await until(() => row('db-host-1'), 'the new row')
    expect(inRow('db-host-1', 'agent-state')!.dataset.state).toBe('pending')
    expect(inRow('db-host-1', 'agent-last-seen')!.textContent).toBe('never')
    expect(inRow('db-host-1', 'agent-targets')!.textContent).toBe('none')
  })

  it('puts the daemon’s refusal of a taken name on the name field', async () => {
    await createAgent('taken')
    await mountAt('/agents', AgentsPage)
    await until(() => row('taken'), 'the row')
    byTestId('new-agent')!.click()
    await until(() => input('name'), 'the name field')
    await type('name', 'taken')
    byTestId('editor-save')!.click()
    await until(() => fieldError('name').includes('taken'), 'the daemon’s refusal', 30_000)
    expect(input('command')).toBeNull()
    expect(await agents()).toHaveLength(1)
  })

  it('gives an agent a new pairing line, saying what pairing with it does', async () => {
    const first = await createAgent('rebuilt-host')
    await mountAt('/agents', AgentsPage)
    await until(() => row('rebuilt-host'), 'the row')
    byTestId('agent-pair-rebuilt-host')!.click()
    await until(() => input('command'), 'the new line')
    const line = input('command')!.value
    expect(line).toMatch(/^bulwark agent --server https:\/\/\S+ --pair \S+$/)
    expect(line).not.toContain(first.token)
    expect(document.body.textContent).toContain("replaces the agent's key")
    // Asking changes nothing else: the agent is still there, still waiting to pair.
    const row0 = (await agents()).find((a) => a.name === 'rebuilt-host')!
    expect(row0.state).toBe('pending')
  })

  it('lists an agent made elsewhere by itself, and removes one after asking', async () => {
    await mountAt('/agents', AgentsPage)
    await until(() => byTestId('empty-state'), 'the empty state')
    // No event announces an agent: the page's own refresh finds it.
    await createAgent('made-by-api')
    await until(() => row('made-by-api'), 'the agent made elsewhere to show', 15_000)

    byTestId('agent-remove-made-by-api')!.click()
    await answer('Remove agent made-by-api?', 'Cancel')
    expect(row('made-by-api')).toBeTruthy()
    byTestId('agent-remove-made-by-api')!.click()
    await answer('Remove agent made-by-api?', 'Remove')
    await until(() => toasts().includes('Removed agent made-by-api'), 'the confirmation')
    await until(() => !row('made-by-api'), 'the row to go', 15_000)
    expect(await agents()).toHaveLength(0)
  })
})

describe('a target that runs on an agent', () => {
  afterEach(deleteAllAgents)

  /**
   * Chooses the Runs on option `by` places below the chosen one (above if
   * negative) by keys, as happy-dom draws no menu options: open, move, Enter.
   */
  async function pickRunsOn(by: number, label: string) {
    const select = byTestId('runs-on-select')!
    const selection = select.querySelector<HTMLElement>('.n-base-selection')!
    selection.click()
    await flushPromises()
    const key = by < 0 ? 'ArrowUp' : 'ArrowDown'
    for (let i = 0; i < Math.abs(by); i++) {
      selection.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }))
      await flushPromises()
    }
    selection.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }))
    await until(() => select.textContent?.includes(label), `${label} to be picked`)
  }

  it('is saved with the agent’s name, and its agent cannot be removed while it does', async () => {
    await createAgent('nas-1')
    const plugins = (await d.api<PluginInfo[]>('GET', '/v1/plugins?kind=target')).body
    const { saved } = await mountEditor(d, EndpointEditor, {
      kind: 'target',
      mode: 'create',
      plugins: plugins.filter((p) => p.name === 'files'),
      existing: null,
    })
    const select = await until(() => byTestId('runs-on-select'), 'the Runs on field')
    expect(select.textContent).toContain('This daemon')
    await until(() => fieldError('agent').includes('remote agent'), 'the agents to load')
    await pickRunsOn(1, 'nas-1')
    await type('name', 'nas-photos')
    await type('path', tempDir('bulwark-ui-agent-target-'))
    await save()
    await until(() => saved.length, 'the target to be saved', 30_000)
    const target = (await d.api<Target>('GET', `/v1/target/${saved[0]}`)).body
    expect(target.agent).toBe('nas-1')
    unmountPages()

    // The targets list says where each runs.
    await d.api('POST', '/v1/targets', {
      name: 'local-docs',
      plugin: 'files',
      endpoint: { path: tempDir('bulwark-ui-local-target-') },
    })
    await mountAt('/targets', TargetsPage)
    const where = (name: string) =>
      document
        .querySelector(`[data-testid="target-list-row"][data-name="${name}"]`)
        ?.querySelector('[data-testid="target-agent"]')?.textContent
    await until(() => where('nas-photos') === 'nas-1', 'the target to run on nas-1')
    expect(where('local-docs')).toBe('this host')
    unmountPages()

    // The agent's row names the target; removing it is refused in the daemon's words.
    await mountAt('/agents', AgentsPage)
    await until(() => inRow('nas-1', 'agent-targets')?.textContent === 'nas-photos', 'its target')
    byTestId('agent-remove-nas-1')!.click()
    await answer('Remove agent nas-1?', 'Remove')
    await until(() => toasts().includes('nas-1 was not removed'), 'the refusal', 30_000)
    expect(toasts()).toContain('nas-photos')
    expect(row('nas-1')).toBeTruthy()
    expect((await agents()).map((a) => a.name)).toEqual(['nas-1'])
  })

  it('moves back to this host when edited so', async () => {
    await createAgent('nas-2')
    const res = await d.api('POST', '/v1/targets', {
      name: 'moving',
      plugin: 'files',
      endpoint: { path: tempDir('bulwark-ui-moving-') },
      agent: 'nas-2',
    })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    const existing = (await d.api<Target>('GET', `/v1/target/${res.body.uuid}`)).body
    const plugins = (await d.api<PluginInfo[]>('GET', '/v1/plugins?kind=target')).body
    const { saved } = await mountEditor(d, EndpointEditor, {
      kind: 'target',
      mode: 'edit',
      plugins,
      existing,
    })
    const select = await until(() => byTestId('runs-on-select'), 'the Runs on field')
    // Once the agents are listed it reads as one of them (pending: never paired).
    await until(() => select.textContent?.includes('nas-2 (pending)'), 'the agent shown')
    await pickRunsOn(-1, 'This daemon')
    await save()
    await until(() => saved.length, 'the target to be saved', 30_000)
    expect((await d.api<Target>('GET', `/v1/target/${existing.uuid}`)).body.agent).toBe('')
  })
})
