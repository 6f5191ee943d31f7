import { createCipheriv } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { IncomingHttpHeaders, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The slice of s3rver 3.x (untyped) used here. */
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

export interface S3rverHandle {
  /** e.g. http://127.0.0.1:41234 — use with forcePathStyle: true. */
  endpoint: string;
  bucket: string;
  region: string;
  /** s3rver accepts only its built-in key pair (it checks the key id, not SigV4 signatures). */
  accessKeyId: string;
  secretAccessKey: string;
  /** s3rver's data directory. */
  dir: string;
  /** All of the above in the shape of S3StorageDriverOptions: `new S3StorageDriver(s3.driverOptions)`. */
  driverOptions: {
    bucket: string;
    region: string;
    endpoint: string;
    forcePathStyle: true;
    accessKeyId: string;
    secretAccessKey: string;
  };
  /**
   * Records every request s3rver receives from now on (method, path with query, headers as they
   * arrived on the wire) until the returned stop() — what a client really sent, for header assertions.
   */
  recordRequests(): { requests: RecordedS3Request[]; stop(): void };
  stop(): Promise<void>;
}

export interface RecordedS3Request {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/**
 * An in-process S3 server (s3rver) on 127.0.0.1 with a free port, its own temp directory
 * and one bucket. stop() closes it and removes the directory.
 *
 * Caveats of s3rver: it does not verify SigV4 signatures or POST policies, and it does not
 * implement AbortMultipartUpload (parts of an aborted upload stay in its directory).
 */
export async function startS3rver(options: { bucket?: string } = {}): Promise<S3rverHandle> {
  assertLegacyOpenSslProvider();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver') as S3rverConstructor;
  const dir = await mkdtemp(join(tmpdir(), 'pixmill-s3rver-'));
  const bucket = options.bucket ?? 'pixmill-test';
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0, // s3rver passes it to http.Server#listen: the OS picks a free port
    silent: true,
    directory: dir,
    configureBuckets: [{ name: bucket }],
  });
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const driverOptions = {
    bucket,
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${address.port}`,
    forcePathStyle: true as const,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
  };
  return {
    ...driverOptions,
    driverOptions,
    dir,
    recordRequests() {
      const requests: RecordedS3Request[] = [];
      const listener = (req: IncomingMessage) =>
        requests.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers } });
      server.httpServer?.on('request', listener);
      return { requests, stop: () => void server.httpServer?.off('request', listener) };
    },
    async stop() {
      const closed = server.close();
      server.httpServer?.closeAllConnections(); // keep-alive sockets of SDK clients would hold close() open
      await closed;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * s3rver encrypts ListObjectsV2 continuation tokens with single DES, which OpenSSL 3 (Node ≥ 17)
 * only has in its legacy provider: without it every truncated listing (> 1000 keys, or MaxKeys)
 * answers 500 "error:0308010C:digital envelope routines::unsupported". Fail here, loudly, rather
 * than in some pagination path later.
 */
function assertLegacyOpenSslProvider(): void {
  try {
    createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
  } catch {
    throw new Error(
      's3rver needs the OpenSSL legacy provider (it encrypts ListObjectsV2 continuation tokens with DES): ' +
        'run with NODE_OPTIONS=--openssl-legacy-provider',
    );
  }
}

/** The Pixmill settings that point the API or a worker at this S3 server. */
export function s3Env(s3: S3rverHandle): Record<string, string> {
  return {
    STORAGE_DRIVER: 's3',
    S3_BUCKET: s3.bucket,
    S3_REGION: s3.region,
    S3_ENDPOINT: s3.endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };
}
