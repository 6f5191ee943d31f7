import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainException, FieldError } from '@pixmill/common';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** A JSON body over the 1 MiB limit: not an image upload, so not `file_too_large`. */
const BODY_TOO_LARGE: Problem = {
  status: 413,
  code: 'body_too_large',
  detail: 'The request body is larger than 1 MiB; images go to POST /v1/images as multipart.',
};

const HTTP_CODES: Record<number, string> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  413: 'file_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

interface Problem {
  status: number;
  code: string;
  detail: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
  extra?: Record<string, unknown>;
}

/**
 * The one place errors become HTTP: RFC 9457 problem+json with a stable `code`.
 * Unexpected errors are logged with their stack and answered as a bare 500.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetailsFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<FastifyRequest>();
    const reply = ctx.getResponse<FastifyReply>();
    const p = this.toProblem(exception, req);
    if (p.status >= 500 && !(exception instanceof DomainException)) {
      this.logger.error(exception instanceof Error ? exception.stack ?? exception.message : String(exception));
    }
    for (const [k, v] of Object.entries(p.headers ?? {})) void reply.header(k, v);
    void reply
      .status(p.status)
      .header('content-type', 'application/problem+json; charset=utf-8')
      .send({
        type: `https://pixmill.dev/problems/${p.code}`,
        title: TITLES[p.status] ?? 'Error',
        status: p.status,
        detail: p.detail,
        code: p.code,
        ...(p.errors ? { errors: p.errors } : {}),
        ...(p.extra ?? {}),
        requestId: String(req.id),
      });
  }

  private toProblem(e: unknown, req: FastifyRequest): Problem {
    if (e instanceof DomainException) {
      return { status: e.status, code: e.code, detail: e.message, errors: e.errors, headers: e.headers };
    }
    if (e instanceof HttpException) {
      const status = e.getStatus();
      const body = e.getResponse() as { message?: unknown; code?: string; extra?: Record<string, unknown> } | string;
      const message = typeof body === 'string' ? body : Array.isArray(body.message) ? body.message.join('; ') : body.message;
      if (status === 404 && typeof message === 'string' && message.startsWith('Cannot ')) {
        return { status, code: 'not_found', detail: `No route for ${req.method} ${req.url.split('?')[0]}.` };
      }
      if (status === 413) return BODY_TOO_LARGE; // the JSON body limit (uploads answer with their own file_too_large)
      return {
        status,
        code: (typeof body === 'object' && body.code) || HTTP_CODES[status] || (status >= 500 ? 'internal_error' : 'error'),
        detail: typeof message === 'string' ? message : e.message,
        extra: typeof body === 'object' ? body.extra : undefined,
      };
    }
    // Errors raised by Fastify itself before a handler runs (body parsing, limits, content type).
    const fe = e as { statusCode?: number; code?: string; message?: string };
    if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      const status = fe.statusCode;
      if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return BODY_TOO_LARGE;
      if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
        return { status, code: 'unsupported_media_type', detail: 'Send the request body as application/json.' };
      }
      const detail =
        fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
          ? 'The request body is not valid JSON.'
          : fe.message ?? 'Bad request.';
      return { status, code: HTTP_CODES[status] ?? 'bad_request', detail };
    }
    return { status: 500, code: 'internal_error', detail: 'An unexpected error occurred. It has been logged.' };
  }
}
