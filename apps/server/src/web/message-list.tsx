import { useEffect, useRef } from 'preact/hooks';
import type { MessageSummary } from './api.js';
import { formatAddress, formatShortTime } from './format.js';

export interface MessageListProps {
  readonly messages: readonly MessageSummary[];
  readonly selectedId: string | null;
  readonly total: number;
  readonly isTotalCapped: boolean;
  readonly unread: number;
  readonly search: string;
  readonly hasMore: boolean;
  readonly onSelect: (id: string) => void;
  readonly onLoadMore: () => void;
  /** Where to send mail ("127.0.0.1 port 2525"), once known. */
  readonly sendTo: string | null;
}

export function MessageList(props: MessageListProps) {
  const selectedRow = useRef<HTMLLIElement>(null);
  useEffect(() => {
    selectedRow.current?.scrollIntoView({ block: 'nearest' });
  }, [props.selectedId]);
  const count = `${props.total}${props.isTotalCapped ? '+' : ''}`;
  return (
    <nav class="list" aria-label="Messages">
      <div class="list-status">
        {props.search === '' ? `${count} messages · ${props.unread} unread` : `${count} found`}
      </div>
      {props.messages.length === 0 ? (
        <p class="list-empty">
          {props.search !== ''
            ? 'Nothing matches.'
            : `No mail yet. Send some to ${props.sendTo ?? 'the SMTP port'}.`}
        </p>
      ) : (
        <ul class="messages">
          {props.messages.map((message) => {
            const isSelected = message.id === props.selectedId;
            return (
              <li
                key={message.id}
                ref={isSelected ? selectedRow : null}
                class={`message-row${message.isRead ? '' : ' is-unread'}${isSelected ? ' is-selected' : ''}`}
                data-id={message.id}
              >
                <a
                  href={`#/message/${message.id}`}
                  onClick={(event) => {
                    event.preventDefault();
                    props.onSelect(message.id);
                  }}
                >
                  <span class="row-from">
                    {formatAddress(
                      message.from ??
                        (message.envelopeFrom === '' ? null : { name: '', address: message.envelopeFrom }),
                    )}
                  </span>
                  <time class="row-time" dateTime={new Date(message.receivedAtMs).toISOString()}>
                    {formatShortTime(message.receivedAtMs)}
                  </time>
                  <span class="row-subject">
                    {message.attachmentCount > 0 && (
                      <span class="clip" title={`${message.attachmentCount} attachments`}>
                        📎
                      </span>
                    )}
                    {message.subject !== ''
                      ? message.subject
                      : message.isParsed
                        ? '(no subject)'
                        : '(processing…)'}
                  </span>
                  <span class="row-snippet">
                    {message.tags.map((tag) => (
                      <span class="tag" key={tag}>
                        {tag}
                      </span>
                    ))}
                    {message.snippet}
                  </span>
                </a>
              </li>
            );
          })}
        </ul>
      )}
      {props.hasMore && (
        <button type="button" class="button load-more" onClick={props.onLoadMore}>
          Load older messages
        </button>
      )}
    </nav>
  );
}
