/** The object is not in storage. Internal (not a DomainException): callers decide whether a user sees 404. */
export class ObjectNotFoundError extends Error {
  readonly code = 'object_not_found';

  constructor(readonly key: string) {
    super(`Storage object not found: ${key}`);
    this.name = 'ObjectNotFoundError';
  }
}
