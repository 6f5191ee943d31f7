import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AppConfig } from '@pixmill/config';
import { webAppCsp } from './web-app.csp';

/** Paths that belong to the API itself: never answered with the web console's page. */
const API_PREFIXES = ['/v1/', '/files/', '/health/', '/metrics', '/docs', '/openapi.', '/assets/', '/admin/'];

/** The built console (`npm run build` writes it to dist/web), found from the repository root. */
export function findWebAppDir(from = __dirname): string | null {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) {
      const web = join(dir, 'dist', 'web');
      return existsSync(join(web, 'index.html')) ? web : null;
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

function wantsPage(req: FastifyRequest): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const path = req.url.split('?')[0];
  if (path !== '/' && API_PREFIXES.some((p) => path.startsWith(p))) return false;
  // Only requests that matched no API route, from a browser asking for a page.
  return !req.routeOptions?.url && String(req.headers.accept ?? '').includes('text/html');
}

/**
 * Serves the web console: hashed files under /assets/ cached for a year (their names change with their
 * content), and index.html, never cached, with a strict CSP, for `/` and any other path of the app
 * (client-side routes such as /images/{id}: the SPA fallback). Without a build nothing is served.
 */
export async function serveWebApp(app: NestFastifyApplication, config: AppConfig, dir = findWebAppDir()): Promise<boolean> {
  if (!dir) return false;
  const indexHtml = readFileSync(join(dir, 'index.html'));
  const csp = webAppCsp(config);
  await app.register(fastifyStatic, {
    root: join(dir, 'assets'),
    prefix: '/assets/',
    decorateReply: false,
    wildcard: true,
    index: false,
    // The build writes .br and .gz beside each asset.
    preCompressed: true,
    immutable: true,
    maxAge: '365d',
    setHeaders: (reply) => void reply.header('x-content-type-options', 'nosniff'),
  });
  const sendPage = (reply: FastifyReply): FastifyReply =>
    reply
      .code(200)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', csp)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY')
      .send(indexHtml);
  app.getHttpAdapter().getInstance().addHook('onRequest', (req, reply, done) => {
    if (!wantsPage(req)) return done();
    void sendPage(reply);
  });
  return true;
}
