import { Readable } from 'node:stream';

export interface PutOptions {
  contentType: string;
  cacheControl?: string;
  /** Enforced while streaming: the write is aborted as soon as the body crosses it (FileTooLargeException). */
  maxBytes?: number;
}

export interface PutResult {
  bytes: number;
}

export interface ObjectHead {
  bytes: number;
  contentType: string;
  /** Unquoted. S3: as S3 computes it (md5 for single-part uploads). Local: md5 of the content, computed during put. */
  etag: string;
  lastModified: Date;
  cacheControl?: string;
}

export interface PresignUploadOptions {
  contentType: string;
  maxBytes: number;
  expiresInSeconds: number;
}

export interface PresignedUpload {
  method: 'POST' | 'PUT';
  url: string;
  /** Form fields to send before the `file` field (POST). */
  fields?: Record<string, string>;
  /** Headers to send (PUT). */
  headers?: Record<string, string>;
  expiresAt: Date;
}

export type StorageDriverKind = 'local' | 's3';

/**
 * Object storage as Pixmill uses it. An abstract class rather than an interface so it
 * doubles as the Nest DI token: `{ provide: StorageDriver, useFactory: … }`.
 *
 * Keys are built by the app (storage-keys.util.ts), never taken from user input; both
 * drivers still reject unsafe keys (see object-key.util.ts).
 * Missing objects: getStream/getBuffer/getRange throw ObjectNotFoundError, head returns null,
 * delete is a no-op.
 */
export abstract class StorageDriver {
  abstract readonly kind: StorageDriverKind;

  /** Streams body to key; readers never see a partial object. */
  abstract put(key: string, body: Buffer | Readable, opts: PutOptions): Promise<PutResult>;
  abstract getStream(key: string): Promise<Readable>;
  abstract getBuffer(key: string): Promise<Buffer>;
  /** Bytes start..endInclusive (fewer if the object is shorter; empty if it starts past the end). */
  abstract getRange(key: string, start: number, endInclusive: number): Promise<Buffer>;
  abstract head(key: string): Promise<ObjectHead | null>;
  abstract exists(key: string): Promise<boolean>;
  /** Idempotent. */
  abstract delete(key: string): Promise<void>;
  /** Deletes every object whose key starts with prefix; returns how many. An empty prefix is refused. */
  abstract deleteByPrefix(prefix: string): Promise<number>;
  /** Every key under prefix, sorted. Meant for tests and maintenance, not hot paths. */
  abstract list(prefix: string): Promise<string[]>;
  /** A direct-to-storage upload limited to 1..maxBytes, this key and this content type. S3 only. */
  abstract presignUpload(key: string, opts: PresignUploadOptions): Promise<PresignedUpload>;
  /**
   * Resolves when storage can take and serve objects; rejects saying why not. For readiness
   * probes: local, the directory exists and is writable; S3, HeadBucket answers (a missing
   * bucket or one these credentials may not use rejects).
   */
  abstract checkReady(): Promise<void>;
}
