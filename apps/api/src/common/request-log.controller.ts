import { FastifyReply, FastifyRequest, LogController } from 'fastify';

/**
 * One log line per request, written when it completes (method, path, status,
 * duration, request id), instead of Fastify's two. Health probes are not logged.
 * The request id is `requestId`, as in problem bodies and the worker's job lines;
 * Fastify's own `reqId` stays on every line of the request's logger.
 */
export class RequestLogController extends LogController {
  isLogDisabled(req: FastifyRequest): boolean {
    return (req.url ?? '').startsWith('/health/');
  }

  incomingRequest(): void {}

  requestCompleted(error: Error | null | undefined, req: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(req)) return;
    const entry = {
      requestId: String(req.id),
      method: req.method,
      path: req.url.split('?')[0],
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      userId: (req as FastifyRequest & { user?: { id: string } }).user?.id,
    };
    if (error || reply.statusCode >= 500) req.log.error({ ...entry, err: error }, 'request failed');
    else req.log.info(entry, 'request completed');
  }
}
