import { applyDecorators } from '@nestjs/common';
import { ApiResponse, ResponseObject } from '@nestjs/swagger';
import type { HeadersObject } from '@nestjs/swagger';
import { ERROR_CODES, ErrorCode } from '@pixmill/common';

/** A code a route can answer with, alone or with a note on when this route answers it. */
export type ProblemEntry = ErrorCode | [ErrorCode, string];

/** Notes that hold wherever a code is answered; a route's own note replaces them. */
const NOTES: Partial<Record<ErrorCode, string>> = {
  validation_failed: 'every bad field is listed in `errors`',
  unauthorized: 'missing, invalid or expired access token',
  not_found: 'it does not exist or belongs to another user',
  file_too_large: 'larger than MAX_UPLOAD_BYTES',
  rate_limited: 'see Retry-After',
  daily_quota_exceeded: 'see Retry-After',
};

function describe(code: ErrorCode, note: string | undefined): string {
  const why = note ?? NOTES[code];
  return `${ERROR_CODES[code].title} (\`${code}\`)${why ? `: ${why}` : ''}`;
}

/** The problem+json schema of one status, its `code` narrowed to the codes listed for it. */
function problemContent(status: number, codes: ErrorCode[]): ResponseObject['content'] {
  return {
    'application/problem+json': {
      schema: {
        allOf: [
          { $ref: '#/components/schemas/ProblemDto' },
          { type: 'object', properties: { status: { type: 'integer', enum: [status] }, code: { type: 'string', enum: codes } } },
        ],
      },
    },
  };
}

/**
 * The documented error responses of the given codes, one per status: each code sits
 * under the status the registry gives it, so a code cannot be documented with another.
 */
export function problemResponses(entries: ProblemEntry[]): Map<number, ResponseObject> {
  const byStatus = new Map<number, Array<[ErrorCode, string | undefined]>>();
  for (const entry of entries) {
    const [code, note] = Array.isArray(entry) ? entry : [entry, undefined];
    const status = ERROR_CODES[code].status;
    const listed = byStatus.get(status) ?? [];
    if (!listed.some(([c]) => c === code)) listed.push([code, note]);
    byStatus.set(status, listed);
  }
  const responses = new Map<number, ResponseObject>();
  for (const [status, listed] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses.set(status, {
      description: `${listed.map(([code, note]) => describe(code, note)).join('; ')}.`,
      content: problemContent(status, listed.map(([code]) => code)),
    });
  }
  return responses;
}

/** The codes a documented problem response lists (empty for a response not made here). */
export function problemCodesOf(response: ResponseObject | undefined): ErrorCode[] {
  const schema = response?.content?.['application/problem+json']?.schema as
    | { allOf?: Array<{ properties?: { code?: { enum?: ErrorCode[] } } }> }
    | undefined;
  return schema?.allOf?.[1]?.properties?.code?.enum ?? [];
}

/**
 * Adds codes to the documented responses of an operation: a status not documented yet
 * gets its response; one documented here gets the codes it lacks.
 */
export function addProblemResponses(responses: Record<string, ResponseObject>, entries: ProblemEntry[]): void {
  for (const [status, added] of problemResponses(entries)) {
    const existing = responses[String(status)];
    if (!existing) {
      responses[String(status)] = added;
      continue;
    }
    const known = problemCodesOf(existing);
    const missing = entries.filter((e) => {
      const code = Array.isArray(e) ? e[0] : e;
      return ERROR_CODES[code].status === status && !known.includes(code);
    });
    if (known.length === 0 || missing.length === 0) continue;
    const merged = problemResponses(missing).get(status)!;
    existing.description = `${existing.description.replace(/\.$/, '')}; ${merged.description}`;
    existing.content = problemContent(status, [...known, ...problemCodesOf(merged)]);
  }
}

/**
 * Documents the problem+json error responses of a route by the codes it can answer
 * with: statuses, code lists and titles come from the error-code registry.
 */
export function ApiProblems(...entries: ProblemEntry[]): MethodDecorator & ClassDecorator {
  return applyDecorators(...[...problemResponses(entries)].map(([status, response]) => ApiResponse({ status, ...response })));
}

/** Where `@ApiResponse` keeps a method's responses (`DECORATORS.API_RESPONSE`, not exported by @nestjs/swagger). */
const API_RESPONSE_METADATA = 'swagger/apiResponse';

/**
 * Adds response headers to problem responses documented by `@ApiProblems` on the same
 * method (which must sit below this decorator): for routes whose errors name a resource,
 * such as the job a failed render answers with in `Location`.
 */
export function ApiProblemHeaders(statuses: number[], headers: HeadersObject): MethodDecorator {
  return (_target, _key, descriptor) => {
    const responses = Reflect.getMetadata(API_RESPONSE_METADATA, descriptor.value as object) as Record<string, ResponseObject> | undefined;
    for (const status of statuses) {
      const response = responses?.[String(status)];
      if (!response) throw new Error(`@ApiProblemHeaders: no problem response ${status} is documented below it`);
      response.headers = { ...response.headers, ...headers };
    }
    return descriptor;
  };
}
