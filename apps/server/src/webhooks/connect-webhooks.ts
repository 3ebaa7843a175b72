import type { MailboxEvent } from '../capture/mailbox-event.js';
import type { DeliveryEvent } from '../delivery/delivery-event.js';
import type { EventBus } from '../events/event-bus.js';
import { queueEventsOf } from '../events/queue-event.js';
import type { WebhookDispatcher } from './webhook-dispatcher.js';
import { receivedEventOf } from './webhook-event.js';

/**
 * Feeds the webhooks from the buses: every stored message as `received`, and in MTA mode every
 * delivery event as the operator sees it. Returns the call that disconnects them.
 */
export function connectWebhooks(
  dispatcher: WebhookDispatcher,
  buses: { readonly mailbox?: EventBus<MailboxEvent>; readonly delivery?: EventBus<DeliveryEvent> },
): () => void {
  const unsubscribeMailbox = buses.mailbox?.subscribe((event) => {
    if (event.type === 'message-stored') dispatcher.publish(receivedEventOf(event.message));
  });
  const unsubscribeDelivery = buses.delivery?.subscribe((event) => {
    for (const queueEvent of queueEventsOf(event)) dispatcher.publish(queueEvent);
  });
  return () => {
    unsubscribeMailbox?.();
    unsubscribeDelivery?.();
  };
}
