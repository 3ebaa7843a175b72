import { z } from 'zod';
import {
  inboundDeliverySchema,
  inboundMessageSchema,
  inboundPageSchema,
  inboundSummarySchema,
} from './schemas/inbound-schemas.js';

/** The inbound view's part of the OpenAPI document (openapi-document.ts spreads it in). */
const components = {
  InboundSummary: inboundSummarySchema,
  InboundDelivery: inboundDeliverySchema,
  InboundMessage: inboundMessageSchema,
  InboundPage: inboundPageSchema,
} as const;

export function inboundComponents(): Record<string, object> {
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

export const inboundPaths = {
  '/api/v1/inbound': {
    get: {
      summary: 'Messages the MX (mx listeners) received, newest first, keyset paging',
      parameters: [
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'nextCursor' },
      ],
      responses: {
        '200': { description: 'A page', content: json('InboundPage') },
        '400': error('Bad query'),
      },
    },
  },
  '/api/v1/inbound/{id}': {
    parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
    get: {
      summary:
        'One received message: envelope, client, check results, what each recipient expanded to, and per delivery where it went (Maildir file, LMTP server, forward) and how it ended',
      responses: {
        '200': { description: 'The message', content: json('InboundMessage') },
        '404': error('Not received by an mx listener'),
      },
    },
  },
} as const;
