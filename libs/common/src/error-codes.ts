/** One entry of the error-code registry. */
export interface ErrorCodeEntry {
  /** The HTTP status every answer with this code has. */
  readonly status: number;
  /** The problem's `title` (RFC 9457): the same for every occurrence of the code. */
  readonly title: string;
  /**
   * Whether a job that failed with this code may succeed if run again unchanged: true
   * when the fault is the service's or passes with time, false when the same input or
   * request fails the same way again (or the code records a decision, such as a cancel).
   */
  readonly retryable: boolean;
}

/**
 * Every error code Pixmill answers with or records on a failed job (SPEC §3), once,
 * with its status. Domain exceptions carry only the code; the status, the problem
 * title and whether the worker retries all come from here.
 */
export const ERROR_CODES = {
  // 400
  validation_failed: { status: 400, title: 'Validation failed', retryable: false },
  bad_request: { status: 400, title: 'Bad request', retryable: false },
  unsupported_operation: { status: 400, title: 'Operation not supported', retryable: false },
  // 401
  unauthorized: { status: 401, title: 'Authentication required', retryable: false },
  invalid_credentials: { status: 401, title: 'Invalid credentials', retryable: false },
  // 403
  forbidden: { status: 403, title: 'Forbidden', retryable: false },
  storage_quota_exceeded: { status: 403, title: 'Storage quota exceeded', retryable: false },
  invalid_signature: { status: 403, title: 'Invalid signature', retryable: false },
  // 404, 405, 406
  not_found: { status: 404, title: 'Not found', retryable: false },
  method_not_allowed: { status: 405, title: 'Method not allowed', retryable: false },
  not_acceptable: { status: 406, title: 'Not acceptable', retryable: false },
  // 409
  conflict: { status: 409, title: 'Conflict', retryable: false },
  email_taken: { status: 409, title: 'Email already registered', retryable: false },
  idempotency_conflict: { status: 409, title: 'Idempotency key reused', retryable: false },
  job_not_cancelable: { status: 409, title: 'Job not cancelable', retryable: false },
  job_canceled: { status: 409, title: 'Job canceled', retryable: false },
  webhook_endpoint_disabled: { status: 409, title: 'Webhook endpoint disabled', retryable: false },
  // 413, 415
  file_too_large: { status: 413, title: 'File too large', retryable: false },
  body_too_large: { status: 413, title: 'Request body too large', retryable: false },
  unsupported_media_type: { status: 415, title: 'Unsupported media type', retryable: false },
  // 422: the input or the spec, the same on every attempt
  image_corrupt: { status: 422, title: 'Image cannot be decoded', retryable: false },
  image_too_large: { status: 422, title: 'Image too large', retryable: false },
  spec_not_applicable: { status: 422, title: 'Spec not applicable to this image', retryable: false },
  // 429: passes with time (Retry-After)
  rate_limited: { status: 429, title: 'Too many requests', retryable: true },
  daily_quota_exceeded: { status: 429, title: 'Daily quota exceeded', retryable: true },
  // 5xx
  internal_error: { status: 500, title: 'Internal error', retryable: true },
  unavailable: { status: 503, title: 'Service unavailable', retryable: true },
  // Public image URLs (SPEC §8)
  signature_invalid: { status: 403, title: 'Signature invalid', retryable: false },
  url_expired: { status: 403, title: 'URL expired', retryable: false },
  presets_only: { status: 403, title: 'Only presets are allowed', retryable: false },
  rendering: { status: 503, title: 'Still rendering', retryable: true },
  // Accounts: verification, password reset, API keys
  token_invalid: { status: 400, title: 'Token invalid', retryable: false },
  email_not_verified: { status: 403, title: 'Email not verified', retryable: false },
  insufficient_scope: { status: 403, title: 'Insufficient scope', retryable: false },
} as const satisfies Record<string, ErrorCodeEntry>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

export function errorStatus(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

export function errorTitle(code: ErrorCode): string {
  return ERROR_CODES[code].title;
}

/** Whether the worker may retry a job that failed with `code`; an unknown code is treated as transient. */
export function isRetryableCode(code: string): boolean {
  return isErrorCode(code) ? ERROR_CODES[code].retryable : true;
}

/**
 * The HTTP status of a failed job's error code, when the failure is answered on a request
 * (the on-the-fly route): its code's status; 500 for a code the registry does not know.
 */
export function failedJobStatus(code: string): number {
  return isErrorCode(code) ? errorStatus(code) : ERROR_CODES.internal_error.status;
}
