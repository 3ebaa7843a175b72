/** Types and calls of the REST API, as the UI uses them (the server's OpenAPI document has the rest). */

export interface Address {
  readonly name: string;
  readonly address: string;
}

export interface MessageSummary {
  readonly id: string;
  readonly receivedAtMs: number;
  readonly subject: string;
  readonly from: Address | null;
  readonly to: readonly Address[];
  readonly envelopeFrom: string;
  readonly envelopeTo: readonly string[];
  readonly sizeBytes: number;
  readonly isRead: boolean;
  readonly attachmentCount: number;
  readonly snippet: string;
  /** false for a moment after the 250, until the server has parsed the message. */
  readonly isParsed: boolean;
}

export interface Attachment {
  readonly index: number;
  readonly filename: string | null;
  readonly contentType: string;
  readonly disposition: string | null;
  readonly contentId: string | null;
  readonly sizeBytes: number;
}

export interface Message extends MessageSummary {
  readonly envelope: {
    readonly from: string;
    readonly to: readonly string[];
    readonly mailParameters: Record<string, string>;
  };
  readonly session: {
    readonly remoteAddress: string;
    readonly remotePort: number;
    readonly localAddress: string;
    readonly localPort: number;
    readonly helo: string;
    readonly protocol: string;
    readonly tls: { readonly protocol: string; readonly cipher: string } | null;
    readonly authenticatedUser: string | null;
  } | null;
  readonly cc: readonly Address[];
  readonly replyTo: readonly Address[];
  readonly messageIdHeader: string | null;
  readonly dateHeaderMs: number | null;
  readonly headers: readonly { readonly name: string; readonly value: string }[];
  readonly text: string | null;
  readonly html: string | null;
  readonly hasRemoteContent: boolean;
  readonly attachments: readonly Attachment[];
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
