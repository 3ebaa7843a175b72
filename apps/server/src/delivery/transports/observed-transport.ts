import type { EventBus } from '../../events/event-bus.js';
import type { Clock } from '../clock.js';
import type { DeliveryEvent } from '../delivery-event.js';
import type { DeliveryTransport } from './delivery-transport.js';

/**
 * A transport that tells the event bus when a session starts (the queue page's "attempt started",
 * webhooks), then does exactly what the wrapped transport does.
 */
export function observedTransport(
  transport: DeliveryTransport,
  events: EventBus<DeliveryEvent>,
  clock: Clock,
): DeliveryTransport {
  return {
    send(job, signal) {
      events.publish({
        type: 'attempt-started',
        messageId: job.messageId,
        domain: job.domain,
        deliveries: job.deliveries.map((delivery) => ({
          deliveryId: delivery.id,
          recipient: delivery.recipient,
        })),
        at: clock.now(),
      });
      return transport.send(job, signal);
    },
  };
}
