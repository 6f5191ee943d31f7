import type { OpenAPIObject, ResponseObject } from '@nestjs/swagger';
import { addProblemResponses } from './api-problems.decorator';

/** Fastify's limit on a JSON request body (uploads stream past it, with their own limit). */
export const JSON_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Every operation that takes a JSON body documents what Fastify answers before its handler runs:
 * 413 `body_too_large` over the 1 MiB JSON limit and 415 `unsupported_media_type` for a body of
 * another type (merged into a 413 or 415 the route documents already, such as an upload's).
 */
export function documentRequestBodyProblems(doc: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(doc.paths)) {
    for (const op of Object.values(item)) {
      if (!op || typeof op !== 'object' || !('responses' in op)) continue;
      const body = (op as { requestBody?: { content?: Record<string, unknown> } }).requestBody;
      if (!body?.content?.['application/json']) continue;
      addProblemResponses(op.responses as Record<string, ResponseObject>, [
        ['body_too_large', `a JSON body over ${JSON_BODY_LIMIT_BYTES / (1024 * 1024)} MiB`],
        ['unsupported_media_type', 'a body that is not application/json'],
      ]);
    }
  }
  return doc;
}
