import type { OpenAPIObject, ResponseObject } from '@nestjs/swagger';
import { addProblemResponses } from '../common/api-problems.decorator';
import { QUEUE_DASHBOARD_PATH } from './admin-session.service';

const DASHBOARD_AUTH = 'Needs the dashboard cookie set by a link from POST /v1/admin/queues/session, of an account that is still admin; anyone else: 404.';

/**
 * Bull Board's routes are mounted on Fastify directly (queue-dashboard.ts), so Nest does not
 * see them: the page and the JSON route the page polls are documented here. Its other routes
 * (static files, one queue, one job) follow the same rule.
 */
export function documentQueueDashboard(doc: OpenAPIObject): OpenAPIObject {
  const refusals = (): Record<string, ResponseObject> => {
    const responses: Record<string, ResponseObject> = {};
    addProblemResponses(responses, [
      ['not_found', 'no dashboard session, or the account is not an admin'],
      ['unavailable', 'the database, where the role is read, is unavailable'],
    ]);
    responses['503'].headers = { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } } };
    return responses;
  };
  doc.paths[`${QUEUE_DASHBOARD_PATH}/`] = {
    get: {
      tags: ['admin'],
      operationId: 'QueueDashboard_page',
      summary: 'The queue dashboard (Bull Board, read-only; browsers)',
      description: DASHBOARD_AUTH,
      responses: {
        '200': { description: 'The dashboard’s HTML page.', content: { 'text/html': { schema: { type: 'string' } } } },
        ...refusals(),
      },
    },
  };
  doc.paths[`${QUEUE_DASHBOARD_PATH}/api/queues`] = {
    get: {
      tags: ['admin'],
      operationId: 'QueueDashboard_queues',
      summary: 'Every queue with its job counts (the dashboard’s JSON)',
      description: `${DASHBOARD_AUTH} Bull Board’s own format: \`{queues: [{name, counts, jobs, readOnlyMode, …}]}\`.`,
      responses: {
        '200': {
          description: 'The queues.',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['queues'],
                properties: {
                  queues: {
                    type: 'array',
                    items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, readOnlyMode: { type: 'boolean' } } },
                  },
                },
              },
            },
          },
        },
        ...refusals(),
      },
    },
  };
  return doc;
}
