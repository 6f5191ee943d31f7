import type { OpenAPIObject } from '@nestjs/swagger';

const PROBLEM = { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDto' } } };
const INT = { schema: { type: 'integer' } };
const RATE_LIMIT_HEADERS = {
  'RateLimit-Limit': { description: 'Requests allowed per minute in this bucket (per user, or per IP on /v1/auth).', ...INT },
  'RateLimit-Remaining': { description: 'Requests left in the current sliding window.', ...INT },
  'RateLimit-Reset': { description: 'Seconds until the window frees a slot.', ...INT },
};

/**
 * Every `/v1` route passes the global rate-limit guard, so each documents the
 * RateLimit-* headers, 429 and 503 here, once, instead of on every controller.
 */
export function documentRateLimits(doc: OpenAPIObject): OpenAPIObject {
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!path.startsWith('/v1/')) continue;
    for (const op of Object.values(item)) {
      if (!op || typeof op !== 'object' || !('responses' in op)) continue;
      const responses = op.responses as Record<string, { headers?: Record<string, unknown> } & Record<string, unknown>>;
      for (const [status, res] of Object.entries(responses)) {
        if (/^[23]/.test(status)) res.headers = { ...RATE_LIMIT_HEADERS, ...res.headers };
      }
      responses['429'] ??= {
        description:
          'Too many requests (`rate_limited`), or on transformation routes the daily quota is used up (`daily_quota_exceeded`); see Retry-After.',
        content: PROBLEM,
      };
      responses['429'].headers = {
        'Retry-After': { description: 'Seconds to wait before retrying.', ...INT },
        ...RATE_LIMIT_HEADERS,
        ...responses['429'].headers,
      };
      responses['503'] ??= { description: 'A dependency (the rate limiter’s Redis, the database) is unavailable (`unavailable`).', content: PROBLEM };
    }
  }
  return doc;
}
