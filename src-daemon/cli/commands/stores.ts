// bulwark list|show|create|edit|delete|test|import|gc store
import type { Command } from '../command'
import { endpointCommands } from './endpoint-resources'
import { storeVaultCommands } from './store-vault'

export const storeCommands: Command[] = [
  ...endpointCommands('store', {
    list: (c, q) => c.listStores(q),
    get: (c, uuid) => c.getStore(uuid),
    create: (c, body) => c.createStore(body),
    update: (c, uuid, body) => c.updateStore(uuid, body),
    remove: (c, uuid) => c.deleteStore(uuid),
    test: (c, uuid) => c.testStore(uuid),
  }),
  ...storeVaultCommands,
]
