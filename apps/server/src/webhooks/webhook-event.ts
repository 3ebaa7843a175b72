import type { MessageSummary } from '../capture/mailbox-index.js';
import { type QueueEvent, queueEventTypes } from '../events/queue-event.js';

/** What a webhook can ask for: every delivery event, and `received` for each stored message. */
export const webhookEventTypes = [...queueEventTypes, 'received'] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

/** A message was accepted and stored (capture mode: caught; MTA mode: accepted for delivery). */
export interface ReceivedEvent {
  readonly type: 'received';
  readonly messageId: string;
  readonly receivedAt: number;
  readonly sender: string;
  readonly recipients: readonly string[];
  readonly subject: string;
  readonly sizeBytes: number;
}

export type WebhookEvent = QueueEvent | ReceivedEvent;

export function receivedEventOf(message: MessageSummary): ReceivedEvent {
  return {
    type: 'received',
    messageId: message.id,
    receivedAt: message.receivedAtMs,
    sender: message.envelopeFrom,
    recipients: message.envelopeTo,
    subject: message.subject,
    sizeBytes: message.sizeBytes,
  };
}
