import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import path from 'node:path';
import { freePort } from '@pixmill/testing';

/** Waits until `probe` resolves true or `timeoutMs` passes. */
export async function waitFor(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await probe()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${what} not ready in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A child process that can be SIGKILLed and started again with the same arguments. */
export class Restartable {
  private child?: ChildProcess;
  constructor(
    private readonly cmd: string,
    private readonly args: string[],
    private readonly ready: () => Promise<boolean>,
    private readonly what: string,
  ) {}

  async start(): Promise<void> {
    this.child = spawn(this.cmd, this.args, { stdio: 'ignore' });
    await waitFor(this.ready, 30_000, this.what);
  }

  async kill(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  }
}

/** A Redis of the suite's own: no persistence, so a crash loses everything. */
export async function privateRedis(): Promise<{ url: string; proc: Restartable }> {
  const port = await freePort();
  const IORedis = (await import('ioredis')).default;
  const proc = new Restartable(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    async () => {
      const c = new IORedis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      c.on('error', () => undefined);
      try {
        await c.connect();
        return (await c.ping()) === 'PONG';
      } finally {
        c.disconnect();
      }
    },
    'redis',
  );
  await proc.start();
  return { url: `redis://127.0.0.1:${port}/0`, proc };
}

/** s3rver in its own process, on a fixed port and directory that survive a kill. */
export async function privateS3(bucket = 'pixmill-faults'): Promise<{ env: Record<string, string>; proc: Restartable }> {
  const port = await freePort();
  const dir = mkdtempSync('/tmp/pixmill-faults-s3-');
  const endpoint = `http://127.0.0.1:${port}`;
  const proc = new Restartable(
    process.execPath,
    [path.join(__dirname, 's3rver.process.js'), String(port), dir, bucket],
    async () => (await fetch(`${endpoint}/${bucket}`)).status < 500,
    's3rver',
  );
  await proc.start();
  return {
    proc,
    env: {
      STORAGE_DRIVER: 's3',
      S3_BUCKET: bucket,
      S3_REGION: 'us-east-1',
      S3_ENDPOINT: endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
    },
  };
}

/** A webhook receiver that records every body and can go down and come back on the same port. */
export class FlakyReceiver {
  readonly bodies: string[] = [];
  private server?: Server;
  private constructor(readonly port: number) {}

  static async start(): Promise<FlakyReceiver> {
    const r = new FlakyReceiver(await freePort());
    await r.up();
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async up(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.bodies.push(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
  }

  async down(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    const closed = new Promise((r) => s.close(r));
    s.closeAllConnections();
    await closed;
  }
}
