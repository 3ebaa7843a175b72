import { z } from 'zod';
import { chaosSettingsWireSchema } from './schemas/chaos-schemas.js';
import {
  checkFindingSchema,
  htmlCheckSchema,
  linkCheckSchema,
  listUnsubscribeReportSchema,
} from './schemas/check-schemas.js';
import {
  messageTagsSchema,
  tagChangeResultSchema,
  tagListSchema,
  tagRenameSchema,
  tagsUpdateSchema,
} from './schemas/tag-schemas.js';

/** Tags, chaos and message checks in the OpenAPI document (openapi-document.ts spreads them in). */
const responseComponents = {
  MessageTags: messageTagsSchema,
  TagList: tagListSchema,
  TagChangeResult: tagChangeResultSchema,
  ChaosSettings: chaosSettingsWireSchema,
  CheckFinding: checkFindingSchema,
  ListUnsubscribeReport: listUnsubscribeReportSchema,
  HtmlCheck: htmlCheckSchema,
  LinkCheck: linkCheckSchema,
} as const;
const requestComponents = {
  TagsUpdate: tagsUpdateSchema,
  TagRename: tagRenameSchema,
  ChaosSettingsUpdate: chaosSettingsWireSchema,
} as const;
type ComponentName = keyof typeof responseComponents | keyof typeof requestComponents;

function generate(
  schemas: Readonly<Record<string, z.ZodType>>,
  io: 'input' | 'output',
): Record<string, object> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const { schemas: generated } = z.toJSONSchema(registry, { io, uri: (id) => `#/components/schemas/${id}` });
  return Object.fromEntries(
    Object.entries(generated).map(([id, { $schema: _schema, $id: _id, ...schema }]) => [id, schema]),
  );
}

export function captureComponents(): Record<string, object> {
  return { ...generate(responseComponents, 'output'), ...generate(requestComponents, 'input') };
}

const json = (name: ComponentName) => ({
  'application/json': { schema: { $ref: `#/components/schemas/${name}` } },
});
const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});
const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const tagParameter = {
  name: 'name',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'The tag (ASCII case ignored)',
};
const changeErrors = {
  '403': error('Cross-origin request'),
  '415': error('The body is not application/json'),
  '421': error('The Host header does not name this server'),
} as const;

export const capturePaths = {
  '/api/v1/messages/{id}/tags': {
    parameters: [idParameter],
    put: {
      summary: "Replace the message's tags ([] removes all); announced as a message-tagged event",
      requestBody: { required: true, content: json('TagsUpdate') },
      responses: {
        '200': { description: 'The tags as stored (normalized, sorted)', content: json('MessageTags') },
        '400': error('Bad request'),
        '404': error('No such message'),
        ...changeErrors,
      },
    },
  },
  '/api/v1/tags': {
    get: {
      summary: 'Every tag in use, with its message count',
      responses: { '200': { description: 'The tags', content: json('TagList') } },
    },
  },
  '/api/v1/tags/{name}': {
    parameters: [tagParameter],
    put: {
      summary: 'Rename a tag on every message (merging into an existing tag); announced as tags-changed',
      requestBody: { required: true, content: json('TagRename') },
      responses: {
        '200': { description: 'Renamed', content: json('TagChangeResult') },
        '400': error('Bad request'),
        '404': error('No such tag'),
        ...changeErrors,
      },
    },
    delete: {
      summary: 'Remove a tag from every message; announced as tags-changed',
      responses: {
        '200': { description: 'Removed', content: json('TagChangeResult') },
        '404': error('No such tag'),
        ...changeErrors,
      },
    },
  },
  '/api/v1/chaos': {
    get: {
      summary: 'The SMTP faults injected per stage (connect, helo, auth, mail, rcpt, data); {} when off',
      responses: { '200': { description: 'The chaos settings', content: json('ChaosSettings') } },
    },
    put: {
      summary:
        'Replace the chaos settings: per stage a reply code (4xx/5xx) with enhanced status and text, a probability (0-100 %) and a delay; {} switches chaos off',
      requestBody: { required: true, content: json('ChaosSettingsUpdate') },
      responses: {
        '200': { description: 'The settings now in force', content: json('ChaosSettings') },
        '400': error('Bad settings'),
        ...changeErrors,
      },
    },
  },
  '/api/v1/messages/{id}/list-unsubscribe': {
    parameters: [idParameter],
    get: {
      summary:
        'Check List-Unsubscribe (RFC 2369 syntax), one-click unsubscription (RFC 8058: List-Unsubscribe-Post with an https URI) and DKIM h= coverage',
      responses: {
        '200': { description: 'The report', content: json('ListUnsubscribeReport') },
        '404': error('No such message'),
      },
    },
  },
  '/api/v1/messages/{id}/html-check': {
    parameters: [idParameter],
    get: {
      summary:
        'HTML and CSS features the HTML body uses that mail clients do not (fully) support (caniemail.com data), with a score',
      responses: {
        '200': { description: 'The report', content: json('HtmlCheck') },
        '404': error('No such message'),
      },
    },
  },
  '/api/v1/messages/{id}/link-check': {
    parameters: [idParameter],
    get: {
      summary:
        'Every http(s) link and image URL in the HTML and text. Fetched (HEAD, else GET; redirects followed up to linkCheck.maxRedirects) only with follow=true; private, loopback and link-local addresses are refused unless linkCheck.allowPrivateAddresses',
      parameters: [{ name: 'follow', in: 'query', schema: { type: 'string', enum: ['true'] } }],
      responses: {
        '200': { description: 'The links, with their status when followed', content: json('LinkCheck') },
        '404': error('No such message'),
      },
    },
  },
} as const;
