import type { DeliveryEvent } from '../delivery/delivery-event.js';
import type { AttemptRecord, DeliveryRecord, OperatorAction } from '../queue/delivery-queue.js';
import type { DeliveryStatus } from '../queue/delivery-state.js';
import { replyText } from '../queue/reply-text.js';

/**
 * The delivery events an operator sees (the queue page's live updates, GET /api/v1/queue/events,
 * webhooks): one per thing that happened to a delivery, named by what happened. Built from the
 * delivery bus's events, which carry the queue's own records; times are epoch milliseconds.
 */

/** What an operator's action is called once done. */
const actionEventTypes = {
  hold: 'held',
  release: 'released',
  'retry-now': 'retried',
  bounce: 'bounced',
  delete: 'deleted',
} as const satisfies Record<OperatorAction, string>;

export const queueEventTypes = [
  'queued',
  'attempt-started',
  'delivered',
  'deferred',
  'failed',
  ...Object.values(actionEventTypes),
  'report-queued',
  'purged',
] as const;
export type QueueEventType = (typeof queueEventTypes)[number];

/** One attempt as an event carries it: the attempt record without its transcript (the API has it). */
export interface AttemptSummary {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly mxHost: string | null;
  readonly tls: boolean | null;
  readonly status: string;
  readonly reply: string | null;
  readonly error: string | null;
}

interface DeliveryChange {
  readonly messageId: string;
  readonly deliveryId: number;
  readonly recipient: string;
  readonly domain: string;
  /** The delivery's status after the event. */
  readonly status: DeliveryStatus;
  readonly at: number;
}

export type QueueEvent =
  | {
      readonly type: 'queued';
      readonly messageId: string;
      readonly sender: string;
      readonly recipients: readonly string[];
      readonly at: number;
    }
  | {
      readonly type: 'attempt-started';
      readonly messageId: string;
      readonly domain: string;
      readonly deliveries: readonly { readonly deliveryId: number; readonly recipient: string }[];
      readonly at: number;
    }
  | (DeliveryChange & {
      readonly type: 'delivered' | 'deferred' | 'failed';
      readonly attempt: AttemptSummary;
    })
  | (DeliveryChange & { readonly type: (typeof actionEventTypes)[OperatorAction] })
  | {
      readonly type: 'report-queued';
      readonly reportId: string;
      readonly originalMessageId: string;
      readonly action: 'failed' | 'delayed' | 'relayed';
      readonly recipients: readonly string[];
    }
  | {
      readonly type: 'purged';
      readonly messageIds: readonly string[];
      readonly by: 'retention' | 'operator';
      readonly at: number;
    };

/** The operator's events for one delivery-bus event (an action on a whole message gives one per delivery). */
export function queueEventsOf(event: DeliveryEvent): QueueEvent[] {
  switch (event.type) {
    case 'message-queued':
      return [
        {
          type: 'queued',
          messageId: event.messageId,
          sender: event.sender,
          recipients: event.recipients,
          at: event.at,
        },
      ];
    case 'attempt-started':
      return [event];
    case 'delivery-attempted':
      return [
        {
          // The status after the attempt decides: a deferral past the give-up time is a failure.
          type:
            event.status === 'delivered' ? 'delivered' : event.status === 'failed' ? 'failed' : 'deferred',
          messageId: event.messageId,
          deliveryId: event.deliveryId,
          recipient: event.recipient,
          domain: event.domain,
          status: event.status,
          at: event.attempt.endedAt,
          attempt: summarize(event.attempt),
        },
      ];
    case 'operator-action':
      return event.deliveries.map((delivery) => ({
        type: actionEventTypes[event.action],
        ...changeOf(delivery, event.at),
      }));
    case 'report-queued':
      return [event];
    case 'messages-purged':
      return [{ type: 'purged', messageIds: event.messageIds, by: event.by, at: event.at }];
  }
}

function changeOf(delivery: DeliveryRecord, at: number): DeliveryChange {
  return {
    messageId: delivery.messageId,
    deliveryId: delivery.id,
    recipient: delivery.recipient,
    domain: delivery.domain,
    status: delivery.state.status,
    at,
  };
}

function summarize(attempt: AttemptRecord): AttemptSummary {
  return {
    startedAt: attempt.startedAt,
    endedAt: attempt.endedAt,
    mxHost: attempt.mxHost,
    tls: attempt.tls,
    status: attempt.status,
    reply: attempt.reply === null ? null : replyText(attempt.reply),
    error: attempt.error,
  };
}
