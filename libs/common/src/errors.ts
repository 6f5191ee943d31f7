import { DomainException, FieldError } from './domain.exception';
import { UNAVAILABLE_RETRY_AFTER_SECONDS } from './dependency-failure.util';

/** The error vocabulary of SPEC §3: one class per stable code. */
export class ValidationFailedException extends DomainException {
  constructor(errors: FieldError[], message = 'The request is not valid.') {
    super('validation_failed', message, errors);
  }
}
export class UnauthorizedException extends DomainException {
  constructor(message = 'Authentication is required.') {
    super('unauthorized', message);
  }
}
export class InvalidCredentialsException extends DomainException {
  constructor() {
    super('invalid_credentials', 'The email or password is wrong.');
  }
}
export class StorageQuotaExceededException extends DomainException {
  constructor(message = 'This upload would exceed your storage quota.') {
    super('storage_quota_exceeded', message);
  }
}
export class NotFoundException extends DomainException {
  constructor(what = 'Resource') {
    super('not_found', `${what} not found.`);
  }
}
export class EmailTakenException extends DomainException {
  constructor() {
    super('email_taken', 'An account with this email already exists.');
  }
}
export class IdempotencyConflictException extends DomainException {
  constructor() {
    super('idempotency_conflict', 'This Idempotency-Key was already used with a different request.');
  }
}
export class FileTooLargeException extends DomainException {
  constructor(maxBytes: number) {
    super('file_too_large', `The file is larger than the limit of ${maxBytes} bytes.`);
  }
}
export class UnsupportedMediaTypeException extends DomainException {
  constructor(message = 'The content is not an allowed image type (JPEG, PNG, GIF, WebP, AVIF, HEIC, TIFF).') {
    super('unsupported_media_type', message);
  }
}
export class ImageCorruptException extends DomainException {
  constructor(message = 'The image cannot be decoded.') {
    super('image_corrupt', message);
  }
}
export class ImageTooLargeException extends DomainException {
  constructor(message: string) {
    super('image_too_large', message);
  }
}
export class RateLimitedException extends DomainException {
  constructor(retryAfterSeconds: number, headers: Record<string, string> = {}) {
    super('rate_limited', 'Too many requests.', undefined, { 'Retry-After': String(retryAfterSeconds), ...headers });
  }
}
export class DailyQuotaExceededException extends DomainException {
  constructor(retryAfterSeconds: number) {
    super('daily_quota_exceeded', 'The daily transformation quota is used up.', undefined, {
      'Retry-After': String(retryAfterSeconds),
    });
  }
}
export class UnavailableException extends DomainException {
  constructor(message = 'A dependency is unavailable; try again shortly.', retryAfterSeconds = UNAVAILABLE_RETRY_AFTER_SECONDS) {
    super('unavailable', message, undefined, { 'Retry-After': String(retryAfterSeconds) });
  }
}
export class TokenInvalidException extends DomainException {
  constructor() {
    super('token_invalid', 'The token is invalid, expired or already used.');
  }
}
export class EmailNotVerifiedException extends DomainException {
  constructor() {
    super('email_not_verified', 'Verify your email address first (POST /v1/auth/verify/resend sends the link again).');
  }
}
export class InsufficientScopeException extends DomainException {
  /** `scope` null: the route is for logged-in sessions only. */
  constructor(scope: string | null) {
    super('insufficient_scope', scope ? `This API key lacks the scope ${scope}.` : 'API keys cannot call this route; log in (a session token) to do it.');
  }
}
