import IORedis from 'ioredis';
import { AddressInfo, createServer, Server, Socket } from 'node:net';
import { Pool } from 'pg';
import { failedDependency } from './dependency-failure.util';

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('failedDependency', () => {
  it('takes a refused connection through pg for a dependency down', async () => {
    const pool = new Pool({ connectionString: `postgres://postgres@127.0.0.1:${await closedPort()}/x`, connectionTimeoutMillis: 2000 });
    const err = await rejection(pool.query('SELECT 1'));
    await pool.end();
    // A refused socket carries only ECONNREFUSED: a dependency, not which one.
    expect(failedDependency(err)).toBe('dependency');
  });

  it('names PostgreSQL for a connect that times out (a server that accepts and never answers)', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as AddressInfo;
    const pool = new Pool({ connectionString: `postgres://postgres@127.0.0.1:${port}/x`, connectionTimeoutMillis: 300 });
    const err = await rejection(pool.query('SELECT 1'));
    await pool.end();
    sockets.forEach((s) => s.destroy());
    await new Promise((r) => silent.close(r));
    expect(failedDependency(err)).toBe('postgres');
  });

  it('names PostgreSQL for admin shutdown, crash shutdown, cannot-connect-now and class 08, also inside TypeORM errors', () => {
    for (const code of ['57P01', '57P02', '57P03', '08006', '08001', '53300']) {
      expect(failedDependency(Object.assign(new Error('x'), { code }))).toBe('postgres');
      expect(failedDependency({ name: 'QueryFailedError', driverError: Object.assign(new Error('x'), { code }) })).toBe('postgres');
    }
    expect(failedDependency(new Error('Connection terminated unexpectedly'))).toBe('postgres');
  });

  it('names Redis when ioredis gives up on a closed server', async () => {
    const redis = new IORedis({ port: await closedPort(), maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true, enableOfflineQueue: false });
    redis.on('error', () => undefined);
    const err = await rejection(redis.ping());
    redis.disconnect();
    await new Promise((r) => setImmediate(r));
    expect(failedDependency(err)).toBe('redis');
  });

  it('names storage for a 5xx from the object store', () => {
    expect(failedDependency(Object.assign(new Error('We encountered an internal error'), { name: 'InternalError', $metadata: { httpStatusCode: 503 } }))).toBe('storage');
  });

  it('leaves everything else alone: constraint violations, 4xx from storage, plain bugs', () => {
    expect(failedDependency(Object.assign(new Error('dup'), { code: '23505' }))).toBeUndefined();
    expect(failedDependency({ name: 'QueryFailedError', driverError: { code: '42P01' } })).toBeUndefined();
    expect(failedDependency(Object.assign(new Error('NoSuchKey'), { $metadata: { httpStatusCode: 404 } }))).toBeUndefined();
    expect(failedDependency(new TypeError('undefined is not a function'))).toBeUndefined();
    expect(failedDependency(undefined)).toBeUndefined();
  });
});
