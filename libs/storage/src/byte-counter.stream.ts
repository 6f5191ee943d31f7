import { createHash, Hash } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';
import { FileTooLargeException } from '@pixmill/common';

/**
 * Pass-through that counts bytes (and optionally hashes them) and fails with
 * FileTooLargeException the moment the count crosses maxBytes — so limits are
 * enforced while streaming, with at most one chunk in hand.
 */
export class ByteCounterStream extends Transform {
  bytes = 0;
  limitExceeded = false;
  private readonly hash?: Hash;

  constructor(
    private readonly maxBytes?: number,
    hashAlgorithm?: 'md5',
  ) {
    super();
    if (hashAlgorithm) this.hash = createHash(hashAlgorithm);
  }

  override _transform(chunk: Buffer | string, encoding: BufferEncoding, callback: TransformCallback): void {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
    this.bytes += buffer.length;
    if (this.maxBytes !== undefined && this.bytes > this.maxBytes) {
      this.limitExceeded = true;
      callback(new FileTooLargeException(this.maxBytes));
      return;
    }
    this.hash?.update(buffer);
    callback(null, buffer);
  }

  /** Hex digest of everything that passed; only once the stream has ended. */
  digest(): string {
    if (!this.hash) throw new Error('ByteCounterStream was created without a hash algorithm');
    return this.hash.digest('hex');
  }
}
