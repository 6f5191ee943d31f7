import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable, pipeline } from 'node:stream';
import { FileTooLargeException } from '@pixmill/common';
import { ByteCounterStream } from './byte-counter.stream';
import { assertRange } from './byte-range.util';
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

export interface S3StorageDriverOptions {
  bucket: string;
  region: string;
  /** MinIO, s3rver… (omit for AWS). */
  endpoint?: string;
  forcePathStyle?: boolean;
  /** Both or neither; neither = the AWS default credential chain. */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Multipart part size (min 5 MiB). Memory per put is at most queueSize × partSize. */
  partSizeBytes?: number;
  /** Parts uploaded concurrently per put [4]. */
  queueSize?: number;
  /** Asked for on every write: put (single or multipart) and presigned POST policies. */
  serverSideEncryption?: ServerSideEncryption;
}

/** S3_SSE / S3_SSE_KMS_KEY_ID. Without a key id, aws:kms uses the account's AWS-managed `aws/s3` key. */
export interface ServerSideEncryption {
  algorithm: 'AES256' | 'aws:kms';
  kmsKeyId?: string;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;
/** SigV4 presigned URLs cannot live longer than 7 days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/** S3 or an S3-compatible server (STORAGE_DRIVER=s3). */
export class S3StorageDriver implements StorageDriver {
  readonly kind = 's3' as const;
  readonly client: S3Client;
  readonly bucket: string;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly sse?: ServerSideEncryption;

  constructor(options: S3StorageDriverOptions) {
    this.bucket = options.bucket;
    this.partSize = Math.max(MIN_PART_SIZE, options.partSizeBytes ?? MIN_PART_SIZE);
    this.queueSize = options.queueSize ?? 4;
    this.sse = options.serverSideEncryption;
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      credentials:
        options.accessKeyId && options.secretAccessKey
          ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
          : undefined,
      // The SDK's default (WHEN_SUPPORTED) adds CRC32 trailers with aws-chunked encoding to
      // streamed bodies, which s3rver and MinIO builds in the wild reject or store verbatim.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  /** Creates the bucket if it does not exist (tests, local dev; production buckets are provisioned). */
  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      if ((err as Error)?.name !== 'BucketAlreadyOwnedByYou') throw err;
    }
  }

  /** HeadBucket, not a HEAD of some key: an object's 404 cannot tell a missing key from a missing bucket. */
  async checkReady(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      const status = (err as S3ServiceException)?.$metadata?.httpStatusCode;
      if (status === 404) throw new Error(`bucket ${this.bucket} does not exist`);
      if (status === 403) throw new Error(`bucket ${this.bucket}: access denied`);
      throw err;
    }
  }

  async put(key: string, body: Buffer | Readable, opts: PutOptions): Promise<PutResult> {
    assertSafeKey(key);
    const { maxBytes } = opts;
    if (Buffer.isBuffer(body) && maxBytes !== undefined && body.length > maxBytes) {
      throw new FileTooLargeException(maxBytes);
    }
    let counter: ByteCounterStream | undefined;
    if (!Buffer.isBuffer(body)) {
      counter = new ByteCounterStream(maxBytes);
      // Errors (the limit, a broken source) reach Upload through the counter it reads from.
      pipeline(body, counter, () => undefined);
    }
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: counter ?? body,
        ContentType: opts.contentType,
        CacheControl: opts.cacheControl,
        // On a multipart upload these go on CreateMultipartUpload, which is where S3 takes them.
        ...(this.sse ? { ServerSideEncryption: this.sse.algorithm } : {}),
        ...(this.sse?.kmsKeyId ? { SSEKMSKeyId: this.sse.kmsKeyId } : {}),
      },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    counter?.once('error', () => {
      // Stop queueing parts right away; Upload then aborts the multipart upload itself.
      if (counter?.limitExceeded) void upload.abort();
    });
    try {
      await upload.done();
    } catch (err) {
      if (counter?.limitExceeded) {
        // Nothing can have completed (the body never ended), but make sure no object is left.
        await this.delete(key).catch(() => undefined);
        throw new FileTooLargeException(maxBytes as number);
      }
      counter?.destroy(); // release the source (e.g. an upload request) rather than leave it paused
      throw err;
    }
    return { bytes: counter ? counter.bytes : (body as Buffer).length };
  }

  async getStream(key: string): Promise<Readable> {
    assertSafeKey(key);
    const response = await this.send404As(key, () =>
      this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })),
    );
    return response.Body as Readable;
  }

  async getBuffer(key: string): Promise<Buffer> {
    assertSafeKey(key);
    const response = await this.send404As(key, () =>
      this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })),
    );
    return Buffer.from(await response.Body!.transformToByteArray());
  }

  async getRange(key: string, start: number, endInclusive: number): Promise<Buffer> {
    assertSafeKey(key);
    assertRange(start, endInclusive);
    try {
      const response = await this.send404As(key, () =>
        this.client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=${start}-${endInclusive}` }),
        ),
      );
      return Buffer.from(await response.Body!.transformToByteArray());
    } catch (err) {
      // 416: the range starts past the end (e.g. an empty object) — the local driver returns no bytes too.
      if ((err as S3ServiceException)?.$metadata?.httpStatusCode === 416) return Buffer.alloc(0);
      throw err;
    }
  }

  async head(key: string): Promise<ObjectHead | null> {
    assertSafeKey(key);
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        bytes: r.ContentLength ?? 0,
        contentType: r.ContentType ?? 'application/octet-stream',
        etag: (r.ETag ?? '').replace(/"/g, ''),
        lastModified: r.LastModified ?? new Date(0),
        ...(r.CacheControl ? { cacheControl: r.CacheControl } : {}),
      };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.head(key)) !== null;
  }

  async delete(key: string): Promise<void> {
    assertSafeKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    let deleted = 0;
    // A ListObjectsV2 page holds at most 1000 keys, which is also DeleteObjects' batch limit.
    for await (const keys of this.pages(prefix)) {
      if (keys.length === 0) continue;
      const result = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      if (result.Errors?.length) {
        const first = result.Errors[0];
        throw new Error(
          `DeleteObjects failed for ${result.Errors.length} key(s), e.g. ${first.Key}: ${first.Code} ${first.Message}`,
        );
      }
      deleted += keys.length;
    }
    return deleted;
  }

  async list(prefix: string): Promise<string[]> {
    const all: string[] = [];
    for await (const keys of this.pages(prefix)) all.push(...keys);
    return all.sort();
  }

  async presignUpload(key: string, opts: PresignUploadOptions): Promise<PresignedUpload> {
    assertSafeKey(key);
    const expiresIn = Math.min(opts.expiresInSeconds, MAX_PRESIGN_SECONDS);
    const expiresAt = new Date(Date.now() + expiresIn * 1000);
    // createPresignedPost adds the exact-key condition itself, and one exact-match condition per
    // field: the encryption fields are therefore required by the policy, not just suggested.
    const { url, fields } = await createPresignedPost(this.client, {
      Bucket: this.bucket,
      Key: key,
      Conditions: [
        ['content-length-range', 1, opts.maxBytes],
        ['eq', '$Content-Type', opts.contentType],
      ],
      Fields: { 'Content-Type': opts.contentType, ...this.encryptionFields() },
      Expires: expiresIn,
    });
    return { method: 'POST', url, fields, expiresAt };
  }

  /** A presigned GET. signingDate lets callers make URLs repeatable (see DeliveryUrlService). */
  async presignDownload(key: string, opts: { expiresInSeconds: number; signingDate?: Date }): Promise<string> {
    assertSafeKey(key);
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn: Math.min(opts.expiresInSeconds, MAX_PRESIGN_SECONDS),
      signingDate: opts.signingDate,
    });
  }

  /** The form fields (and so policy conditions) of a presigned POST that ask for this encryption. */
  private encryptionFields(): Record<string, string> {
    if (!this.sse) return {};
    return {
      'x-amz-server-side-encryption': this.sse.algorithm,
      ...(this.sse.kmsKeyId ? { 'x-amz-server-side-encryption-aws-kms-key-id': this.sse.kmsKeyId } : {}),
    };
  }

  private async *pages(prefix: string): AsyncGenerator<string[]> {
    assertSafePrefix(prefix);
    let ContinuationToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken }),
      );
      yield (page.Contents ?? []).map((o) => o.Key!).filter(Boolean);
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  private async send404As<T>(key: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(key);
      throw err;
    }
  }
}

/** 404 for an object (or the bucket, for HeadBucket). A missing bucket on an object call stays an error: that is misconfiguration. */
function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  if (!e || e.name === 'NoSuchBucket') return false;
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}
