import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { MailboxEvent } from '../capture/mailbox-event.js';
import type { MessageSummary } from '../capture/mailbox-index.js';
import type { EventBus } from '../events/event-bus.js';
import { InProcessEventBus } from '../events/in-process-event-bus.js';
import { ChannelListener } from './channel-listener.js';

/** The channel mailbox events are announced on between capture nodes (NOTIFY smtp_mailbox). */
export const mailboxChannel = 'smtp_mailbox';

/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more. */
const maxPayloadBytes = 7900;
/** Ids per announcement of deleted messages (26 characters each): well under the payload limit. */
const idsPerAnnouncement = 150;
/** After a lost LISTEN connection, messages received this long before the loss are announced again. */
const catchUpMarginMs = 5000;
const catchUpLimit = 1000;

/**
 * One NOTIFY payload: an event of node `node`, or a stored or tagged message whose event is too
 * large to carry (its id: the receiver reads the rest).
 */
type Announcement = { readonly node: string } & (
  | { readonly event: MailboxEvent }
  | { readonly storedId: string }
  | { readonly taggedId: string }
);

export interface SharedMailboxEventsOptions {
  readonly url: string;
  readonly pool: pg.Pool;
  /** This node's bus: what happened here (the pipeline, retention and the routes publish there). */
  readonly local: EventBus<MailboxEvent>;
  /** Reads back what an announcement names only by id, and what a lost connection missed. */
  readonly mailbox: {
    getSummary(id: string): Promise<MessageSummary | null>;
    listReceivedSince(sinceMs: number, limit: number): Promise<readonly MessageSummary[]>;
  };
  /** A NOTIFY or the LISTEN connection failed (logged; the connection is reopened). */
  readonly onError: (error: Error, context: string) => void;
  readonly reconnectMs?: number;
}

/**
 * The mailbox events every capture node's web UI sees: this node's own, at once, and every other
 * node's, through NOTIFY/LISTEN on PostgreSQL. The local bus stays this node's alone (webhooks read
 * it, so a message fires its webhook once, on the node that took it); this bus is the inbox's view
 * (the SSE stream, `?wait=` long polls). Publishing here publishes on the local bus.
 *
 * Announcements are sent in order, gathered into one NOTIFY statement while one is on its way.
 * They are best effort: one made while the database is unreachable is lost. A lost LISTEN
 * connection is reopened, and the messages stored meanwhile are announced then (deletes and read
 * marks made meanwhile show on the next reload).
 */
export class SharedMailboxEvents implements EventBus<MailboxEvent> {
  readonly #options: SharedMailboxEventsOptions;
  readonly #node = randomUUID();
  readonly #seen = new InProcessEventBus<MailboxEvent>();
  readonly #listener: ChannelListener;
  readonly #unsubscribeLocal: () => void;
  #outgoing: string[] = [];
  #sending: Promise<void> | null = null;
  /** Incoming announcements are handled one after the other, so their order holds. */
  #incoming: Promise<void> = Promise.resolve();

  constructor(options: SharedMailboxEventsOptions) {
    this.#options = options;
    this.#listener = new ChannelListener({
      url: options.url,
      channel: mailboxChannel,
      onNotification: (payload) => this.#received(payload),
      onReconnected: (lostAtMs) => this.#catchUp(lostAtMs),
      onError: (error) => options.onError(error, 'listen'),
      ...(options.reconnectMs === undefined ? {} : { reconnectMs: options.reconnectMs }),
    });
    this.#unsubscribeLocal = options.local.subscribe((event) => {
      this.#seen.publish(event);
      this.#announce(event);
    });
  }

  /** Resolves once listening; rejects when the database cannot be reached. */
  start(): Promise<void> {
    return this.#listener.start();
  }

  publish(event: MailboxEvent): void {
    this.#options.local.publish(event);
  }

  subscribe(listener: (event: MailboxEvent) => void): () => void {
    return this.#seen.subscribe(listener);
  }

  /** Stops listening once the announcements on their way are sent. */
  async close(): Promise<void> {
    this.#unsubscribeLocal();
    await this.#sending;
    await this.#listener.close();
    await this.#incoming;
  }

  #announce(event: MailboxEvent): void {
    for (const announcement of announcementsOf(this.#node, event))
      this.#outgoing.push(JSON.stringify(announcement));
    this.#sending ??= this.#send();
  }

  async #send(): Promise<void> {
    while (this.#outgoing.length > 0) {
      const payloads = this.#outgoing;
      this.#outgoing = [];
      try {
        // One statement, one transaction: its notifications arrive in this order.
        await this.#options.pool.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', [
          mailboxChannel,
          payloads,
        ]);
      } catch (error) {
        this.#options.onError(error as Error, 'notify');
      }
    }
    this.#sending = null;
  }

  #received(payload: string): void {
    const announcement = parseAnnouncement(payload);
    if (announcement === null || announcement.node === this.#node) return;
    this.#incoming = this.#incoming.then(async () => {
      try {
        if ('event' in announcement) {
          this.#seen.publish(announcement.event);
          return;
        }
        if ('taggedId' in announcement) {
          const message = await this.#options.mailbox.getSummary(announcement.taggedId);
          if (message !== null)
            this.#seen.publish({ type: 'message-tagged', id: message.id, tags: message.tags });
          return;
        }
        const message = await this.#options.mailbox.getSummary(announcement.storedId);
        if (message !== null) this.#seen.publish({ type: 'message-stored', message });
      } catch (error) {
        this.#options.onError(error as Error, 'announcement');
      }
    });
  }

  #catchUp(lostAtMs: number): void {
    this.#incoming = this.#incoming.then(async () => {
      try {
        const missed = await this.#options.mailbox.listReceivedSince(
          lostAtMs - catchUpMarginMs,
          catchUpLimit,
        );
        for (const message of missed) this.#seen.publish({ type: 'message-stored', message });
      } catch (error) {
        this.#options.onError(error as Error, 'catch-up');
      }
    });
  }
}

/** An event as NOTIFY payloads, each under PostgreSQL's limit. */
function announcementsOf(node: string, event: MailboxEvent): Announcement[] {
  if (event.type === 'message-deleted' && event.ids.length > idsPerAnnouncement) {
    const announcements: Announcement[] = [];
    for (let start = 0; start < event.ids.length; start += idsPerAnnouncement)
      announcements.push({
        node,
        event: { type: 'message-deleted', ids: event.ids.slice(start, start + idsPerAnnouncement) },
      });
    return announcements;
  }
  const whole: Announcement = { node, event };
  if (Buffer.byteLength(JSON.stringify(whole)) <= maxPayloadBytes) return [whole];
  if (event.type === 'message-stored') return [{ node, storedId: event.message.id }];
  // 100 tags of 64 multi-byte characters do not fit.
  if (event.type === 'message-tagged') return [{ node, taggedId: event.id }];
  return [whole];
}

/** Every event relayed; a record, so a new event type cannot be forgotten here. */
const isRelayed = {
  'message-stored': true,
  'message-updated': true,
  'messages-read': true,
  'message-tagged': true,
  'tags-changed': true,
  'message-deleted': true,
  'messages-cleared': true,
} as const satisfies Record<MailboxEvent['type'], true>;

const eventTypes: ReadonlySet<string> = new Set(Object.keys(isRelayed));

/** A payload of ours, or null (another program may NOTIFY on the channel too). */
function parseAnnouncement(payload: string): Announcement | null {
  try {
    const value = JSON.parse(payload) as Partial<{
      node: unknown;
      event: { type?: unknown };
      storedId: unknown;
      taggedId: unknown;
    }>;
    if (typeof value.node !== 'string') return null;
    if (typeof value.storedId === 'string') return { node: value.node, storedId: value.storedId };
    if (typeof value.taggedId === 'string') return { node: value.node, taggedId: value.taggedId };
    if (typeof value.event?.type === 'string' && eventTypes.has(value.event.type))
      return value as Announcement;
    return null;
  } catch {
    return null;
  }
}
