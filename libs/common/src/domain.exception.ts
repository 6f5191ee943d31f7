import { ErrorCode, errorStatus, isErrorCode } from './error-codes';

export interface FieldError {
  field: string;
  message: string;
}

/**
 * An error the user caused or is entitled to know about. It carries a stable
 * snake_case `code` from the registry (error-codes.ts), which also gives the HTTP
 * status it maps to; the API's global filter is the one place that turns it into
 * problem+json. Libraries throw these without depending on HTTP frameworks.
 */
export class DomainException extends Error {
  /** The registry's status of `code`, kept on the instance for callers that branch on it. */
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly errors?: FieldError[],
    /** Extra response headers, e.g. Retry-After. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = new.target.name;
    // The type allows registry codes only; a value cast past it is a bug, named here rather than answered with a made-up status.
    if (!isErrorCode(code)) throw new TypeError(`${String(code)} is not a registered error code`);
    this.status = errorStatus(code);
  }
}
