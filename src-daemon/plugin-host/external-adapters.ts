// Adapters that make an external plugin executable look like an SDK
// TargetPlugin or StorePlugin. Each call runs `<exe> <action>` with the
// endpoint JSON in $BULWARK_ENDPOINT and $SHIELD_ENDPOINT (never on argv, where
// `ps` shows it to every user), `--key` on argv for retrieve and purge, data on
// stdin / stdout, stderr to the task log. See docs/plugin-protocol.md.
import type { Readable } from 'node:stream'
import {
  PluginError,
  PluginNotFoundError,
  checkKey,
  spawnInput,
  spawnOutput,
  type Endpoint,
  type PluginContext,
  type StoreCapabilities,
  type StoredObject,
  type StorePlugin,
  type TargetPlugin,
  type ToolOptions,
} from '../../plugins/sdk'
import { describeFailure, exitError, runAction } from './external-run'

/**
 * Bulwark extension: `retrieve` exiting with 66 (EX_NOINPUT in sysexits.h)
 * says there is no blob under the key. Any other failure cannot be told from
 * a missing key, and stays a plain PluginError.
 */
export const EXIT_NO_SUCH_KEY = 66

/**
 * The protocol has no stat or listing, so an external store cannot hold a
 * chunked vault, and nothing says its store action is atomic. Each call is
 * a process of its own: a few at once are fine.
 */
export const EXTERNAL_STORE_CAPABILITIES: StoreCapabilities = Object.freeze({
  vault: false,
  atomicPut: false,
  rangedGet: false,
  connections: 4,
})

export interface ExternalMeta {
  /** The plugin's name: its executable's file name. */
  name: string
  /** Absolute path of the executable. */
  exe: string
  version: string
  /** Its info listed "test": "yes" in features. */
  test: boolean
}

/** The environment that carries the endpoint to the plugin. */
export function endpointEnv(endpoint: Endpoint): Record<string, string> {
  const json = JSON.stringify(endpoint)
  return { BULWARK_ENDPOINT: json, SHIELD_ENDPOINT: json }
}

/** Task-log lines from spawnOutput/spawnInput carry the executable's path; show the name instead. */
function named(ctx: PluginContext, meta: ExternalMeta): PluginContext {
  const prefix = `${meta.exe}: `
  return {
    signal: ctx.signal,
    log: (line) =>
      ctx.log(line.startsWith(prefix) ? `${meta.name}: ${line.slice(prefix.length)}` : line),
  }
}

function tool(meta: ExternalMeta, action: string, endpoint: Endpoint): ToolOptions {
  return {
    env: endpointEnv(endpoint),
    explain: (stderr, code) => exitError(meta.name, action, stderr, code),
  }
}

/**
 * Resolves once the stream has data or has ended cleanly, and rejects if it
 * fails first: a plugin that fails at once (no such key, bad credentials)
 * rejects the call rather than handing back a stream that errors later.
 */
function whenReadable(stream: Readable): Promise<Readable> {
  return new Promise((resolve, reject) => {
    const ready = () => {
      stream.off('error', fail)
      resolve(stream)
    }
    const fail = (err: Error) => {
      stream.off('readable', ready)
      reject(err)
    }
    stream.once('readable', ready)
    stream.once('error', fail)
  })
}

async function connectionTest(
  meta: ExternalMeta,
  endpoint: Endpoint,
  ctx: PluginContext,
): Promise<string> {
  if (!meta.test)
    return `external plugin ${meta.name} ${meta.version} (no connection test available)`
  const { stdout } = await runAction(meta.exe, {
    name: meta.name,
    action: 'test',
    env: endpointEnv(endpoint),
    ctx,
    maxStdout: 64 * 1024,
  })
  const line = stdout
    .split('\n')
    .map((l) => l.trim())
    .find(Boolean)
  return line ?? `external plugin ${meta.name} ${meta.version}: test passed`
}

export function externalTarget(meta: ExternalMeta): TargetPlugin {
  return {
    async backup(endpoint, ctx) {
      return whenReadable(
        spawnOutput(meta.exe, ['backup'], named(ctx, meta), tool(meta, 'backup', endpoint)),
      )
    },
    async restore(endpoint, data, ctx) {
      await spawnInput(
        meta.exe,
        ['restore'],
        data,
        named(ctx, meta),
        tool(meta, 'restore', endpoint),
      )
    },
    test: (endpoint, ctx) => connectionTest(meta, endpoint, ctx),
  }
}

/** The key a store action printed: `{"key": "..."}` on stdout; other keys are ignored. */
export function parseStoredKey(name: string, stdout: string): string {
  let parsed: unknown
  try {
    parsed = JSON.parse(stdout.trim())
  } catch {
    parsed = undefined
  }
  const key = (parsed as { key?: unknown } | null | undefined)?.key
  if (typeof key === 'string' && key !== '' && key.length <= 1024 && !key.includes('\0')) {
    return key
  }
  const got = stdout.trim().slice(0, 80)
  throw new PluginError(
    `external plugin ${name}: store exited 0 but did not print {"key": "..."} on stdout` +
      (got ? ` (it printed ${JSON.stringify(got)})` : ' (it printed nothing)'),
  )
}

/** Keys follow the SDK's rules whatever the plugin accepts, so none can escape its namespace. */
function validKey(key: string): string {
  try {
    checkKey(key)
  } catch (err) {
    throw new PluginError((err as Error).message, 'permanent', { cause: err })
  }
  return key
}

const nothing: AsyncIterable<StoredObject> = {
  [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }),
}

export function externalStore(meta: ExternalMeta): StorePlugin {
  return {
    capabilities: EXTERNAL_STORE_CAPABILITIES,
    /**
     * The plugin chooses the key it stores under; `key` is only offered to it
     * as $BULWARK_KEY_HINT. Callers must keep and use the returned key.
     */
    async put(endpoint, key, data, ctx) {
      try {
        validKey(key)
      } catch (err) {
        data.destroy()
        throw err
      }
      const { stdout, bytesIn } = await runAction(meta.exe, {
        name: meta.name,
        action: 'store',
        env: { ...endpointEnv(endpoint), BULWARK_KEY_HINT: key },
        input: data,
        ctx,
        maxStdout: 64 * 1024,
      })
      return { key: parseStoredKey(meta.name, stdout), size: bytesIn }
    },
    async get(endpoint, key, ctx) {
      validKey(key)
      const explain = (stderr: string, code: number | null) => {
        const error = exitError(meta.name, 'retrieve', stderr, code)
        if (code !== EXIT_NO_SUCH_KEY) return error
        return new PluginNotFoundError(
          `no object ${key} in external store ${meta.name} (${describeFailure(meta.name, 'retrieve', stderr, code)})`,
        )
      }
      return whenReadable(
        spawnOutput(meta.exe, ['retrieve', '--key', key], named(ctx, meta), {
          ...tool(meta, 'retrieve', endpoint),
          explain,
        }),
      )
    },
    /** The protocol has no stat action: an external store never reports an object. */
    async head() {
      return null
    },
    async delete(endpoint, key, ctx) {
      validKey(key)
      await runAction(meta.exe, {
        name: meta.name,
        action: 'purge',
        args: ['--key', key],
        env: endpointEnv(endpoint),
        ctx,
        maxStdout: 64 * 1024,
      })
    },
    /** The protocol has no listing action: an external store lists nothing. */
    list: () => nothing,
    test: (endpoint, ctx) => connectionTest(meta, endpoint, ctx),
  }
}
