import type { AttachmentMetadata, MessageAddress, MessageSummary, StoredMessage } from '../store/store.js';

/** Types and calls of the REST API, as the UI uses them (the server's OpenAPI document has the rest). */

// The wire types are the server's own (type-only imports: nothing from the server is bundled).
export type { MessageSummary };
export type Address = MessageAddress;
export type Attachment = AttachmentMetadata;

/** GET /messages/{id}: the stored message, and whether its HTML would load remote content. */
export interface Message extends StoredMessage {
  readonly hasRemoteContent: boolean;
}

export interface MessagePage {
  readonly messages: readonly MessageSummary[];
  readonly nextCursor: string | null;
  readonly total: number;
  readonly isTotalCapped: boolean;
  readonly unread: number;
  readonly count: number;
}

export interface ReleaseRequest {
  readonly host: string;
  readonly port: number;
  readonly security: 'none' | 'opportunistic' | 'starttls' | 'tls';
  readonly allowInvalidCertificate: boolean;
  readonly username?: string;
  readonly password?: string;
  readonly to: readonly string[];
  readonly from?: string;
}

export interface ReleaseResult {
  readonly accepted: readonly string[];
  readonly rejected: readonly { readonly to: string; readonly reply: string }[];
  readonly reply: string;
}

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
  raw: async (id: string): Promise<string> => {
    const response = await fetch(`${messageUrl(id)}/raw`);
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    return response.text();
  },
  setRead: (id: string, isRead: boolean): Promise<unknown> =>
    call(messageUrl(id), jsonInit('PATCH', { isRead })),
  markAllRead: (): Promise<unknown> => call('/api/v1/messages/read', { method: 'POST' }),
  delete: (id: string): Promise<unknown> => call(messageUrl(id), { method: 'DELETE' }),
  deleteAll: (): Promise<unknown> => call('/api/v1/messages', { method: 'DELETE' }),
  release: (id: string, request: ReleaseRequest): Promise<ReleaseResult> =>
    call(`${messageUrl(id)}/release`, jsonInit('POST', request)),
};
