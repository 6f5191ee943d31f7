import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AddressInfo, createServer } from 'node:net';
import { AppConfig } from '@pixmill/config';
import { createApiApp } from '../../../apps/api/src/api.factory';
import { testConfig } from './test-config';

export interface RunningApi {
  app: NestFastifyApplication;
  config: AppConfig;
  baseUrl: string;
  close(): Promise<void>;
}

/** Boots the real API in-process on a free port against the test PostgreSQL and Redis. */
export async function startApi(overrides: Record<string, string> = {}): Promise<RunningApi> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const config = testConfig({ PORT: String(port), PUBLIC_BASE_URL: baseUrl, ...overrides });
  const app = await createApiApp(config);
  await app.listen({ port, host: '127.0.0.1' });
  return { app, config, baseUrl, close: () => app.close() };
}

/** A TCP port that was free a moment ago (the API's own URLs must name its port before it listens). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
