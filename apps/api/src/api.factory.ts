import { ValidationPipe } from '@nestjs/common';
import fastifyMultipart from '@fastify/multipart';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { PinoLoggerService } from '@pixmill/common';
import { AppConfig } from '@pixmill/config';
import { configureSharp } from '@pixmill/imaging';
import { AppModule } from './app.module';
import { ApiMetrics } from './metrics/api-metrics.service';
import { FieldErrorDto, ProblemDto } from './common/problem.dto';
import { ProblemDetailsFilter } from './common/problem-details.filter';
import { RequestLogController } from './common/request-log.controller';
import { validationExceptionFactory } from './common/validation-exception.factory';
import { documentNullables } from './common/openapi-nullable';
import { documentRateLimits } from './rate-limit/rate-limit.openapi';
import { API_KEY_SECURITY_SCHEME, documentAccountRules } from './common/account-rules.openapi';
import { documentTransformationSpec } from './transformations/transformation-spec.openapi';
import { documentRequestBodyProblems, JSON_BODY_LIMIT_BYTES } from './common/request-body.openapi';
import { serveWebApp } from './web/web-app.static';
import { mountQueueDashboard } from './admin/queue-dashboard';
import { documentQueueDashboard } from './admin/queue-dashboard.openapi';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * While the API shuts down, a keep-alive connection is closed as soon as its last
 * response has gone. Node closes the connections that are idle when closing starts;
 * one whose response was still being written then would otherwise stay open until
 * the client's next request or the keep-alive timeout (72 s), holding the process.
 */
function closeKeepAliveConnectionsOnShutdown(fastify: FastifyInstance): void {
  let sweeper: NodeJS.Timeout | undefined;
  fastify.addHook('preClose', (done) => {
    sweeper = setInterval(() => fastify.server.closeIdleConnections(), 50);
    sweeper.unref();
    done();
  });
  fastify.addHook('onClose', (_instance, done) => {
    clearInterval(sweeper);
    done();
  });
}

/** Builds the API application (used by main.ts and by the e2e tests). */
export async function createApiApp(config: AppConfig): Promise<NestFastifyApplication> {
  const logger = new PinoLoggerService(config.logLevel, { app: 'pixmill-api' });
  // The API only probes and verifies uploads: one libvips thread each, no operation cache to hold memory.
  configureSharp({ concurrency: 1, cacheMemoryMb: 0 });
  const adapter = new FastifyAdapter({
    loggerInstance: logger.pino,
    logController: new RequestLogController(),
    // X-Forwarded-For is believed only from the proxies named in TRUST_PROXY: anyone else could
    // name a fresh address on every request and escape the per-IP limits of /v1/auth.
    trustProxy: config.http.trustProxy,
    bodyLimit: JSON_BODY_LIMIT_BYTES,
    // A caller's x-request-id is kept if sane, so one id follows a request through API, worker and webhook.
    genReqId: (req: IncomingMessage) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  adapter.getInstance().addHook('onRequest', (req, reply, done) => {
    void reply.header('x-request-id', req.id);
    done();
  });
  closeKeepAliveConnectionsOnShutdown(adapter.getInstance());
  // Bodies are JSON (or multipart uploads): a text/plain body would reach the routes as a bare string.
  adapter.getInstance().removeContentTypeParser('text/plain');
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger,
    bufferLogs: false,
  });
  await app.register(fastifyMultipart, {
    limits: {
      // One byte over the limit reaches the upload inspector, which answers 413 and removes what was stored.
      fileSize: config.limits.maxUploadBytes + 1,
      files: 2, // a second file part reaches the upload service, which refuses it with 400
      fields: 5,
      fieldSize: 256 * 1024,
      parts: 8,
      headerPairs: 50,
    },
  });
  // The web console (dist/web, when built) at / with its SPA fallback.
  await serveWebApp(app, config);
  // Bull Board at /admin/queues, for admins only (docs/decisions/059).
  await mountQueueDashboard(app);
  const metrics = app.get(ApiMetrics);
  adapter.getInstance().addHook('onResponse', (req, reply, done) => {
    // The route pattern (not the URL) keeps label cardinality bounded.
    const route = req.routeOptions?.url ?? 'unmatched';
    metrics.requestDuration.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: validationExceptionFactory,
    }),
  );

  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Pixmill API')
      .setDescription(
        'Upload images, request chained transformations, get CDN URLs. Errors are RFC 9457 problem+json with a stable `code`.',
      )
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from /v1/auth (a session): every route.' })
      .addBearerAuth(
        { type: 'http', scheme: 'bearer', bearerFormat: 'pm_…', description: 'An API key (POST /v1/api-keys): the routes of its scopes, listed in each operation’s security.' },
        API_KEY_SECURITY_SCHEME,
      )
      .build(),
    { extraModels: [ProblemDto, FieldErrorDto] },
  );
  documentTransformationSpec(doc);
  documentRateLimits(doc);
  documentNullables(doc);
  documentAccountRules(doc);
  documentRequestBodyProblems(doc);
  documentQueueDashboard(doc);
  SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'openapi.json', yamlDocumentUrl: 'openapi.yaml' });
  return app;
}
