import type { HeadersObject } from '@nestjs/swagger';

/** `Location` of a response that always names where its resource lives (or where to look). */
export function locationHeader(description: string): HeadersObject {
  return { Location: { description, required: true, schema: { type: 'string' } } };
}

/** `Retry-After` on answers that are not final yet: seconds before asking again. */
export const RETRY_AFTER_HEADER: HeadersObject = {
  'Retry-After': { description: 'Seconds to wait before asking again (sent while the job is not final).', schema: { type: 'integer' } },
};
