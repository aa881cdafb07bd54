// How an archive leaves as a download: its file name (the target's name and
// when it was taken) and a byte count checked against the catalog's, so a
// download never ends short without an error.
import { Transform, type TransformCallback } from 'node:stream'
import type { ArchiveListRow } from '../catalog/catalog'
import { BulwarkError, ErrorCode } from '../contract'

/**
 * "<target name>-<YYYYmmdd-HHMMSS, UTC>", how downloads of an archive are named
 * (before their extension); `fallback` stands in for a name with nothing safe in it.
 */
export function archiveStem(a: ArchiveListRow, fallback: string): string {
  const stamp = new Date(a.taken_at)
    .toISOString()
    .replace(/\.\d+Z$/, '')
    .replace(/[-:]/g, '')
    .replace('T', '-')
  return `${safeName(a.target_name ?? '') || fallback}-${stamp}`
}

/** A name made of [A-Za-z0-9_.-] (accents dropped), without leading dots, at most 100 characters. */
export function safeName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\w.-]+/g, '-')
    .replace(/^[.-]+|-+$/g, '')
    .slice(0, 100)
}

/** A service failure as an Error (the stream's error must be one). */
export function explained(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}

/** Passes bytes through and fails unless exactly `size` of them came (when size is known). */
export class ExactSize extends Transform {
  bytes = 0

  constructor(
    private readonly archive: string,
    private readonly size: number | null,
  ) {
    super({ highWaterMark: 1024 * 1024 })
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length
    if (this.size !== null && this.bytes > this.size) return done(this.mismatch())
    done(null, chunk)
  }

  override _flush(done: TransformCallback): void {
    done(this.size !== null && this.bytes !== this.size ? this.mismatch() : null)
  }

  private mismatch(): BulwarkError {
    return new BulwarkError(
      ErrorCode.Conflict,
      `archive ${this.archive} should hold ${this.size} bytes but the store gave ${this.bytes}${this.bytes > (this.size ?? 0) ? ' or more' : ''}`,
    )
  }
}
