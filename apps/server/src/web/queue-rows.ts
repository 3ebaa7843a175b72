import type { QueuedDelivery, QueueStatus } from './operations-api.js';

/** One message of the queue list: its deliveries (one per recipient) as the API listed them. */
export interface QueueRow {
  readonly messageId: string;
  readonly sender: string;
  readonly arrivedAt: number;
  readonly deliveries: readonly QueuedDelivery[];
}

/** Deliveries grouped by message, in the order the API listed them (oldest first). */
export function queueRowsOf(deliveries: readonly QueuedDelivery[]): QueueRow[] {
  const rows = new Map<
    string,
    { messageId: string; sender: string; arrivedAt: number; deliveries: QueuedDelivery[] }
  >();
  for (const delivery of deliveries) {
    const row = rows.get(delivery.messageId);
    if (row === undefined)
      rows.set(delivery.messageId, {
        messageId: delivery.messageId,
        sender: delivery.sender,
        arrivedAt: delivery.arrivedAt,
        deliveries: [delivery],
      });
    else if (!row.deliveries.some((known) => known.id === delivery.id)) row.deliveries.push(delivery);
  }
  return [...rows.values()];
}

/** "queued 2 · delivered 1": how many of a message's deliveries are in each status. */
export function statusCounts(deliveries: readonly QueuedDelivery[]): [QueueStatus, number][] {
  const counts = new Map<QueueStatus, number>();
  for (const delivery of deliveries) counts.set(delivery.status, (counts.get(delivery.status) ?? 0) + 1);
  return [...counts.entries()];
}

/** A reverse-path as people read it: `<>` is a delivery report (DSN). */
export function describeSender(sender: string): string {
  return sender === '' ? '<> (delivery report)' : sender;
}

/** "in 9 min", "2 h ago": a due time against now. */
export function formatRelative(ms: number, nowMs = Date.now()): string {
  const seconds = Math.round((ms - nowMs) / 1000);
  const magnitude = Math.abs(seconds);
  const text =
    magnitude < 60
      ? `${magnitude} s`
      : magnitude < 3600
        ? `${Math.round(magnitude / 60)} min`
        : magnitude < 86_400
          ? `${Math.round(magnitude / 360) / 10} h`
          : `${Math.round(magnitude / 8640) / 10} d`;
  if (magnitude < 1) return 'now';
  return seconds > 0 ? `in ${text}` : `${text} ago`;
}
