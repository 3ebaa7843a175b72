/** The REST API, described for humans and generators (served at /api/v1/openapi.json). */

const idParameter = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'Message id (as in the 250 reply)',
};
const json = (schema: object) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: '@smtp/app capture API',
    version: '1.0.0',
    description:
      'Messages captured by the SMTP listener. Lists are newest first with keyset pagination: pass `nextCursor` back as `cursor`.',
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
              'Words (prefix match, all must match) and filters: from:, to:, subject:, body:, is:read, is:unread, has:attachment. Quote phrases.',
          },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
          {
            name: 'cursor',
            in: 'query',
            schema: { type: 'string' },
            description: 'nextCursor of the previous page',
          },
        ],
        responses: {
          '200': { description: 'A page', content: json(ref('MessagePage')) },
          '400': errorResponse('Bad query'),
        },
      },
      delete: {
        summary: 'Delete every message',
        responses: {
          '200': {
            description: 'Deleted',
            content: json({ type: 'object', properties: { deleted: { type: 'integer' } } }),
          },
        },
      },
    },
    '/api/v1/messages/read': {
      post: {
        summary: 'Mark every message read',
        responses: {
          '200': {
            description: 'Updated',
            content: json({ type: 'object', properties: { updated: { type: 'integer' } } }),
          },
        },
      },
    },
    '/api/v1/messages/{id}': {
      parameters: [idParameter],
      get: {
        summary: 'One message with headers, envelope, session details and bodies; marks it read',
        parameters: [{ name: 'markRead', in: 'query', schema: { type: 'string', enum: ['true', 'false'] } }],
        responses: {
          '200': { description: 'The message', content: json(ref('Message')) },
          '404': errorResponse('No such message'),
        },
      },
      patch: {
        summary: 'Mark read or unread',
        requestBody: {
          required: true,
          content: json({
            type: 'object',
            required: ['isRead'],
            properties: { isRead: { type: 'boolean' } },
          }),
        },
        responses: {
          '200': { description: 'Updated' },
          '404': errorResponse('No such message'),
          '415': errorResponse('Not JSON'),
        },
      },
      delete: {
        summary: 'Delete one message',
        responses: { '204': { description: 'Deleted' }, '404': errorResponse('No such message') },
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
          '200': { description: 'Parts', content: json(ref('Parts')) },
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
          '200': {
            description: 'Attachments',
            content: json({
              type: 'object',
              properties: { attachments: { type: 'array', items: ref('Attachment') } },
            }),
          },
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
        summary: 'Relay the message unchanged to an SMTP server',
        requestBody: { required: true, content: json(ref('ReleaseRequest')) },
        responses: {
          '200': { description: 'The server accepted it', content: json(ref('ReleaseResult')) },
          '400': errorResponse('Bad request'),
          '403': errorResponse('Host not in release.allowedHosts'),
          '404': errorResponse('No such message'),
          '502': errorResponse('The SMTP server refused it or could not be reached'),
        },
      },
    },
    '/api/v1/events': {
      get: {
        summary:
          'Server-sent events: message-stored, message-updated, messages-read, message-deleted, messages-cleared',
        responses: {
          '200': {
            description: 'An event stream',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
        },
      },
    },
    '/healthz': { get: { summary: 'Liveness and store check', responses: { '200': { description: 'OK' } } } },
    '/metrics': {
      get: { summary: 'Prometheus metrics', responses: { '200': { description: 'Text exposition format' } } },
    },
  },
  components: {
    schemas: {
      Error: { type: 'object', required: ['error'], properties: { error: { type: 'string' } } },
      Address: { type: 'object', properties: { name: { type: 'string' }, address: { type: 'string' } } },
      Attachment: {
        type: 'object',
        properties: {
          index: { type: 'integer' },
          filename: { type: ['string', 'null'] },
          contentType: { type: 'string' },
          disposition: { type: ['string', 'null'], enum: ['attachment', 'inline', null] },
          contentId: { type: ['string', 'null'] },
          sizeBytes: { type: 'integer' },
        },
      },
      MessageSummary: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          receivedAtMs: { type: 'integer' },
          subject: { type: 'string' },
          from: { oneOf: [ref('Address'), { type: 'null' }] },
          to: { type: 'array', items: ref('Address') },
          envelopeFrom: { type: 'string' },
          envelopeTo: { type: 'array', items: { type: 'string' } },
          sizeBytes: { type: 'integer' },
          isRead: { type: 'boolean' },
          attachmentCount: { type: 'integer' },
          snippet: { type: 'string' },
          isParsed: {
            type: 'boolean',
            description:
              'false while the message is committed but not parsed yet (just after its 250): subject, addresses, snippet and attachments are empty and it is not searchable. Reads wait up to 2 s for pending parses first.',
          },
        },
      },
      MessagePage: {
        type: 'object',
        properties: {
          messages: { type: 'array', items: ref('MessageSummary') },
          nextCursor: { type: ['string', 'null'] },
          total: { type: 'integer' },
          isTotalCapped: { type: 'boolean' },
          unread: { type: 'integer' },
          count: { type: 'integer' },
        },
      },
      Message: {
        allOf: [
          ref('MessageSummary'),
          {
            type: 'object',
            properties: {
              envelope: {
                type: 'object',
                properties: {
                  from: { type: 'string' },
                  to: { type: 'array', items: { type: 'string' } },
                  mailParameters: { type: 'object', additionalProperties: { type: 'string' } },
                },
              },
              session: {
                type: ['object', 'null'],
                properties: {
                  remoteAddress: { type: 'string' },
                  remotePort: { type: 'integer' },
                  localAddress: { type: 'string' },
                  localPort: { type: 'integer' },
                  helo: { type: 'string' },
                  protocol: { type: 'string' },
                  tls: { type: ['object', 'null'] },
                  authenticatedUser: { type: ['string', 'null'] },
                },
              },
              cc: { type: 'array', items: ref('Address') },
              bcc: { type: 'array', items: ref('Address') },
              replyTo: { type: 'array', items: ref('Address') },
              messageIdHeader: { type: ['string', 'null'] },
              dateHeaderMs: { type: ['integer', 'null'] },
              headers: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { name: { type: 'string' }, value: { type: 'string' } },
                },
              },
              text: { type: ['string', 'null'] },
              html: { type: ['string', 'null'] },
              hasRemoteContent: { type: 'boolean' },
              attachments: { type: 'array', items: ref('Attachment') },
            },
          },
        ],
      },
      Parts: {
        type: 'object',
        properties: {
          text: { type: ['string', 'null'] },
          html: { type: ['string', 'null'] },
          hasRemoteContent: { type: 'boolean' },
          attachments: { type: 'array', items: ref('Attachment') },
        },
      },
      ReleaseRequest: {
        type: 'object',
        required: ['host'],
        properties: {
          host: { type: 'string' },
          port: { type: 'integer', default: 25 },
          security: {
            type: 'string',
            enum: ['none', 'opportunistic', 'starttls', 'tls'],
            default: 'opportunistic',
          },
          allowInvalidCertificate: { type: 'boolean', default: false },
          username: { type: 'string' },
          password: { type: 'string' },
          from: { type: 'string', description: 'Envelope sender; default: the captured one' },
          to: {
            type: 'array',
            items: { type: 'string' },
            description: 'Recipients; default: the captured envelope',
          },
          timeoutMs: { type: 'integer', default: 30000 },
        },
      },
      ReleaseResult: {
        type: 'object',
        properties: {
          accepted: { type: 'array', items: { type: 'string' } },
          rejected: {
            type: 'array',
            items: { type: 'object', properties: { to: { type: 'string' }, reply: { type: 'string' } } },
          },
          reply: { type: 'string' },
        },
      },
    },
  },
} as const;
