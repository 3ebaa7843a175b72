import { z } from 'zod';
import { queueEventSchema } from './schemas/queue-event-schema.js';
import {
  bulkActionRequestSchema,
  bulkActionResultSchema,
  deliveryAttemptSchema,
  queueActionResultSchema,
  queuedDeliverySchema,
  queuedMessageSchema,
  queuePageSchema,
  queuePurgeRequestSchema,
  queuePurgeResultSchema,
  queueSummarySchema,
} from './schemas/queue-schemas.js';
import { serverInfoSchema } from './schemas/server-info-schema.js';
import {
  suppressionAddRequestSchema,
  suppressionPageSchema,
  suppressionRemovedSchema,
  suppressionSchema,
} from './schemas/suppression-schemas.js';

/** The queue's part of the OpenAPI document (openapi-document.ts spreads it in). */
const components = {
  QueuedDelivery: queuedDeliverySchema,
  DeliveryAttempt: deliveryAttemptSchema,
  QueuePage: queuePageSchema,
  QueueSummary: queueSummarySchema,
  QueuedMessage: queuedMessageSchema,
  QueueActionResult: queueActionResultSchema,
  BulkActionRequest: bulkActionRequestSchema,
  BulkActionResult: bulkActionResultSchema,
  QueuePurgeRequest: queuePurgeRequestSchema,
  QueuePurgeResult: queuePurgeResultSchema,
  Suppression: suppressionSchema,
  SuppressionPage: suppressionPageSchema,
  SuppressionRemoved: suppressionRemovedSchema,
  SuppressionAddRequest: suppressionAddRequestSchema,
  QueueEvent: queueEventSchema,
  ServerInfo: serverInfoSchema,
} as const;

export function queueComponents(): Record<string, object> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(components)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { io: 'output', uri: (id) => `#/components/schemas/${id}` });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _schema, $id: _id, ...schema }]) => [id, schema]),
  );
}

const json = (name: keyof typeof components) => ({
  'application/json': { schema: { $ref: `#/components/schemas/${name}` } },
});
const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});
const messageId = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const action = {
  name: 'action',
  in: 'path',
  required: true,
  schema: { type: 'string', enum: ['retry-now', 'hold', 'release', 'bounce', 'delete'] },
};
const actionResponses = {
  '200': { description: 'Applied (to at least one delivery)', content: json('QueueActionResult') },
  '404': error('No such delivery, message or action'),
  '409': {
    description: 'Refused by the state machine for every delivery',
    content: json('QueueActionResult'),
  },
};

export const queuePaths = {
  '/api/v1/queue': {
    get: {
      summary: 'Deliveries (one per message and recipient), oldest first, keyset paging',
      parameters: [
        {
          name: 'status',
          in: 'query',
          schema: { type: 'string', enum: ['queued', 'in-flight', 'held', 'delivered', 'failed', 'deleted'] },
        },
        { name: 'domain', in: 'query', schema: { type: 'string' } },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        { name: 'after', in: 'query', schema: { type: 'integer', minimum: 0 }, description: 'nextAfter' },
      ],
      responses: { '200': { description: 'A page', content: json('QueuePage') }, '400': error('Bad query') },
    },
  },
  '/api/v1/queue/events': {
    get: {
      summary:
        'Server-sent events of the delivery queue: queued, attempt-started, delivered, deferred, failed, held, released, retried, bounced, deleted, report-queued, purged. Each event is named by its type and has an id; its data is a QueueEvent. `ready` comes first, with `{"resumed": true}` when the request\'s Last-Event-ID let the stream replay the events missed since (the last 1,000 are kept), which follow it.',
      responses: {
        '200': {
          description: 'An event stream',
          content: { 'text/event-stream': { schema: { $ref: '#/components/schemas/QueueEvent' } } },
        },
      },
    },
  },
  '/api/v1/info': {
    get: {
      summary:
        'What this server is: its mode (capture | mta) and whether it receives inbound mail, which decide the APIs it serves',
      responses: { '200': { description: 'Server info', content: json('ServerInfo') } },
    },
  },
  '/api/v1/queue/summary': {
    get: {
      summary: 'Deliveries by status',
      responses: { '200': { description: 'Counts', content: json('QueueSummary') } },
    },
  },
  '/api/v1/queue/messages/{id}': {
    parameters: [messageId],
    get: {
      summary: "A message's deliveries with every attempt (time, MX host, TLS, reply, transcript)",
      responses: {
        '200': { description: 'The message', content: json('QueuedMessage') },
        '404': error('Not queued'),
      },
    },
  },
  '/api/v1/queue/messages/{id}/{action}': {
    parameters: [messageId, action],
    post: { summary: "An operator's action on every delivery of the message", responses: actionResponses },
  },
  '/api/v1/queue/actions/{action}': {
    parameters: [action],
    post: {
      summary:
        "An operator's action on every delivery a filter selects (status, domain, or all: true), e.g. retry-now for every queued delivery to one domain after its outage",
      requestBody: { required: true, content: json('BulkActionRequest') },
      responses: {
        '200': {
          description: 'Done: how many matched, changed, and why the rest were refused',
          content: json('BulkActionResult'),
        },
        '400': error('No filter (status, domain or all: true), or a bad one'),
        '404': error('No such action'),
        '415': error('The body is not application/json'),
      },
    },
  },
  '/api/v1/queue/purge': {
    post: {
      summary:
        'Delete every message the queue has finished with (each delivery delivered, failed or deleted), as mta.retention does on its timer; mail still queued, in flight or held stays. The inbox is told (message-deleted).',
      requestBody: { required: true, content: json('QueuePurgeRequest') },
      responses: {
        '200': { description: 'Purged', content: json('QueuePurgeResult') },
        '400': error('Bad request (olderThan is not a duration)'),
        '415': error('The body is not application/json'),
      },
    },
  },
  '/api/v1/queue/deliveries/{deliveryId}/{action}': {
    parameters: [{ name: 'deliveryId', in: 'path', required: true, schema: { type: 'integer' } }, action],
    post: { summary: "An operator's action on one delivery", responses: actionResponses },
  },
  '/api/v1/suppressions': {
    get: {
      summary: 'Recipients refused at RCPT after a permanent 5.1.x failure, newest first',
      parameters: [
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'nextCursor' },
      ],
      responses: {
        '200': { description: 'A page', content: json('SuppressionPage') },
        '400': error('Bad query'),
      },
    },
    post: {
      summary: 'Refuse mail to an address at RCPT (an operator entry; an existing entry is kept)',
      requestBody: { required: true, content: json('SuppressionAddRequest') },
      responses: {
        '201': { description: 'Added', content: json('Suppression') },
        '200': { description: 'Already suppressed: the existing entry', content: json('Suppression') },
        '400': error('Bad request'),
      },
    },
  },
  '/api/v1/suppressions/{address}': {
    parameters: [{ name: 'address', in: 'path', required: true, schema: { type: 'string' } }],
    delete: {
      summary: 'Accept mail to the address again',
      responses: {
        '200': { description: 'Removed', content: json('SuppressionRemoved') },
        '404': error('Not suppressed'),
      },
    },
  },
} as const;
