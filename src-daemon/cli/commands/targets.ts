// bulwark list|show|create|edit|delete|test target
import type { Command } from '../command'
import { endpointCommands } from './endpoint-resources'

export const targetCommands: Command[] = endpointCommands('target', {
  list: (c, q) => c.listTargets(q),
  get: (c, uuid) => c.getTarget(uuid),
  create: (c, body) => c.createTarget(body),
  update: (c, uuid, body) => c.updateTarget(uuid, body),
  remove: (c, uuid) => c.deleteTarget(uuid),
  test: (c, uuid) => c.testTarget(uuid),
})
