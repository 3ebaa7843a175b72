import { useEffect, useRef } from 'preact/hooks';
import { formatShortTime } from './format.js';
import { describeSender, type QueueRow, statusCounts } from './queue-rows.js';

export interface QueueListProps {
  readonly rows: readonly QueueRow[];
  readonly selectedId: string | null;
  readonly hasMore: boolean;
  readonly isFiltered: boolean;
  readonly onSelect: (messageId: string) => void;
  readonly onLoadMore: () => void;
}

/** The queued messages, each with its recipients and how many deliveries are in which state. */
export function QueueList(props: QueueListProps) {
  const selectedRow = useRef<HTMLLIElement>(null);
  useEffect(() => {
    selectedRow.current?.scrollIntoView({ block: 'nearest' });
  }, [props.selectedId]);
  const deliveryCount = props.rows.reduce((sum, row) => sum + row.deliveries.length, 0);
  return (
    <nav class="list" aria-label="Queued messages">
      <div class="list-status">
        {plural(props.rows.length, 'message')} · {plural(deliveryCount, 'delivery', 'deliveries')}
        {props.hasMore ? ' (more below)' : ''}
      </div>
      {props.rows.length === 0 ? (
        <p class="list-empty">
          {props.isFiltered
            ? 'No delivery matches the filter.'
            : 'The queue is empty. Send mail to a listener.'}
        </p>
      ) : (
        <ul class="messages">
          {props.rows.map((row) => {
            const isSelected = row.messageId === props.selectedId;
            const attempts = Math.max(...row.deliveries.map((delivery) => delivery.attempts));
            const problem = row.deliveries.find(
              (delivery) => delivery.status !== 'delivered' && delivery.lastReply !== null,
            );
            return (
              <li
                key={row.messageId}
                ref={isSelected ? selectedRow : null}
                class={`message-row queue-row${isSelected ? ' is-selected' : ''}`}
                data-id={row.messageId}
              >
                <a
                  href={`#/queue/${encodeURIComponent(row.messageId)}`}
                  onClick={(event) => {
                    event.preventDefault();
                    props.onSelect(row.messageId);
                  }}
                >
                  <span class="row-from">{describeSender(row.sender)}</span>
                  <time class="row-time" dateTime={new Date(row.arrivedAt).toISOString()}>
                    {formatShortTime(row.arrivedAt)}
                  </time>
                  <span class="row-subject">
                    → {row.deliveries.map((delivery) => delivery.recipient).join(', ')}
                  </span>
                  <span class="row-statuses">
                    {statusCounts(row.deliveries).map(([status, count]) => (
                      <span key={status} class={`status status-${status}`}>
                        {status}
                        {count > 1 ? ` ${count}` : ''}
                      </span>
                    ))}
                    {attempts > 0 && (
                      <span class="muted">
                        {attempts} attempt{attempts === 1 ? '' : 's'}
                      </span>
                    )}
                  </span>
                  {problem !== undefined && <span class="row-snippet">{problem.lastReply}</span>}
                </a>
              </li>
            );
          })}
        </ul>
      )}
      {props.hasMore && (
        <button type="button" class="button load-more" onClick={props.onLoadMore}>
          Load more
        </button>
      )}
    </nav>
  );
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
