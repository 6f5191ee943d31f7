import type { ResponseObject } from '@nestjs/swagger';
import { addProblemResponses, problemCodesOf, problemResponses } from './api-problems.decorator';

describe('documented problem responses', () => {
  it('put each code under its registry status, with its title and the route’s note', () => {
    const responses = problemResponses(['not_found', ['job_not_cancelable', 'the job has started or ended'], 'unauthorized', 'email_taken']);
    expect([...responses.keys()]).toEqual([401, 404, 409]);
    expect(problemCodesOf(responses.get(409))).toEqual(['job_not_cancelable', 'email_taken']);
    expect(responses.get(409)!.description).toBe(
      'Job not cancelable (`job_not_cancelable`): the job has started or ended; Email already registered (`email_taken`).',
    );
    expect(responses.get(409)!.content!['application/problem+json'].schema).toEqual({
      allOf: [
        { $ref: '#/components/schemas/ProblemDto' },
        {
          type: 'object',
          properties: { status: { type: 'integer', enum: [409] }, code: { type: 'string', enum: ['job_not_cancelable', 'email_taken'] } },
        },
      ],
    });
  });

  it('add the codes a documented status lacks, and leave one that has them', () => {
    const responses: Record<string, ResponseObject> = Object.fromEntries(
      [...problemResponses(['daily_quota_exceeded', 'unavailable'])].map(([status, res]) => [String(status), res]),
    );
    addProblemResponses(responses, ['rate_limited', 'unavailable', 'unauthorized']);
    expect(problemCodesOf(responses['429'])).toEqual(['daily_quota_exceeded', 'rate_limited']);
    expect(responses['429'].description).toBe(
      'Daily quota exceeded (`daily_quota_exceeded`): see Retry-After; Too many requests (`rate_limited`): see Retry-After.',
    );
    expect(problemCodesOf(responses['503'])).toEqual(['unavailable']);
    expect(responses['503'].description).toBe('Service unavailable (`unavailable`).');
    expect(problemCodesOf(responses['401'])).toEqual(['unauthorized']);
  });
});
