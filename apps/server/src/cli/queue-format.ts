import type { z } from 'zod';
import type {
  bulkActionResultSchema,
  QueuedDelivery,
  queueActionResultSchema,
  queuedMessageSchema,
} from '../http/schemas/queue-schemas.js';

/** `smtp-app queue` output for people: a table for `ls`, a report for `show`, a line per change. */

export function formatQueueTable(deliveries: readonly QueuedDelivery[]): string {
  if (deliveries.length === 0) return 'The queue is empty.\n';
  const header = ['MESSAGE', 'SENDER', 'RECIPIENT', 'STATUS', 'ATTEMPTS', 'NEXT DUE', 'LAST REPLY'];
  const rows = deliveries.map((delivery) => [
    delivery.messageId,
    delivery.sender === '' ? '<>' : delivery.sender,
    delivery.recipient,
    delivery.status,
    String(delivery.attempts),
    delivery.dueAt === null ? '-' : formatTime(delivery.dueAt),
    delivery.lastReply ?? '-',
  ]);
  return formatColumns([header, ...rows]);
}

export function formatQueuedMessage(message: z.infer<typeof queuedMessageSchema>): string {
  const first = message.deliveries[0];
  const lines = [`Message ${message.messageId}`];
  if (first !== undefined) {
    lines.push(`  from:    ${first.sender === '' ? '<>' : first.sender}`);
    lines.push(`  arrived: ${formatTime(first.arrivedAt)}`);
  }
  lines.push('', 'Recipients:');
  for (const delivery of message.deliveries) {
    const due = delivery.dueAt === null ? '' : `, next due ${formatTime(delivery.dueAt)}`;
    const cause = delivery.failureCause === null ? '' : ` (${delivery.failureCause})`;
    lines.push(
      `  #${delivery.id} ${delivery.recipient}: ${delivery.status}${cause}, ${delivery.attempts} attempt(s)${due}`,
    );
    if (delivery.lastReply !== null) lines.push(`      last reply: ${delivery.lastReply}`);
  }
  lines.push('', 'Attempts:');
  if (message.attempts.length === 0) lines.push('  none yet');
  const recipientOf = new Map(message.deliveries.map((delivery) => [delivery.id, delivery.recipient]));
  for (const attempt of message.attempts) {
    const tls = attempt.tls === null ? 'TLS unknown' : attempt.tls ? 'TLS' : 'no TLS';
    lines.push(
      `  ${formatTime(attempt.startedAt)} #${attempt.deliveryId} ${recipientOf.get(attempt.deliveryId) ?? ''}: ` +
        `${attempt.outcome} via ${attempt.mxHost ?? '(no MX reached)'}, ${tls}: ` +
        `${attempt.reply ?? attempt.error ?? attempt.status}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function formatActionResults(action: string, result: z.infer<typeof queueActionResultSchema>): string {
  return result.results
    .map((entry) =>
      entry.ok
        ? `delivery ${entry.deliveryId}: ${action} → ${entry.status ?? 'unknown'}\n`
        : `delivery ${entry.deliveryId}: ${action} refused: ${entry.reason ?? 'no reason given'}\n`,
    )
    .join('');
}

/** A bulk action's counts: "retry: 12 of 14 deliveries changed; 2 refused: retry-now is not possible for a held delivery". */
export function formatBulkResult(action: string, result: z.infer<typeof bulkActionResultSchema>): string {
  const refused = Object.entries(result.refused).map(([reason, count]) => `${count} refused: ${reason}`);
  return `${[`${action}: ${result.changed} of ${result.matched} deliveries changed`, ...refused].join('; ')}\n`;
}

/** UTC to the second: "2026-12-06 11:13:00Z". */
function formatTime(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

function formatColumns(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}
