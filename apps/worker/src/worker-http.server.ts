import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppConfig } from '@pixmill/config';
import { HealthService } from '@pixmill/health';
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
    private readonly health: HealthService,
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
    // Probes may add a query string (cache busters, `?verbose`): the path alone decides.
    const path = url.split('?')[0];
    if (path === '/health/live') return json(this.host.isRunning() ? 200 : 503, { status: this.host.isRunning() ? 'ok' : 'stopping' });
    if (path === '/health/ready') {
      const checks = await this.health.check();
      const ok = Object.values(checks).every((s) => s === 'up');
      return json(ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable', checks });
    }
    if (path === '/metrics') return { status: 200, type: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() };
    return json(404, { code: 'not_found' });
  }

  async onApplicationShutdown(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
