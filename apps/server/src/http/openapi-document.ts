import { z } from 'zod';
import { captureComponents, capturePaths } from './capture-openapi.js';
import { inboundComponents, inboundPaths } from './inbound-openapi.js';
import { queueComponents, queuePaths } from './queue-openapi.js';
import {
  addressSchema,
  attachmentListSchema,
  attachmentSchema,
  deleteAllResultSchema,
  errorSchema,
  mailboxEventSchema,
  markAllReadRequestSchema,
  markAllReadResultSchema,
  messagePageSchema,
  messagePartsSchema,
  messageSchema,
  messageSummarySchema,
  readFlagSchema,
  readFlagUpdateSchema,
  releaseRequestSchema,
  releaseResultSchema,
  sendRequestSchema,
  sendResultSchema,
  smtpListenersSchema,
} from './schemas/index.js';

/**
 * The REST API, described for humans and generators (served at /api/v1/openapi.json). The schemas
 * are generated from the zod wire contract (http/schemas/) with zod 4's own JSON Schema output
 * (draft 2020-12, which OpenAPI 3.1 uses); only the paths are written here.
 */

/** Named schemas: responses as the server writes them (output), request bodies as clients send them (input). */
const responseComponents = {
  Error: errorSchema,
  Address: addressSchema,
  Attachment: attachmentSchema,
  AttachmentList: attachmentListSchema,
  MessageSummary: messageSummarySchema,
  MessagePage: messagePageSchema,
  Message: messageSchema,
  Parts: messagePartsSchema,
  ReadFlag: readFlagSchema,
  MarkAllReadResult: markAllReadResultSchema,
  DeleteAllResult: deleteAllResultSchema,
  ReleaseResult: releaseResultSchema,
  MailboxEvent: mailboxEventSchema,
  SmtpListeners: smtpListenersSchema,
  SendResult: sendResultSchema,
} as const;
const requestComponents = {
  MarkAllReadRequest: markAllReadRequestSchema,
  ReadFlagUpdate: readFlagUpdateSchema,
  ReleaseRequest: releaseRequestSchema,
  SendRequest: sendRequestSchema,
} as const;

type ComponentName = keyof typeof responseComponents | keyof typeof requestComponents;

function componentsOf(
  schemas: Readonly<Record<string, z.ZodType>>,
  io: 'input' | 'output',
): Record<string, object> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const { schemas: generated } = z.toJSONSchema(registry, {
    io,
    uri: (id) => `#/components/schemas/${id}`,
  });
  // Each would carry its own $schema and $id; in an OpenAPI 3.1 document the components share the document's.
  return Object.fromEntries(
    Object.entries(generated).map(([id, { $schema: _schema, $id: _id, ...schema }]) => [id, schema]),
  );
}

const idParameter = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'Message id (as in the 250 reply)',
};
const ref = (name: ComponentName) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: ComponentName) => ({ 'application/json': { schema: ref(name) } });
const errorResponse = (description: string) => ({ description, content: json('Error') });
/** What the request guard (request-guard.ts) answers before any route. */
const misdirected = errorResponse('The Host header does not name this server (http.allowedHosts)');
const guardedChange = {
  '403': errorResponse('Cross-origin request (Origin or Sec-Fetch-Site names another site)'),
  '421': misdirected,
} as const;
const guardedBody = { ...guardedChange, '415': errorResponse('The body is not application/json') } as const;

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: '@smtp/app capture API',
    version: '1.0.0',
    description:
      'Messages captured by the SMTP listener. Lists are newest first with keyset pagination: pass `nextCursor` back as `cursor`. ' +
      'Every request must carry a Host naming this server (else 421); state changes from another origin get 403, and request bodies must be application/json (else 415).',
  },
  paths: {
    '/api/v1/messages': {
      get: {
        summary: 'List or search messages',
        parameters: [
          {
            name: 'search',
            in: 'query',
            schema: { type: 'string' },
            description:
              'Words (prefix match, all must match; -word excludes) and filters: from:, to:, subject:, body:, cc:, header:Name[:value], filename:, larger:/smaller: (e.g. 100k, 2M), after:/before: (YYYY-MM-DD, UTC), tag: (and -tag:), is:read, is:unread, has:attachment. Quote phrases.',
          },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
          {
            name: 'cursor',
            in: 'query',
            schema: { type: 'string' },
            description: 'nextCursor of the previous page',
          },
          {
            name: 'wait',
            in: 'query',
            schema: { type: 'string', examples: ['10s', '500ms'] },
            description:
              'Long poll: when no message matches yet, wait up to this long (at most 5m) for one to arrive and answer as soon as it is listed; at the timeout, the empty page. Lets tests wait for a message without polling.',
          },
        ],
        responses: {
          '200': { description: 'A page', content: json('MessagePage') },
          '400': errorResponse('Bad query'),
          '421': misdirected,
        },
      },
      delete: {
        summary: 'Delete every message',
        responses: {
          '200': { description: 'Deleted', content: json('DeleteAllResult') },
          '409': errorResponse(
            'MTA mode: deliveries are still queued, in flight or held; nothing was deleted',
          ),
          ...guardedChange,
        },
      },
    },
    '/api/v1/messages/read': {
      post: {
        summary: 'Mark every message read',
        requestBody: { required: true, content: json('MarkAllReadRequest') },
        responses: {
          '200': { description: 'Updated', content: json('MarkAllReadResult') },
          '400': errorResponse('Bad request'),
          ...guardedBody,
        },
      },
    },
    '/api/v1/messages/{id}': {
      parameters: [idParameter],
      get: {
        summary:
          'One message with headers, envelope, session details and bodies (reading changes nothing: PATCH marks it read)',
        responses: {
          '200': { description: 'The message', content: json('Message') },
          '404': errorResponse('No such message'),
          '421': misdirected,
        },
      },
      patch: {
        summary: 'Mark read or unread',
        requestBody: { required: true, content: json('ReadFlagUpdate') },
        responses: {
          '200': { description: 'Updated', content: json('ReadFlag') },
          '400': errorResponse('Bad request'),
          '404': errorResponse('No such message'),
          ...guardedBody,
        },
      },
      delete: {
        summary: 'Delete one message',
        responses: {
          '204': { description: 'Deleted' },
          '404': errorResponse('No such message'),
          '409': errorResponse('MTA mode: the message still has deliveries queued, in flight or held'),
          ...guardedChange,
        },
      },
    },
    '/api/v1/messages/{id}/raw': {
      parameters: [idParameter],
      get: {
        summary: 'The message exactly as received (after SMTP dot-unstuffing)',
        parameters: [
          {
            name: 'download',
            in: 'query',
            schema: { type: 'string' },
            description: 'Present: message/rfc822 as a .eml download',
          },
        ],
        responses: {
          '200': {
            description: 'Raw bytes',
            content: {
              'text/plain': { schema: { type: 'string' } },
              'message/rfc822': { schema: { type: 'string', format: 'binary' } },
            },
          },
          '404': errorResponse('No such message'),
        },
      },
    },
    '/api/v1/messages/{id}/parts': {
      parameters: [idParameter],
      get: {
        summary: 'Parsed text and HTML bodies and attachment metadata',
        responses: {
          '200': { description: 'Parts', content: json('Parts') },
          '404': errorResponse('No such message'),
        },
      },
    },
    '/api/v1/messages/{id}/html': {
      parameters: [idParameter],
      get: {
        summary: 'HTML preview for a sandboxed iframe (CSP sandbox; remote content blocked unless remote=1)',
        parameters: [{ name: 'remote', in: 'query', schema: { type: 'string', enum: ['1'] } }],
        responses: {
          '200': { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } },
          '404': errorResponse('No such message'),
        },
      },
    },
    '/api/v1/messages/{id}/attachments': {
      parameters: [idParameter],
      get: {
        summary: 'Attachment metadata',
        responses: {
          '200': { description: 'Attachments', content: json('AttachmentList') },
          '404': errorResponse('No such message'),
        },
      },
    },
    '/api/v1/messages/{id}/attachments/{index}': {
      parameters: [
        idParameter,
        { name: 'index', in: 'path', required: true, schema: { type: 'integer', minimum: 0 } },
      ],
      get: {
        summary: 'Download one attachment (inline=1 shows raster images inline)',
        parameters: [{ name: 'inline', in: 'query', schema: { type: 'string', enum: ['1'] } }],
        responses: {
          '200': {
            description: 'Bytes',
            content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
          },
          '404': errorResponse('No such attachment'),
        },
      },
    },
    '/api/v1/messages/{id}/release': {
      parameters: [idParameter],
      post: {
        summary:
          'Relay the message unchanged to an SMTP server (without host: to the configured relay, within relay.allowedRecipients)',
        requestBody: { required: true, content: json('ReleaseRequest') },
        responses: {
          '200': { description: 'The server accepted it', content: json('ReleaseResult') },
          '400': errorResponse('Bad request'),
          '404': errorResponse('No such message'),
          ...guardedBody,
          '403': errorResponse('Host not in release.allowedHosts, or a cross-origin request'),
          '502': errorResponse('The SMTP server refused it or could not be reached'),
        },
      },
    },
    '/api/v1/events': {
      get: {
        summary:
          'Server-sent events: message-stored, message-updated, messages-read, message-tagged, tags-changed, message-deleted, messages-cleared. Each event is named by its type; its data is a MailboxEvent.',
        responses: {
          '200': {
            description: 'An event stream',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
        },
      },
    },
    '/api/v1/send': {
      post: {
        summary:
          'Compose a message from JSON (text, HTML, attachments, headers) and store it in this inbox as if it came over SMTP',
        requestBody: { required: true, content: json('SendRequest') },
        responses: {
          '200': { description: 'Stored', content: json('SendResult') },
          ...guardedBody,
        },
      },
    },
    '/api/v1/listeners': {
      get: {
        summary: 'Where this server takes mail (SMTP and SMTPS listen addresses)',
        responses: { '200': { description: 'The listeners', content: json('SmtpListeners') } },
      },
    },
    ...capturePaths,
    ...queuePaths,
    ...inboundPaths,
    '/healthz': { get: { summary: 'Liveness and store check', responses: { '200': { description: 'OK' } } } },
    '/metrics': {
      get: { summary: 'Prometheus metrics', responses: { '200': { description: 'Text exposition format' } } },
    },
  },
  components: {
    schemas: {
      ...componentsOf(responseComponents, 'output'),
      ...componentsOf(requestComponents, 'input'),
      ...captureComponents(),
      ...queueComponents(),
      ...inboundComponents(),
    },
  },
};
