export interface FieldError {
  field: string;
  message: string;
}

/**
 * An error the user caused or is entitled to know about. It carries a stable
 * snake_case `code` and the HTTP status it maps to; the API's global filter is
 * the one place that turns it into problem+json. Libraries throw these without
 * depending on HTTP frameworks.
 */
export class DomainException extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors?: FieldError[],
    /** Extra response headers, e.g. Retry-After. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
