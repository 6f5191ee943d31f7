import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter as BullBoardFastifyAdapter } from '@bull-board/fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, failedDependency, FailedDependency, UNAVAILABLE_RETRY_AFTER_SECONDS } from '@pixmill/common';
import { JobQueue, QueueName } from '@pixmill/queue';
import { queueDashboardCsp } from '../web/web-app.csp';
import { AdminSessionService, QUEUE_DASHBOARD_PATH } from './admin-session.service';

type DashboardProblem = 'not_found' | 'method_not_allowed' | 'unavailable' | 'internal_error';

/** A problem+json body, shaped as the API's filter shapes them (these routes are outside Nest); the request id is added on sending. */
function problemBody(code: DashboardProblem, detail: string): { type: string; title: string; status: number; detail: string; code: DashboardProblem } {
  const { status, title } = ERROR_CODES[code];
  return { type: `https://pixmill.dev/problems/${code}`, title, status, detail, code };
}

/** The detail of a 503: which dependency is down. */
function unavailableDetail(dependency: FailedDependency): string {
  const what = dependency === 'redis' ? 'Redis' : dependency === 'postgres' ? 'The database' : 'A dependency';
  return `${what} is unavailable; try again shortly.`;
}

function problem(req: FastifyRequest, reply: FastifyReply, code: DashboardProblem, detail: string): FastifyReply {
  const body = problemBody(code, detail);
  return reply
    .code(body.status)
    .header('content-type', 'application/problem+json; charset=utf-8')
    .header('cache-control', 'no-store')
    .send({ ...body, requestId: String(req.id) });
}

/**
 * What a failure inside Bull Board's own routes answers: its handler would send 500 with the
 * raw error message. A dependency that is down (Redis, for the queues) is a 503 problem, as on
 * every route of the API; anything else a bare internal_error. The scope's onSend adds the
 * content type, Retry-After and the request id (this handler sees only the error).
 */
function boardError(err: Error): { status: number; body: Record<string, unknown> } {
  const dependency = failedDependency(err);
  if (!dependency) process.stderr.write(`queue dashboard: ${err.stack ?? err.message}\n`);
  const body = dependency ? problemBody('unavailable', unavailableDetail(dependency)) : problemBody('internal_error', 'The queue dashboard failed; the error is logged.');
  return { status: body.status, body };
}

/** Reads only: the board's actions (retry, clean, pause, add…) are refused here, whatever Bull Board's own read-only mode covers. */
const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * Bull Board at /admin/queues (docs/decisions/059): every queue, read-only (Bull Board's
 * readOnlyMode, and no method but GET here) — retries, removals and pauses would change queue
 * state behind the job rows, which the job lifecycle owns (docs/decisions/016). Each request needs the dashboard cookie of an account that is still
 * admin (AdminSessionService); everyone else gets 404. Its pages carry their own CSP.
 */
export async function mountQueueDashboard(app: NestFastifyApplication): Promise<void> {
  const jobs = app.get(JobQueue);
  const sessions = app.get(AdminSessionService);
  const serverAdapter = new BullBoardFastifyAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: Object.values(QueueName).map((name) => new BullMQAdapter(jobs.queue(name), { readOnlyMode: true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Pixmill queues' } },
  });
  // Bull Board's type lists the statuses its own routes use; its Fastify adapter sends whichever is given.
  serverAdapter.setErrorHandler(boardError as unknown as Parameters<typeof serverAdapter.setErrorHandler>[0]);
  const csp = queueDashboardCsp();
  await app.register(async (scope: FastifyInstance) => {
    scope.addHook('onRequest', async (req, reply) => {
      let admin: boolean;
      try {
        admin = await sessions.isAdmin(req.headers.cookie);
      } catch (err) {
        // The role is read from PostgreSQL: while it is down, 503 as everywhere else in the API.
        const dependency = failedDependency(err);
        if (!dependency) throw err;
        void reply.header('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
        return problem(req, reply, 'unavailable', unavailableDetail(dependency));
      }
      // Anyone without a dashboard session gets the same 404 as a path with no route.
      if (!admin) return problem(req, reply, 'not_found', `No route for ${req.method} ${req.url.split('?')[0]}.`);
      if (!READ_METHODS.has(req.method)) {
        return problem(req, reply, 'method_not_allowed', 'The queue dashboard is read-only: the job rows, not the queues, are the truth (cancel and redeliver through the API).');
      }
    });
    scope.addHook('onSend', async (req, reply, payload) => {
      void reply.header('content-security-policy', csp).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
      if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
      if (reply.statusCode >= 500 && typeof payload === 'string' && payload.includes('https://pixmill.dev/problems/')) {
        // A problem from boardError: shaped as the API's filter shapes them.
        void reply.header('content-type', 'application/problem+json; charset=utf-8');
        if (reply.statusCode === 503) void reply.header('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
        return JSON.stringify({ ...JSON.parse(payload), requestId: String(req.id) });
      }
      return payload;
    });
    await scope.register(serverAdapter.registerPlugin() as never, { prefix: QUEUE_DASHBOARD_PATH });
  });
}
