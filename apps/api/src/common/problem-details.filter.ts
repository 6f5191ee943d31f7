import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainException, ERROR_CODES, ErrorCode, failedDependency, FieldError, isErrorCode, UNAVAILABLE_RETRY_AFTER_SECONDS } from '@pixmill/common';

/** A JSON body over the 1 MiB limit: not an image upload, so not `file_too_large`. */
const BODY_TOO_LARGE: Problem = {
  code: 'body_too_large',
  detail: 'The request body is larger than 1 MiB; images go to POST /v1/images as multipart.',
};

/** Nest's and Fastify's own errors carry only an HTTP status: the code each such status is answered with. */
const HTTP_STATUS_CODES: Record<number, ErrorCode> = {
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

/**
 * The code of an error that has only a status. A status without a code of its own
 * becomes `bad_request` or `internal_error`, answered with that code's status: a code
 * always comes with the same status.
 */
function codeOfStatus(status: number): ErrorCode {
  return HTTP_STATUS_CODES[status] ?? (status >= 500 ? 'internal_error' : 'bad_request');
}

/** What an error is answered with; the status and title come from the code's registry entry. */
interface Problem {
  code: ErrorCode;
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
    const down = exception instanceof DomainException || exception instanceof HttpException ? undefined : failedDependency(exception);
    const p = down ? this.unavailable(down) : this.toProblem(exception, req);
    const { status, title } = ERROR_CODES[p.code];
    if (down) {
      // Expected while a dependency restarts: one line, not a stack per request.
      this.logger.warn(`${down} unavailable: ${exception instanceof Error ? exception.message : String(exception)}`);
    } else if (status >= 500 && !(exception instanceof DomainException)) {
      this.logger.error(exception instanceof Error ? exception.stack ?? exception.message : String(exception));
    }
    for (const [k, v] of Object.entries(p.headers ?? {})) void reply.header(k, v);
    void reply
      .status(status)
      .header('content-type', 'application/problem+json; charset=utf-8')
      .send({
        type: `https://pixmill.dev/problems/${p.code}`,
        title,
        status,
        detail: p.detail,
        code: p.code,
        ...(p.errors ? { errors: p.errors } : {}),
        ...(p.extra ?? {}),
        requestId: String(req.id),
      });
  }

  /** A dependency that refused, dropped or timed out: 503 with Retry-After, whichever route met it. */
  private unavailable(dependency: string): Problem {
    const what = dependency === 'postgres' ? 'The database' : dependency === 'redis' ? 'Redis' : dependency === 'storage' ? 'Storage' : 'A dependency';
    return {
      code: 'unavailable',
      detail: `${what} is unavailable; try again shortly.`,
      headers: { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_SECONDS) },
    };
  }

  private toProblem(e: unknown, req: FastifyRequest): Problem {
    if (e instanceof DomainException) {
      return { code: e.code, detail: e.message, errors: e.errors, headers: e.headers };
    }
    if (e instanceof HttpException) {
      const status = e.getStatus();
      const body = e.getResponse() as { message?: unknown; code?: string; extra?: Record<string, unknown> } | string;
      const message = typeof body === 'string' ? body : Array.isArray(body.message) ? body.message.join('; ') : body.message;
      if (status === 404 && typeof message === 'string' && message.startsWith('Cannot ')) {
        return { code: 'not_found', detail: `No route for ${req.method} ${req.url.split('?')[0]}.` };
      }
      if (status === 413) return BODY_TOO_LARGE; // the JSON body limit (uploads answer with their own file_too_large)
      const code = typeof body === 'object' && isErrorCode(body.code) ? body.code : codeOfStatus(status);
      return {
        code,
        detail: typeof message === 'string' ? message : e.message,
        extra: typeof body === 'object' ? body.extra : undefined,
        headers: code === 'unavailable' ? { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_SECONDS) } : undefined,
      };
    }
    // Errors raised by Fastify itself before a handler runs (body parsing, limits, content type).
    const fe = e as { statusCode?: number; code?: string; message?: string };
    if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      const status = fe.statusCode;
      if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return BODY_TOO_LARGE;
      if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
        return { code: 'unsupported_media_type', detail: 'Send the request body as application/json.' };
      }
      const detail =
        fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
          ? 'The request body is not valid JSON.'
          : fe.message ?? 'Bad request.';
      return { code: codeOfStatus(status), detail };
    }
    return { code: 'internal_error', detail: 'An unexpected error occurred. It has been logged.' };
  }
}
