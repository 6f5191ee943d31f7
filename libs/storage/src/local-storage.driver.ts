import { createHash, randomUUID } from 'node:crypto';
import { closeSync, constants, read, createWriteStream, fstatSync, mkdirSync, openSync, readSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { access, mkdir, open, readdir, readFile, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, posix, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FileTooLargeException } from '@pixmill/common';
import { ByteCounterStream } from './byte-counter.stream';
import { assertRange } from './byte-range.util';
import { DirectUploadUnsupportedException } from './direct-upload-unsupported.exception';
import { ObjectNotFoundError } from './object-not-found.error';
import { assertSafeKey, assertSafePrefix } from './object-key.util';
import {
  ObjectHead,
  PresignedUpload,
  PresignUploadOptions,
  PutOptions,
  PutResult,
  StorageDriver,
} from './storage.driver';

export interface LocalStorageDriverOptions {
  dir: string;
}

/** What head() needs beyond stat(): kept in a sidecar JSON file next to the object. */
interface Sidecar {
  contentType: string;
  cacheControl?: string;
  /** md5 of the content, computed while writing it. */
  etag: string;
}

const DELETE_CONCURRENCY = 32;

/**
 * Objects up to these sizes are written and read with synchronous file calls on the event
 * loop: a derivative sits in the page cache and takes microseconds, where each asynchronous
 * call costs a round trip through libuv's threadpool (a futex wake and an eventfd write, a
 * few times the call itself on this kind of VM). Reads stop lower than writes: reading is a
 * copy out of the page cache that costs the same wherever it runs, and a megabyte original
 * copied on the event loop held it for milliseconds on a loaded host (the W1 profile), so
 * originals stream on the threadpool as before. docs/decisions/047.
 */
export const SYNC_WRITE_MAX_BYTES = 1024 * 1024;
export const SYNC_READ_MAX_BYTES = 256 * 1024;

/**
 * Objects as files under `dir` (STORAGE_DRIVER=local, the embedded default).
 *
 * - `put` writes to a temp file in the target directory and renames it into place, so
 *   readers see the old object or the new one, never a partial file.
 * - Metadata lives in a hidden sidecar `.{name}.meta.json` in the same directory. Valid keys
 *   never have a segment starting with "." (object-key.util.ts), so sidecars and temp files
 *   cannot collide with objects and list() skips them.
 * - etag is the md5 of the content (like S3's single-part etag); for a file without a
 *   sidecar (copied in by hand) it falls back to a hash-free `{size}-{mtimeMs}`.
 * - Unlike S3, a key cannot be both an object and a "directory" ("a/b" and "a/b/c"); the
 *   app's key layout never needs that.
 * - Direct (presigned) uploads are S3-only: presignUpload throws DirectUploadUnsupportedException.
 */
export class LocalStorageDriver implements StorageDriver {
  readonly kind = 'local' as const;
  private readonly root: string;

  constructor(options: LocalStorageDriverOptions) {
    this.root = resolve(options.dir);
    // Made at start (a first run has no ./data yet) and not by readiness checks, so that a
    // directory that goes away later (an unmounted volume) reads as down. One that cannot be
    // made is reported by checkReady too.
    try {
      mkdirSync(this.root, { recursive: true });
    } catch {
      // checkReady says why
    }
  }

  async checkReady(): Promise<void> {
    const stats = await stat(this.root);
    if (!stats.isDirectory()) throw new Error(`${this.root} is not a directory`);
    await access(this.root, constants.W_OK);
  }

  async put(key: string, body: Buffer | Readable, opts: PutOptions): Promise<PutResult> {
    const file = this.pathOf(key);
    const { maxBytes } = opts;
    if (Buffer.isBuffer(body) && maxBytes !== undefined && body.length > maxBytes) {
      throw new FileTooLargeException(maxBytes);
    }
    if (Buffer.isBuffer(body) && body.length <= SYNC_WRITE_MAX_BYTES) return this.putSmall(file, body, opts);
    await mkdir(dirname(file), { recursive: true });
    const tmp = this.tmpPathFor(file);
    const counter = new ByteCounterStream(maxBytes, 'md5');
    const source = Buffer.isBuffer(body) ? Readable.from([body]) : body;
    try {
      await pipeline(source, counter, createWriteStream(tmp, { flags: 'wx' }));
      const sidecar: Sidecar = { contentType: opts.contentType, cacheControl: opts.cacheControl, etag: counter.digest() };
      // Sidecar first, content last: a crash in between leaves no visible object.
      const sidecarTmp = this.tmpPathFor(file);
      await writeFile(sidecarTmp, JSON.stringify(sidecar), { flag: 'wx' });
      await rename(sidecarTmp, this.sidecarPathOf(file));
      await rename(tmp, file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      if (counter.limitExceeded) throw new FileTooLargeException(maxBytes as number);
      throw err;
    }
    return { bytes: counter.bytes };
  }

  /**
   * put() of a small buffer, in synchronous calls: the object and its sidecar to temp files
   * (the directory made only when the first write says it is missing), sidecar renamed into
   * place first, content last — the same order and atomicity as the streaming path.
   */
  private putSmall(file: string, body: Buffer, opts: PutOptions): PutResult {
    const sidecar: Sidecar = { contentType: opts.contentType, cacheControl: opts.cacheControl, etag: createHash('md5').update(body).digest('hex') };
    const tmp = this.tmpPathFor(file);
    const sidecarTmp = this.tmpPathFor(file);
    try {
      try {
        writeFileSync(tmp, body, { flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(tmp, body, { flag: 'wx' });
      }
      writeFileSync(sidecarTmp, JSON.stringify(sidecar), { flag: 'wx' });
      renameSync(sidecarTmp, this.sidecarPathOf(file));
      renameSync(tmp, file);
    } catch (err) {
      for (const f of [tmp, sidecarTmp]) {
        try {
          unlinkSync(f);
        } catch {
          // never written, or renamed already
        }
      }
      throw err;
    }
    return { bytes: body.length };
  }

  async getStream(key: string): Promise<Readable> {
    // Opening first turns a missing file into ObjectNotFoundError here, not as a later stream error;
    // the open descriptor also survives a concurrent rename or delete.
    const handle = await this.openForRead(key);
    return handle.createReadStream();
  }

  async getBuffer(key: string): Promise<Buffer> {
    return this.readWhole(key);
  }

  async getRange(key: string, start: number, endInclusive: number): Promise<Buffer> {
    assertRange(start, endInclusive);
    const handle = await this.openForRead(key);
    try {
      const buffer = Buffer.alloc(endInclusive - start + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  async head(key: string): Promise<ObjectHead | null> {
    const file = this.pathOf(key);
    const stats = await stat(file).catch(ignoreMissing);
    if (!stats?.isFile()) return null;
    const sidecar = await this.readSidecar(file);
    return {
      bytes: stats.size,
      contentType: sidecar?.contentType ?? 'application/octet-stream',
      etag: sidecar?.etag ?? `${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}`,
      lastModified: stats.mtime,
      ...(sidecar?.cacheControl ? { cacheControl: sidecar.cacheControl } : {}),
    };
  }

  async exists(key: string): Promise<boolean> {
    return (await this.head(key)) !== null;
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    await unlink(file).catch(ignoreMissing);
    await unlink(this.sidecarPathOf(file)).catch(ignoreMissing);
    await this.pruneEmptyDirs(dirname(file));
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    const keys = await this.list(prefix);
    for (let i = 0; i < keys.length; i += DELETE_CONCURRENCY) {
      await Promise.all(keys.slice(i, i + DELETE_CONCURRENCY).map((key) => this.delete(key)));
    }
    return keys.length;
  }

  async list(prefix: string): Promise<string[]> {
    assertSafePrefix(prefix);
    // Walk only the deepest directory the prefix names, then filter by the full prefix.
    const baseDir = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const keys: string[] = [];
    await this.walk(join(this.root, baseDir), keys);
    return keys.filter((key) => key.startsWith(prefix)).sort();
  }

  async presignUpload(_key: string, _opts: PresignUploadOptions): Promise<PresignedUpload> {
    throw new DirectUploadUnsupportedException();
  }

  private async walk(dir: string, into: string[]): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true }).catch((err) => {
      if (err?.code === 'ENOENT' || err?.code === 'ENOTDIR') return [];
      throw err;
    });
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue; // sidecars and temp files
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await this.walk(full, into);
      else if (entry.isFile()) into.push(relative(this.root, full).split(sep).join(posix.sep));
    }
  }

  /**
   * The object's content in as few threadpool round trips as possible: opened and sized in
   * synchronous calls (metadata, microseconds), read in synchronous calls when at most
   * SYNC_READ_MAX_BYTES, else with one asynchronous read of the whole size (the copy stays off
   * the event loop; fs.readFile would make a round trip per 512 KiB chunk, plus open, stat and close).
   */
  private async readWhole(key: string): Promise<Buffer> {
    const file = this.pathOf(key);
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') throw new ObjectNotFoundError(key);
      throw err;
    }
    try {
      const stats = fstatSync(fd);
      if (!stats.isFile()) throw new ObjectNotFoundError(key);
      // Objects are renamed into place whole, so the size stat gave is the content's.
      const buffer = Buffer.allocUnsafe(stats.size);
      const small = stats.size <= SYNC_READ_MAX_BYTES;
      let filled = 0;
      while (filled < buffer.length) {
        const n = small ? readSync(fd, buffer, filled, buffer.length - filled, filled) : await readAt(fd, buffer, filled);
        if (n === 0) break;
        filled += n;
      }
      return filled === buffer.length ? buffer : buffer.subarray(0, filled);
    } finally {
      closeSync(fd);
    }
  }

  private async openForRead(key: string) {
    const file = this.pathOf(key);
    try {
      return await open(file, 'r');
    } catch (err) {
      if (err?.code === 'ENOENT' || err?.code === 'ENOTDIR' || err?.code === 'EISDIR') throw new ObjectNotFoundError(key);
      throw err;
    }
  }

  private async readSidecar(file: string): Promise<Sidecar | null> {
    const json = await readFile(this.sidecarPathOf(file), 'utf8').catch(ignoreMissing);
    return json ? (JSON.parse(json) as Sidecar) : null;
  }

  /** Removes now-empty directories up to (not including) the root; stops at the first non-empty one. */
  private async pruneEmptyDirs(dir: string): Promise<void> {
    while (dir !== this.root && dir.startsWith(this.root + sep)) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or already gone, or raced by a writer): stop
      }
      dir = dirname(dir);
    }
  }

  private pathOf(key: string): string {
    assertSafeKey(key);
    const file = resolve(this.root, key);
    // Belt and braces on top of assertSafeKey.
    if (!file.startsWith(this.root + sep)) throw new Error(`Storage key escapes the storage directory: ${key}`);
    return file;
  }

  private sidecarPathOf(file: string): string {
    return join(dirname(file), `.${basename(file)}.meta.json`);
  }

  private tmpPathFor(file: string): string {
    return join(dirname(file), `.${basename(file)}.${randomUUID()}.tmp`);
  }
}

/** One read into `buffer` from offset `at` to its end, on the threadpool. */
function readAt(fd: number, buffer: Buffer, at: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buffer, at, buffer.length - at, at, (err, n) => (err ? reject(err) : resolve(n))));
}

function ignoreMissing(err: NodeJS.ErrnoException): null {
  if (err?.code === 'ENOENT' || err?.code === 'ENOTDIR') return null;
  throw err;
}
