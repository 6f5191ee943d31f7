import { DomainException } from '@pixmill/common';

/**
 * The spec is valid but cannot be applied to this particular image, which is
 * only known at render time (e.g. a crop region outside the image). 422, not
 * retried: the same spec on the same image fails the same way.
 */
export class RenderSpecException extends DomainException {
  constructor(message: string) {
    super('spec_not_applicable', message);
  }
}
