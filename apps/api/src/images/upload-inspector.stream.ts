import { createHash, Hash } from 'node:crypto';
import { createWriteStream, WriteStream } from 'node:fs';
import { Transform, TransformCallback } from 'node:stream';
import { FileTooLargeException, UnsupportedMediaTypeException } from '@pixmill/common';
import { SNIFF_BYTES, SniffedType, sniffImageType } from '@pixmill/imaging';

/**
 * Sits between the incoming bytes and storage. For each chunk it counts bytes
 * (failing as soon as the limit is crossed), updates the SHA-256, copies the
 * chunk to a local spool file for the header probe, and decides the type from
 * the first bytes (magic numbers only) before anything downstream is written.
 * Holds one chunk at a time.
 */
export class UploadInspector extends Transform {
  bytes = 0;
  private readonly hash: Hash = createHash('sha256');
  private head = Buffer.alloc(0);
  private sniffedType?: SniffedType;
  private readonly spool: WriteStream;
  private readonly spoolClosed: Promise<void>;
  private resolveSniff!: (t: SniffedType) => void;
  private rejectSniff!: (e: Error) => void;
  /** Resolves once the type is known (or rejects with 415); the caller then starts the storage write. */
  readonly sniffed: Promise<SniffedType>;

  constructor(
    private readonly maxBytes: number,
    spoolPath: string,
    private readonly allowSvg: boolean,
  ) {
    super();
    this.spool = createWriteStream(spoolPath);
    this.spoolClosed = new Promise((resolve, reject) => {
      this.spool.on('close', resolve);
      this.spool.on('error', reject);
    });
    // Observed through spooled(); an error here also fails the pipeline, so it is never unhandled.
    this.spoolClosed.catch(() => undefined);
    this.spool.on('error', (err) => this.destroy(err));
    this.sniffed = new Promise((resolve, reject) => {
      this.resolveSniff = resolve;
      this.rejectSniff = reject;
    });
    this.sniffed.catch(() => undefined);
    this.on('error', (err) => this.rejectSniff(err));
  }

  /** Hex SHA-256 of every byte, set when the stream has ended. */
  sha256 = '';

  _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) return done(new FileTooLargeException(this.maxBytes));
    this.hash.update(chunk);
    if (!this.sniffedType) {
      this.head = Buffer.concat([this.head, chunk.subarray(0, SNIFF_BYTES)]).subarray(0, SNIFF_BYTES);
      if (this.head.length >= SNIFF_BYTES) {
        const err = this.decide();
        if (err) return done(err);
      }
    }
    if (this.spool.destroyed) return done(new Error('upload spool closed'));
    if (this.spool.write(chunk)) done(null, chunk);
    else this.spool.once('drain', () => done(null, chunk));
  }

  _flush(done: TransformCallback): void {
    if (!this.sniffedType) {
      const err = this.decide();
      if (err) return done(err);
    }
    this.sha256 = this.hash.digest('hex');
    this.spool.end(() => done());
  }

  _destroy(err: Error | null, done: (error: Error | null) => void): void {
    this.spool.destroy();
    done(err);
  }

  /** Resolves when the spool file is complete and closed. */
  async spooled(): Promise<void> {
    await this.spoolClosed;
  }

  private decide(): Error | undefined {
    const t = sniffImageType(this.head);
    if (!t || (t.format === 'svg' && !this.allowSvg)) {
      const err = new UnsupportedMediaTypeException();
      this.rejectSniff(err);
      return err;
    }
    this.sniffedType = t;
    this.resolveSniff(t);
    return undefined;
  }
}
