import type { OpenAPIObject, ResponseObject } from '@nestjs/swagger';
import { addProblemResponses } from '../common/api-problems.decorator';

const INT = { schema: { type: 'integer' } };
const RATE_LIMIT_HEADERS = {
  'RateLimit-Limit': { description: 'Requests allowed per minute in this bucket (per user, or per IP on /v1/auth).', ...INT },
  'RateLimit-Remaining': { description: 'Requests left in the current sliding window.', ...INT },
  'RateLimit-Reset': { description: 'Seconds until the window frees a slot.', ...INT },
};

/**
 * Every `/v1` route passes the global rate-limit guard, so each documents the
 * RateLimit-* headers, `rate_limited` and `unavailable` here, once, instead of on
 * every controller (routes add codes of their own, such as `daily_quota_exceeded`).
 */
export function documentRateLimits(doc: OpenAPIObject): OpenAPIObject {
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!path.startsWith('/v1/')) continue;
    for (const op of Object.values(item)) {
      if (!op || typeof op !== 'object' || !('responses' in op)) continue;
      const responses = op.responses as Record<string, ResponseObject>;
      addProblemResponses(responses, [
        'rate_limited',
        ['unavailable', 'a dependency (the rate limiter’s Redis, the database) is unavailable'],
      ]);
      // Every answer past the guard counts, errors too: each may carry the headers.
      for (const res of Object.values(responses)) res.headers = { ...RATE_LIMIT_HEADERS, ...res.headers };
      responses['429'].headers = {
        'Retry-After': { description: 'Seconds to wait before retrying.', ...INT },
        ...RATE_LIMIT_HEADERS,
        ...responses['429'].headers,
      };
    }
  }
  documentRetryAfter(doc);
  return doc;
}

/** Every 429 and 503 answer, on any route (public ones too), says when to try again. */
function documentRetryAfter(doc: OpenAPIObject): void {
  for (const item of Object.values(doc.paths)) {
    for (const op of Object.values(item)) {
      if (!op || typeof op !== 'object' || !('responses' in op)) continue;
      const responses = op.responses as Record<string, ResponseObject>;
      for (const status of ['429', '503']) {
        const res = responses[status];
        if (res) res.headers = { 'Retry-After': { description: 'Seconds to wait before retrying.', ...INT }, ...res.headers };
      }
    }
  }
}
