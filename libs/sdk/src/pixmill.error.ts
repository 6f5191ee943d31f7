import { ApiErrorCode, ERROR_CODE_STATUS } from './generated/error-codes';

/** Codes the SDK itself raises, for failures that never reached (or never came back from) the API. */
export type ClientErrorCode = 'network_error' | 'timeout' | 'invalid_response' | 'webhook_signature_invalid' | 'webhook_timestamp_invalid';

/** Every code a PixmillError can carry: the API's registry, then the SDK's own. */
export type PixmillErrorCode = ApiErrorCode | ClientErrorCode;

export interface FieldError {
  field: string;
  message: string;
}

/** An RFC 9457 problem as the API sends it. */
export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  code: string;
  errors?: FieldError[];
  requestId?: string;
  [extra: string]: unknown;
}

export function isApiErrorCode(code: unknown): code is ApiErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODE_STATUS, code);
}

/** A failed call: the problem's `code`, `status` and `requestId` (quote it when reporting an issue). */
export class PixmillError extends Error {
  override readonly name = 'PixmillError';

  constructor(
    readonly code: PixmillErrorCode,
    message: string,
    readonly status: number,
    readonly details: { requestId?: string; errors?: FieldError[]; problem?: Problem; jobId?: string } = {},
  ) {
    super(message);
  }

  get requestId(): string | undefined {
    return this.details.requestId;
  }

  get errors(): FieldError[] | undefined {
    return this.details.errors;
  }

  /** The error of a problem+json answer (or of an answer that is not one: `invalid_response`). */
  static fromProblem(body: unknown, response: Response): PixmillError {
    const requestId = response.headers.get('x-request-id') ?? undefined;
    const problem = body && typeof body === 'object' ? (body as Problem) : undefined;
    if (problem && isApiErrorCode(problem.code)) {
      return new PixmillError(problem.code, problem.detail ?? problem.title ?? problem.code, response.status, {
        requestId: problem.requestId ?? requestId,
        errors: problem.errors,
        problem,
      });
    }
    return new PixmillError('invalid_response', `unexpected answer ${response.status} from ${response.url}`, response.status, { requestId });
  }

  /** The error a failed (or canceled) job ended with. */
  static fromJob(job: { id: string; status: string; error: { code: string; message: string } | null }): PixmillError {
    const code = job.status === 'canceled' ? 'job_canceled' : isApiErrorCode(job.error?.code) ? job.error!.code : 'internal_error';
    return new PixmillError(code as ApiErrorCode, job.error?.message ?? `job ${job.id} ${job.status}`, ERROR_CODE_STATUS[code as ApiErrorCode], { jobId: job.id });
  }
}
