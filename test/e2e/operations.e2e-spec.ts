import SwaggerParser from '@apidevtools/swagger-parser';
import { ModulesContainer } from '@nestjs/core';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ERROR_CODES, isErrorCode } from '@pixmill/common';
import {
  MAX_OPERATIONS,
  OPERATION_DTOS,
  OPERATION_NAMES,
  OUTPUT_FORMATS,
  QUERY_CONTROL_KEYS,
  QUERY_SPEC_KEYS,
} from '@pixmill/imaging';
import { freePort, HttpClient, pollUntil, RunningApi, startApi, startApiProcess, startWorkerProcess, UserFactory, WorkerProcess } from '@pixmill/testing';

/** Every route the application registers, as "METHOD /path" with OpenAPI-style params. */
function registeredRoutes(api: RunningApi): string[] {
  const routes: string[] = [];
  for (const mod of api.app.get(ModulesContainer).values()) {
    for (const ctrl of mod.controllers.values()) {
      const base: string = Reflect.getMetadata(PATH_METADATA, ctrl.metatype!) ?? '';
      const proto = (ctrl.metatype as any).prototype;
      for (const key of Object.getOwnPropertyNames(proto)) {
        const handler = proto[key];
        const method = Reflect.getMetadata(METHOD_METADATA, handler);
        if (method === undefined) continue;
        const sub: string = Reflect.getMetadata(PATH_METADATA, handler) ?? '';
        const full = `/${[base, sub].filter((p) => p && p !== '/').join('/')}`.replace(/\/+/g, '/').replace(/:(\w+)/g, '{$1}').replace(/\/\*$/, '/{path}');
        routes.push(`${RequestMethod[method]} ${full}`);
      }
    }
  }
  return routes;
}

describe('operations (e2e)', () => {
  let api: RunningApi;
  let http: HttpClient;

  beforeAll(async () => {
    api = await startApi();
    http = new HttpClient(api.baseUrl);
  });
  afterAll(() => api.close());

  it('/health/live and /health/ready → 200 with postgres, redis and storage up', async () => {
    expect((await http.get('/health/live')).body).toEqual({ status: 'ok' });
    const ready = await http.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ postgres: 'up', redis: 'up', storage: 'up' });
  });

  it('/health/ready → 503 naming storage when the STORAGE_LOCAL_DIR directory has gone (an unmounted volume)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pixmill-ready-'));
    const local = await startApi({ STORAGE_LOCAL_DIR: dir });
    try {
      const client = new HttpClient(local.baseUrl);
      expect((await client.get('/health/ready')).body.checks.storage).toBe('up');
      await rm(dir, { recursive: true });
      const res = await client.get('/health/ready');
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
      expect(res.body).toMatchObject({ code: 'unavailable', checks: { postgres: 'up', redis: 'up', storage: 'down' } });
    } finally {
      await local.close();
    }
  });

  it("the API's request line names the request id as requestId (and reqId, as before)", async () => {
    const proc = await startApiProcess();
    try {
      const requestId = `trace-${randomUUID()}`;
      const res = await new HttpClient(proc.baseUrl).get('/v1/me', { 'x-request-id': requestId });
      expect(res.status).toBe(401);
      const line = await pollUntil(
        async () => proc.output().split('\n').find((l) => l.includes(requestId) && l.includes('request completed')),
        (found) => found !== undefined,
      );
      expect(JSON.parse(line!)).toMatchObject({ msg: 'request completed', requestId, reqId: requestId, path: '/v1/me', status: 401 });
    } finally {
      await proc.kill();
    }
  });

  it('/metrics exposes request latency by route and queue depth', async () => {
    await http.get('/health/live');
    const res = await http.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    expect(res.text).toMatch(/pixmill_http_request_duration_seconds_count\{method="GET",route="\/health\/live",status="200"\} \d+/);
    expect(res.text).toMatch(/pixmill_queue_jobs\{queue="transform",state="waiting"\} \d+/);
  });

  it('/health/ready → 503 naming redis when Redis is unreachable', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as { port: number };
        srv.close(() => resolve(port));
      });
    });
    const broken = await startApi({ REDIS_URL: `redis://127.0.0.1:${closedPort}/0` });
    try {
      const res = await new HttpClient(broken.baseUrl).get('/health/ready');
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
      expect(res.body).toMatchObject({ code: 'unavailable', checks: { postgres: 'up', redis: 'down' } });
      // The API keeps answering what does not need Redis.
      expect((await new HttpClient(broken.baseUrl).get('/health/live')).status).toBe(200);
    } finally {
      await broken.close();
    }
  });

  it('/openapi.json is valid OpenAPI 3 and documents every route with its errors', async () => {
    const res = await http.get('/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toMatch(/^3\./);
    await SwaggerParser.validate(JSON.parse(JSON.stringify(doc)));
    const documented = Object.entries(doc.paths).flatMap(([p, ops]: [string, any]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    const routes = registeredRoutes(api);
    expect(routes.length).toBeGreaterThan(5);
    expect(documented.sort()).toEqual(expect.arrayContaining(routes.sort()));
    for (const [p, ops] of Object.entries(doc.paths) as [string, any][]) {
      for (const [m, op] of Object.entries(ops) as [string, any][]) {
        const statuses = Object.keys(op.responses);
        expect({ route: `${m} ${p}`, ok: statuses.some((s) => /^[23]/.test(s)) }).toEqual({ route: `${m} ${p}`, ok: true });
        const isPublic = ['/v1/auth/signup', '/v1/auth/login', '/v1/auth/refresh', '/v1/auth/verify', '/v1/auth/password-reset', '/v1/auth/password-reset/confirm'].includes(p);
        if (p.startsWith('/v1/') && !isPublic) {
          expect({ route: `${m} ${p}`, has401: statuses.includes('401') }).toEqual({ route: `${m} ${p}`, has401: true });
        }
        // Every documented error names its codes, each under the status the registry gives it.
        for (const [status, res] of Object.entries(op.responses) as [string, any][]) {
          const problem = res.content?.['application/problem+json'];
          if (!problem) continue;
          const codes: string[] = problem.schema.allOf?.[1]?.properties?.code?.enum ?? [];
          const statusOf = (c: string) => (isErrorCode(c) ? ERROR_CODES[c].status : 'unregistered');
          expect({ route: `${m} ${p} ${status}`, listed: codes.length > 0, statuses: codes.map(statusOf) }).toEqual({
            route: `${m} ${p} ${status}`,
            listed: true,
            statuses: codes.map(() => Number(status)),
          });
        }
      }
    }
    expect((await http.get('/docs')).status).toBe(200);
  });

  it('/openapi.json describes the transformation spec, the eager fields and every query key of /transform', async () => {
    const doc = (await http.get('/openapi.json')).body;
    /** Follows a $ref (or a lone allOf around one) to the schema it names. */
    const resolve = (s: any): any =>
      s?.$ref ? resolve(doc.components.schemas[s.$ref.replace('#/components/schemas/', '')]) : s?.allOf?.length === 1 ? resolve(s.allOf[0]) : s;

    const body = resolve(doc.paths['/v1/images/{id}/transformations'].post.requestBody.content['application/json'].schema);
    const operations = body.properties.operations;
    expect(operations).toMatchObject({ type: 'array', maxItems: MAX_OPERATIONS });
    // Every op the parser dispatches on (a new op without a schema fails here), each schema naming its op.
    const parsedOps = Object.keys(OPERATION_DTOS).sort();
    expect(parsedOps).toEqual([...OPERATION_NAMES].sort());
    expect(operations.items.oneOf.map((ref: any) => resolve(ref).properties.op.enum).sort()).toEqual(parsedOps.map((op) => [op]));
    expect(operations.items.discriminator.propertyName).toBe('op');
    for (const op of parsedOps) {
      const schema = resolve({ $ref: operations.items.discriminator.mapping[op] });
      expect({ op, enum: schema.properties.op.enum, required: schema.required, described: typeof schema.description }).toEqual({
        op,
        enum: [op],
        required: expect.arrayContaining(['op']),
        described: 'string',
      });
    }
    const output = resolve(body.properties.output);
    expect(output.properties.format.enum).toEqual([...OUTPUT_FORMATS]);
    expect(output.properties.quality).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
    expect(Object.keys(output.properties).sort()).toEqual(['compress', 'format', 'keepProfile', 'lossless', 'progressive', 'quality']);
    expect(body.properties.webhookUrl).toMatchObject({ type: 'string', format: 'uri' });

    // The eager specs of both upload kinds are the same spec schema.
    const multipart = doc.paths['/v1/images'].post.requestBody.content['multipart/form-data'];
    const direct = doc.paths['/v1/uploads'].post.requestBody.content['application/json'];
    for (const eager of [resolve(multipart.schema).properties.eager, resolve(direct.schema).properties.eager]) {
      expect(eager.type).toBe('array');
      const spec = resolve(eager.items);
      expect(spec.properties.operations).toEqual(operations);
      expect(resolve(spec.properties.output)).toEqual(output);
    }
    expect(multipart.encoding.eager.contentType).toBe('application/json');

    // Every key the query parser accepts (and only those) is documented, with a description and an example.
    const query = doc.paths['/v1/images/{id}/transform'].get.parameters.filter((p: any) => p.in === 'query');
    expect(query.map((p: any) => p.name).sort()).toEqual([...QUERY_SPEC_KEYS, ...QUERY_CONTROL_KEYS, 'preset'].sort());
    for (const p of query) {
      expect(p).toMatchObject({ required: false, description: expect.any(String), schema: { example: expect.anything() } });
    }
    const param = (name: string) => query.find((p: any) => p.name === name);
    expect(param('format').schema.enum).toEqual([...OUTPUT_FORMATS]);
    expect(param('wait').schema).toMatchObject({ type: 'integer', minimum: 0, maximum: 30, default: 10 });
  });

  describe('with a worker process', () => {
    let worker: WorkerProcess;
    beforeAll(async () => {
      worker = await startWorkerProcess();
    });
    afterAll(async () => {
      await worker?.stop();
    });

    it('a ping enqueued by the API completes in the separate worker process', async () => {
      const u = await new UserFactory(http).create();
      const res = await u.http.post('/v1/ops/ping', { message: 'hello' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ message: 'hello', workerPid: worker.pid, jobId: expect.any(String) });
      expect(res.body.workerPid).not.toBe(process.pid);
    });

    it("the worker's private /health/ready checks storage too; paths match whatever the query string", async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'pixmill-worker-ready-'));
      const port = await freePort();
      const probed = await startWorkerProcess({ STORAGE_LOCAL_DIR: dir, WORKER_METRICS_PORT: String(port) });
      try {
        const get = async (p: string) => {
          const res = await fetch(`http://127.0.0.1:${port}${p}`);
          return { status: res.status, text: await res.text() };
        };
        expect(await get('/health/live?probe=1')).toEqual({ status: 200, text: JSON.stringify({ status: 'ok' }) });
        expect((await get('/metrics?format=text')).text).toContain('pixmill_job_duration_seconds');
        const ready = await get('/health/ready?full');
        expect(ready.status).toBe(200);
        expect(JSON.parse(ready.text)).toEqual({ status: 'ok', checks: { postgres: 'up', redis: 'up', storage: 'up' } });

        await rm(dir, { recursive: true });
        const down = await get('/health/ready');
        expect(down.status).toBe(503);
        expect(JSON.parse(down.text)).toEqual({ status: 'unavailable', checks: { postgres: 'up', redis: 'up', storage: 'down' } });
        expect((await get('/nothing?here')).status).toBe(404);
      } finally {
        await probed.stop();
      }
    });

    it('the worker stops gracefully on SIGTERM', async () => {
      const extra = await startWorkerProcess();
      expect(await extra.stop()).toBe(0);
    });
  });
});
