import { useCallback, useEffect, useState } from 'preact/hooks';
import { formatLongTime, formatShortTime } from './format.js';
import { InboundMessageView } from './inbound-message-view.js';
import { findingOf, VerdictBadges, verdictTone } from './inbound-verdicts.js';
import { type InboundSummary, operationsApi, type ServerInfo } from './operations-api.js';
import { PageNav } from './page-nav.js';

function selectedFromHash(): string | null {
  const match = /^#\/inbound\/(.+)$/.exec(location.hash);
  if (match?.[1] === undefined) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1]; // a malformed escape: the API answers 404 for it
  }
}

/**
 * What the MX received (MTA mode with an mx listener): each message's client, envelope, decision
 * and the checks' verdicts at a glance; one message's findings, expansion and deliveries.
 */
export function InboundPage(props: { readonly info: ServerInfo | null }) {
  const [messages, setMessages] = useState<readonly InboundSummary[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(selectedFromHash);
  const [error, setError] = useState<string | null>(null);

  const reload = useCallback(async () => {
    try {
      const page = await operationsApi.inbound(null);
      setMessages(page.messages);
      setNextCursor(page.nextCursor);
      setError(null);
    } catch (caught) {
      setError((caught as Error).message);
    }
  }, []);

  useEffect(() => {
    document.title = 'Inbound · @smtp';
    const onHash = () => setSelectedId(selectedFromHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  // The list is read again whenever it is shown (coming back from a message included).
  useEffect(() => {
    if (selectedId === null) void reload();
  }, [selectedId, reload]);

  const loadMore = async () => {
    if (nextCursor === null) return;
    try {
      const page = await operationsApi.inbound(nextCursor);
      setMessages((current) => [...current, ...page.messages]);
      setNextCursor(page.nextCursor);
    } catch (caught) {
      setError((caught as Error).message);
    }
  };

  return (
    <div class="layout is-single">
      <header class="toolbar">
        <a class="brand" href="#/inbound">
          <span class="brand-mark">@</span>smtp <span class="brand-sub">inbound</span>
        </a>
        <PageNav info={props.info} current="inbound" />
        {selectedId === null && (
          <button type="button" class="button" onClick={() => void reload()}>
            Refresh
          </button>
        )}
      </header>
      {error !== null && (
        <div class="error" role="alert">
          {error}
        </div>
      )}
      <main class="reader page">
        {selectedId !== null ? (
          <InboundMessageView messageId={selectedId} />
        ) : messages.length === 0 ? (
          <p class="list-empty">Nothing received yet.</p>
        ) : (
          <table class="grid inbound">
            <thead>
              <tr>
                <th>Time</th>
                <th>Client</th>
                <th>Sender</th>
                <th>Recipients</th>
                <th>Decision</th>
                <th>Checks</th>
              </tr>
            </thead>
            <tbody>
              {messages.map((message) => (
                <InboundRow key={message.messageId} message={message} />
              ))}
            </tbody>
          </table>
        )}
        {selectedId === null && nextCursor !== null && (
          <button type="button" class="button load-more" onClick={() => void loadMore()}>
            Load older messages
          </button>
        )}
      </main>
    </div>
  );
}

function InboundRow(props: { readonly message: InboundSummary }) {
  const { message } = props;
  const decision = findingOf(message.checks, 'decision');
  const href = `#/inbound/${encodeURIComponent(message.messageId)}`;
  return (
    <tr class="inbound-row" data-message-id={message.messageId}>
      <td>
        <a href={href}>
          <time
            dateTime={new Date(message.receivedAt).toISOString()}
            title={formatLongTime(message.receivedAt)}
          >
            {formatShortTime(message.receivedAt)}
          </time>
        </a>
      </td>
      <td class="address">
        {message.client.address}
        <div class="muted">{message.client.helo}</div>
      </td>
      <td class="address sender">{message.sender === '' ? '<>' : message.sender}</td>
      <td class="address recipients">{message.recipients.map((entry) => entry.recipient).join(', ')}</td>
      <td>
        <span
          class={`verdict decision verdict-${verdictTone(decision?.result ?? 'accept')}`}
          title={decision?.reason ?? ''}
        >
          {decision?.result ?? 'accept'}
        </span>
      </td>
      <td>
        <VerdictBadges checks={message.checks} />
      </td>
    </tr>
  );
}
