import type {
  Address,
  Attachment,
  HtmlCheckWire,
  ListUnsubscribeReportWire,
  Message,
  MessagePage,
  MessageSummary,
  ReleaseRequest,
  ReleaseResult,
  SmtpListeners,
} from '../http/schemas/index.js';

/**
 * Calls of the REST API, as the UI uses them. The types are inferred from the server's wire
 * contract (http/schemas, zod), imported as types only: nothing of the server, zod included, is
 * bundled.
 */
export type {
  Address,
  Attachment,
  Message,
  MessagePage,
  MessageSummary,
  ReleaseRequest,
  ReleaseResult,
  SmtpListeners,
};

export const messageUrl = (id: string) => `/api/v1/messages/${encodeURIComponent(id)}`;

async function call<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: string } | null;
    throw new Error(body?.error ?? `${response.status} ${response.statusText}`);
  }
  return (response.status === 204 ? null : await response.json()) as T;
}

const jsonInit = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

export const api = {
  list(search: string, cursor: string | null, limit = 50): Promise<MessagePage> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (search !== '') query.set('search', search);
    if (cursor !== null) query.set('cursor', cursor);
    return call(`/api/v1/messages?${query}`);
  },
  get: (id: string): Promise<Message> => call(messageUrl(id)),
  smtpListeners: (): Promise<SmtpListeners> => call('/api/v1/listeners'),
  raw: async (id: string): Promise<string> => {
    const response = await fetch(`${messageUrl(id)}/raw`);
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    return response.text();
  },
  setRead: (id: string, isRead: boolean): Promise<unknown> =>
    call(messageUrl(id), jsonInit('PATCH', { isRead })),
  markAllRead: (): Promise<unknown> => call('/api/v1/messages/read', jsonInit('POST', {})),
  delete: (id: string): Promise<unknown> => call(messageUrl(id), { method: 'DELETE' }),
  deleteAll: (): Promise<unknown> => call('/api/v1/messages', { method: 'DELETE' }),
  listUnsubscribe: (id: string): Promise<ListUnsubscribeReportWire> =>
    call(`${messageUrl(id)}/list-unsubscribe`),
  htmlCheck: (id: string): Promise<HtmlCheckWire> => call(`${messageUrl(id)}/html-check`),
  setTags: (id: string, tags: readonly string[]): Promise<{ id: string; tags: string[] }> =>
    call(`${messageUrl(id)}/tags`, jsonInit('PUT', { tags })),
  release: (id: string, request: ReleaseRequest): Promise<ReleaseResult> =>
    call(`${messageUrl(id)}/release`, jsonInit('POST', request)),
};
