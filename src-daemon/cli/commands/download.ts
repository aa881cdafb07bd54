// bulwark download archive UUID [-o FILE] [--force] [--path P] [--format tar|zip]:
// the archive's restored bytes (the dump a restore hands the target plugin),
// or of a directory archive one file or folder, into a file. They go to a
// private temporary file beside it, renamed into place only once all of them
// have arrived and are on disk, so a failed or interrupted download leaves
// nothing that looks like a whole one; an existing file is replaced only with
// --force.
import { randomBytes } from 'node:crypto'
import { createWriteStream, existsSync, linkSync, renameSync, statSync, unlinkSync } from 'node:fs'
import { basename, dirname, join, resolve as resolvePath } from 'node:path'
import { Readable, Transform, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as NodeReadableStream } from 'node:stream/web'
import type { Command, Context } from '../command'
import type { TreeDownloadPart } from '../../contract'
import { CliError, UsageError } from '../errors'
import { fmtSize } from '../format'
import { resolveRef } from '../refs'
import { UUID_ARG } from './common'
import { EXIT_INTERRUPTED } from './follow'

class Counter extends Transform {
  bytes = 0
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length
    done(null, chunk)
  }
}

const isDirectory = (path: string) => {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/** Where the download goes: -o FILE, into -o DIR, or the daemon's name in the current directory. */
function destination(output: string | undefined, name: string): string {
  if (output === undefined) return resolvePath(name)
  if (output.endsWith('/') || isDirectory(output)) return resolvePath(output, name)
  return resolvePath(output)
}

const exists = (file: string) =>
  new CliError(`${file} already exists; give --force to replace it, or -o another file`)

/** Moves the finished temporary file to `dest`; without force, never over an existing file. */
function place(tmp: string, dest: string, force: boolean): void {
  if (force) return renameSync(tmp, dest)
  try {
    linkSync(tmp, dest) // fails if dest exists, atomically
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') throw exists(dest)
    // A file system without hard links: check, then rename.
    if (existsSync(dest)) throw exists(dest)
    return renameSync(tmp, dest)
  }
  unlinkSync(tmp)
}

/** Why a transfer stopped, from fetch's error (undici puts the socket's reason in `cause`). */
function reason(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string } }
  return e.cause?.message ?? e.message ?? String(err)
}

/** --path and --format: part of a directory archive (the daemon checks the path). */
function part(ctx: Context): TreeDownloadPart {
  const out: TreeDownloadPart = {}
  const path = ctx.flags.str('path')
  if (path !== undefined) out.path = path
  const format = ctx.flags.str('format')
  if (format !== undefined) {
    if (format !== 'tar' && format !== 'zip') {
      throw new UsageError(`--format must be tar or zip (got "${format}")`, ctx.command)
    }
    out.format = format
  }
  return out
}

async function run(ctx: Context): Promise<number | void> {
  const ref = await resolveRef('archive', ctx.args[0] ?? '', () => ctx.client.listArchives())
  const force = ctx.flags.has('force')
  const output = ctx.flags.str('output')
  // A named file that exists is refused before anything is read.
  if (output !== undefined && !force && !output.endsWith('/') && !isDirectory(output)) {
    if (existsSync(output)) throw exists(resolvePath(output))
  }
  const controller = new AbortController()
  let interrupted = false
  const release = ctx.onInterrupt(() => {
    interrupted = true
    controller.abort()
  })
  let tmp: string | undefined
  try {
    const download = await ctx.client.download(ref.uuid, controller.signal, part(ctx))
    const dest = destination(output, download.filename ?? `${ref.uuid}.bin`)
    if (!force && existsSync(dest)) throw exists(dest)
    tmp = join(dirname(dest), `.${basename(dest)}.${randomBytes(6).toString('hex')}.part`)
    const counter = new Counter()
    try {
      await pipeline(
        Readable.fromWeb(download.body as NodeReadableStream<Uint8Array>),
        counter,
        // 'wx': a file of that name is never ours; flush: on disk before the rename.
        createWriteStream(tmp, { flags: 'wx', mode: 0o600, flush: true }),
      )
    } catch (err) {
      if (interrupted) throw err
      const syscall = (err as NodeJS.ErrnoException).syscall
      if (syscall !== undefined) {
        if (syscall === 'open') tmp = undefined
        throw new CliError(`cannot write ${dest}: ${(err as Error).message}`)
      }
      throw new CliError(
        `the download of archive ${ref.uuid} stopped before its end (${reason(err)}); nothing was written. ` +
          `The daemon's log says why; "bulwark verify archive ${ref.uuid}" checks the archive.`,
      )
    }
    if (download.size !== null && counter.bytes !== download.size) {
      throw new CliError(
        `the download of archive ${ref.uuid} gave ${counter.bytes} bytes, not the ${download.size} announced; nothing was written`,
      )
    }
    place(tmp, dest, force)
    tmp = undefined
    if (ctx.json) ctx.out.json({ ok: 'written', file: dest, bytes: counter.bytes })
    else ctx.out.line(`downloaded archive ${ref.uuid} to ${dest} (${fmtSize(counter.bytes)})`)
  } catch (err) {
    if (interrupted) {
      ctx.out.note('\nDownload stopped; nothing was written.')
      return EXIT_INTERRUPTED
    }
    throw err
  } finally {
    release()
    if (tmp !== undefined) {
      try {
        unlinkSync(tmp)
      } catch {
        // already gone
      }
    }
  }
}

export const downloadCommand: Command = {
  verb: 'download',
  noun: 'archive',
  args: [UUID_ARG('archive')],
  summary: "download an archive's data (the dump a restore would use) into a file",
  flags: [
    {
      name: 'output',
      value: 'FILE',
      aliases: ['o'],
      help: "write to FILE, or into the directory FILE, instead of the daemon's name for it here",
    },
    { name: 'force', help: 'replace the file if it exists' },
    {
      name: 'path',
      value: 'P',
      help: 'directory archives: only this file (as itself) or folder (as a tar or zip)',
    },
    {
      name: 'format',
      value: 'tar|zip',
      help: 'a folder of a directory archive as tar (default) or zip',
    },
  ],
  details:
    'The file holds what a restore hands the target plugin: a pg_dump archive, a SQL dump, a tar\n' +
    'stream... Its default name is the target and the time the archive was taken (UTC), with the\n' +
    "plugin's extension: orders-20260131-040000.dump (.bin when the plugin names none). It is\n" +
    'written with mode 0600 to a temporary file beside it, and renamed into place only once\n' +
    'complete; an existing file is refused unless --force. A damaged archive fails the download\n' +
    '(exit 1) and leaves nothing. With --json: {"ok":"written","file","bytes"}.\n\n' +
    'Of a directory archive, the whole tree comes as a tar (or a zip with --format zip);\n' +
    '--path docs/report.odt downloads that one file as report.odt, --path docs the folder as\n' +
    'docs.tar (or docs.zip), its entries under docs/.',
  run,
}
