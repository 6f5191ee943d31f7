import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type IORedis from 'ioredis';
import { DataSource } from 'typeorm';
import { AppConfig } from '@pixmill/config';
import { REDIS } from '@pixmill/queue';
import { WorkerHost } from './worker-host.service';
import { WorkerMetrics } from './worker-metrics.service';

/** The worker's private port: liveness, readiness and Prometheus metrics. No public API. */
@Injectable()
export class WorkerHttpServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('WorkerHttpServer');
  private server?: Server;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: WorkerMetrics,
    private readonly host: WorkerHost,
    private readonly ds: DataSource,
    @Inject(REDIS) private readonly redis: IORedis,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req.url ?? '/').then(
        ({ status, type, body }) => res.writeHead(status, { 'content-type': type }).end(body),
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(this.config.worker.metricsPort, '0.0.0.0', resolve));
    this.logger.log(`health and metrics on port ${this.port()}`);
  }

  port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  private async handle(url: string): Promise<{ status: number; type: string; body: string }> {
    const json = (status: number, body: unknown) => ({ status, type: 'application/json', body: JSON.stringify(body) });
    if (url === '/health/live') return json(this.host.isRunning() ? 200 : 503, { status: this.host.isRunning() ? 'ok' : 'stopping' });
    if (url === '/health/ready') {
      const [pg, rd] = await Promise.allSettled([this.ds.query('SELECT 1'), this.redis.ping()]);
      const checks = { postgres: pg.status === 'fulfilled' ? 'up' : 'down', redis: rd.status === 'fulfilled' ? 'up' : 'down' };
      const ok = Object.values(checks).every((s) => s === 'up');
      return json(ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable', checks });
    }
    if (url === '/metrics') return { status: 200, type: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() };
    return json(404, { code: 'not_found' });
  }

  async onApplicationShutdown(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
