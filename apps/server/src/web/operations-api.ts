import type {
  InboundDelivery,
  InboundMessage,
  InboundPage,
  InboundSummary,
} from '../http/schemas/inbound-schemas.js';
import type { QueueEvent } from '../http/schemas/queue-event-schema.js';
import type {
  BulkActionResult,
  DeliveryAttempt,
  QueueAction,
  QueueActionResult,
  QueuedDelivery,
  QueuedMessage,
  QueuePage,
  QueuePurgeResult,
  QueueStatus,
} from '../http/schemas/queue-schemas.js';
import type { ServerInfo } from '../http/schemas/server-info-schema.js';
import type {
  Suppression,
  SuppressionAddRequest,
  SuppressionPage,
} from '../http/schemas/suppression-schemas.js';

/**
 * Calls of the MTA's operations API (queue, suppressions, inbound, server info), as the
 * Queue, Suppressions and Inbound pages use them. Types only from the wire contract, as in api.ts.
 */
export type {
  DeliveryAttempt,
  InboundDelivery,
  InboundMessage,
  InboundPage,
  InboundSummary,
  QueueAction,
  QueueActionResult,
  QueuedDelivery,
  QueuedMessage,
  QueueEvent,
  QueuePage,
  QueueStatus,
  ServerInfo,
  Suppression,
  SuppressionPage,
};

/** An answer the API refused: its status and what it said. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

async function call<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  const body = (await response.json().catch(() => null)) as unknown;
  if (!response.ok) {
    const error = (body as { error?: string } | null)?.error;
    throw new ApiError(response.status, error ?? `${response.status} ${response.statusText}`, body);
  }
  return body as T;
}

const queueMessageUrl = (id: string) => `/api/v1/queue/messages/${encodeURIComponent(id)}`;

export const operationsApi = {
  info: (): Promise<ServerInfo> => call('/api/v1/info'),
  inbound(cursor: string | null, limit = 100): Promise<InboundPage> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor !== null) query.set('cursor', cursor);
    return call(`/api/v1/inbound?${query}`);
  },
  inboundMessage: (id: string): Promise<InboundMessage> => call(`/api/v1/inbound/${encodeURIComponent(id)}`),
  queue(
    filter: { readonly status: QueueStatus | null; readonly domain: string },
    after: number | null,
    limit = 200,
  ): Promise<QueuePage> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (filter.status !== null) query.set('status', filter.status);
    if (filter.domain !== '') query.set('domain', filter.domain);
    if (after !== null) query.set('after', String(after));
    return call(`/api/v1/queue?${query}`);
  },
  queuedMessage: (id: string): Promise<QueuedMessage> => call(queueMessageUrl(id)),
  /** An action on every delivery the filter selects (POST /api/v1/queue/actions/{action}). */
  actOnAll: (
    filter: { readonly status?: QueueStatus; readonly domain?: string },
    action: QueueAction,
  ): Promise<BulkActionResult> =>
    call(`/api/v1/queue/actions/${action}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(filter),
    }),
  /** Deletes every message the queue has finished with (all its deliveries delivered, failed or deleted). */
  purgeFinished: (): Promise<QueuePurgeResult> =>
    call('/api/v1/queue/purge', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    }),
  /** A refusal by the state machine (409) is an answer too: every result says why. */
  async act(target: { messageId: string } | { deliveryId: number }, action: QueueAction) {
    const url =
      'messageId' in target
        ? `${queueMessageUrl(target.messageId)}/${action}`
        : `/api/v1/queue/deliveries/${target.deliveryId}/${action}`;
    try {
      return await call<QueueActionResult>(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      });
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 409) return caught.body as QueueActionResult;
      throw caught;
    }
  },
  suppressions(cursor: string | null, limit = 100): Promise<SuppressionPage> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor !== null) query.set('cursor', cursor);
    return call(`/api/v1/suppressions?${query}`);
  },
  addSuppression: (request: SuppressionAddRequest): Promise<Suppression> =>
    call('/api/v1/suppressions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(request),
    }),
  removeSuppression: (address: string): Promise<unknown> =>
    call(`/api/v1/suppressions/${encodeURIComponent(address)}`, { method: 'DELETE' }),
};
