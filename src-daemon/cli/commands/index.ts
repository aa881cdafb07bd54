// Every command, in the order `bulwark help` lists them.
import type { Command } from '../command'
import { agentCommands } from './agents'
import { archiveCommands } from './archives'
import { channelCommands } from './channels'
import { jobCommands } from './jobs'
import { lockCommands } from './locks'
import { metaCommands } from './meta'
import { pluginCommands } from './plugins'
import { retentionCommands } from './retention'
import { scheduleCommands } from './schedules'
import { storeCommands } from './stores'
import { targetCommands } from './targets'
import { taskCommands } from './tasks'
import { treeCommands } from './trees'
import { vaultCommands } from './vault'

export const COMMANDS: readonly Command[] = [
  ...targetCommands,
  ...agentCommands,
  ...storeCommands,
  ...vaultCommands,
  ...lockCommands,
  ...scheduleCommands,
  ...retentionCommands,
  ...jobCommands,
  ...archiveCommands,
  ...treeCommands,
  ...taskCommands,
  ...pluginCommands,
  ...channelCommands,
  ...metaCommands,
]
