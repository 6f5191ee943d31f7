import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
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
  const config = testConfig(overrides);
  const app = await createApiApp(config);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.getHttpServer().address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  config.http.publicBaseUrl = baseUrl;
  return { app, config, baseUrl, close: () => app.close() };
}
