import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  operationsApi,
  type QueueAction,
  type QueueActionResult,
  type QueuedDelivery,
  type QueueEvent,
  type QueueStatus,
  type ServerInfo,
} from './operations-api.js';
import { PageNav } from './page-nav.js';
import { QueueList } from './queue-list.js';
import { queueRowsOf } from './queue-rows.js';
import { type ActionTarget, actionLabels, QueuedMessageView } from './queued-message-view.js';
import { useKeyboard } from './use-keyboard.js';
import { useQueueEvents } from './use-queue-events.js';

const statuses: readonly QueueStatus[] = ['queued', 'in-flight', 'held', 'delivered', 'failed', 'deleted'];

function selectedFromHash(): string | null {
  const match = /^#\/queue\/(.+)$/.exec(location.hash);
  if (match?.[1] === undefined) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1]; // a malformed escape: the API answers 404 for it
  }
}

/** Which messages an event is about (a DSN's event: the message it reports on). */
function messagesOf(event: QueueEvent): readonly string[] {
  if (event.type === 'purged') return event.messageIds;
  return [event.type === 'report-queued' ? event.originalMessageId : event.messageId];
}

/**
 * The delivery queue (MTA mode): messages with their deliveries, filtered by state, one message's
 * recipients and attempts, the operator's actions, kept current by /api/v1/queue/events.
 */
export function QueuePage(props: { readonly info: ServerInfo | null }) {
  const [deliveries, setDeliveries] = useState<readonly QueuedDelivery[]>([]);
  const [nextAfter, setNextAfter] = useState<number | null>(null);
  const [status, setStatus] = useState<QueueStatus | null>(null);
  /** The destination domain filter, as typed; applied a moment after the typing stops. */
  const [domainInput, setDomainInput] = useState('');
  const [domain, setDomain] = useState('');
  const [selectedId, setSelectedId] = useState<string | null>(selectedFromHash);
  const [version, setVersion] = useState(0);
  const [notice, setNotice] = useState<string | null>(null);
  /** What the toolbar's actions on the whole queue did. */
  const [listNotice, setListNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [isConnected, setIsConnected] = useState(false);
  const filterSelect = useRef<HTMLSelectElement>(null);
  const statusRef = useRef(status);
  statusRef.current = status;
  const domainRef = useRef(domain);
  domainRef.current = domain;
  const selectedRef = useRef(selectedId);
  selectedRef.current = selectedId;
  const rows = useMemo(() => queueRowsOf(deliveries), [deliveries]);

  const reload = useCallback(async () => {
    const wanted = { status: statusRef.current, domain: domainRef.current };
    try {
      const page = await operationsApi.queue(wanted, null);
      // A newer filter is on its way.
      if (wanted.status !== statusRef.current || wanted.domain !== domainRef.current) return;
      setDeliveries(page.deliveries);
      setNextAfter(page.nextAfter);
      setError(null);
    } catch (caught) {
      setError((caught as Error).message);
    }
  }, []);

  useEffect(() => {
    void reload();
  }, [status, domain, reload]);

  useEffect(() => {
    const timer = setTimeout(() => setDomain(domainInput.trim().toLowerCase()), 300);
    return () => clearTimeout(timer);
  }, [domainInput]);

  useEffect(() => {
    document.title = 'Queue · @smtp';
    const onHash = () => setSelectedId(selectedFromHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  // Events come in bursts (an attempt for ten recipients): one reload after the burst.
  const reloadTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const reloadSoon = useCallback(() => {
    if (reloadTimer.current !== null) clearTimeout(reloadTimer.current);
    reloadTimer.current = setTimeout(() => {
      reloadTimer.current = null;
      void reload();
    }, 150);
  }, [reload]);
  useEffect(
    () => () => {
      if (reloadTimer.current !== null) clearTimeout(reloadTimer.current);
    },
    [],
  );

  useQueueEvents(
    (event) => {
      reloadSoon();
      if (selectedRef.current !== null && messagesOf(event).includes(selectedRef.current))
        setVersion((current) => current + 1);
    },
    setIsConnected,
    // After a reconnect we may have missed events: refresh.
    () => {
      reloadSoon();
      setVersion((current) => current + 1);
    },
  );

  const select = useCallback((messageId: string | null) => {
    location.hash = messageId === null ? '#/queue' : `#/queue/${encodeURIComponent(messageId)}`;
    setSelectedId(messageId);
    setNotice(null);
  }, []);

  const loadMore = useCallback(async () => {
    if (nextAfter === null) return;
    try {
      const page = await operationsApi.queue({ status, domain }, nextAfter);
      setDeliveries((current) => [...current, ...page.deliveries]);
      setNextAfter(page.nextAfter);
    } catch (caught) {
      setError((caught as Error).message);
    }
  }, [nextAfter, status, domain]);

  const act = useCallback(
    async (target: ActionTarget, action: QueueAction) => {
      const whom = 'messageId' in target ? 'every recipient of this message' : 'this recipient';
      if ((action === 'bounce' || action === 'delete') && !confirm(`${actionLabels[action]} ${whom}?`))
        return;
      try {
        setNotice(describeResult(action, await operationsApi.act(target, action)));
      } catch (caught) {
        setNotice((caught as Error).message);
      }
      setVersion((current) => current + 1);
      void reload();
    },
    [reload],
  );

  const retryQueuedNow = useCallback(async () => {
    try {
      // The domain filter, when set, narrows it: "retry everything to example.com now".
      const result = await operationsApi.actOnAll(
        { status: 'queued', ...(domainRef.current === '' ? {} : { domain: domainRef.current }) },
        'retry-now',
      );
      setListNotice(
        `${actionLabels['retry-now']}: ${result.changed} of ${result.matched} queued ${result.matched === 1 ? 'delivery' : 'deliveries'} changed`,
      );
    } catch (caught) {
      setListNotice((caught as Error).message);
    }
    void reload();
  }, [reload]);

  const purgeFinished = useCallback(async () => {
    if (!confirm('Delete every message the queue has finished with (delivered, failed or deleted)?')) return;
    try {
      const { purged } = await operationsApi.purgeFinished();
      setListNotice(`Purged ${purged} finished ${purged === 1 ? 'message' : 'messages'}`);
    } catch (caught) {
      setListNotice((caught as Error).message);
    }
    void reload();
  }, [reload]);

  const moveSelection = useCallback(
    (step: 1 | -1) => {
      const index = rows.findIndex((row) => row.messageId === selectedId);
      const next = rows[index === -1 ? 0 : index + step];
      if (next !== undefined) select(next.messageId);
      else if (step === 1 && nextAfter !== null) void loadMore();
    },
    [rows, nextAfter, loadMore, select, selectedId],
  );

  const actOnSelected = (action: QueueAction) => () => {
    if (selectedId !== null) void act({ messageId: selectedId }, action);
  };
  useKeyboard({
    next: () => moveSelection(1),
    previous: () => moveSelection(-1),
    open: () => {
      if (selectedId === null && rows[0] !== undefined) select(rows[0].messageId);
    },
    remove: actOnSelected('delete'),
    focusSearch: () => filterSelect.current?.focus(),
    back: () => select(null),
    more: { r: actOnSelected('retry-now'), h: actOnSelected('hold'), u: actOnSelected('release') },
  });

  return (
    <div class={`layout ${selectedId === null ? 'is-listing' : 'is-reading'}`}>
      <header class="toolbar">
        <a class="brand" href="#/queue">
          <span class="brand-mark">@</span>smtp <span class="brand-sub">queue</span>
        </a>
        <PageNav info={props.info} current="queue" />
        <label class="filter">
          <span class="muted">State</span>
          <select
            ref={filterSelect}
            class="search"
            aria-label="Filter by state"
            value={status ?? ''}
            onChange={(event) => {
              const value = event.currentTarget.value;
              setStatus(value === '' ? null : (value as QueueStatus));
            }}
            onKeyDown={(event) => {
              if (event.key === 'Escape') event.currentTarget.blur();
            }}
          >
            <option value="">any</option>
            {statuses.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label class="filter">
          <span class="muted">Domain</span>
          <input
            class="search"
            type="search"
            aria-label="Filter by domain"
            placeholder="example.com"
            value={domainInput}
            onInput={(event) => setDomainInput(event.currentTarget.value)}
            onKeyDown={(event) => {
              if (event.key === 'Escape') event.currentTarget.blur();
            }}
          />
        </label>
        <span class="spacer" />
        <span
          class={`live ${isConnected ? 'is-live' : ''}`}
          title={isConnected ? 'Live updates on' : 'Reconnecting…'}
        >
          {isConnected ? 'live' : 'offline'}
        </span>
        <button type="button" class="button" onClick={() => void retryQueuedNow()}>
          Retry queued now
        </button>
        <button type="button" class="button danger" onClick={() => void purgeFinished()}>
          Purge finished
        </button>
        <button type="button" class="button" onClick={() => void reload()}>
          Refresh
        </button>
      </header>
      {error !== null && (
        <div class="error" role="alert">
          {error}
        </div>
      )}
      {listNotice !== null && (
        <p class="notice list-notice" role="status">
          {listNotice}
        </p>
      )}
      <QueueList
        rows={rows}
        selectedId={selectedId}
        hasMore={nextAfter !== null}
        isFiltered={status !== null || domain !== ''}
        onSelect={select}
        onLoadMore={() => void loadMore()}
      />
      <main class="reader">
        {selectedId === null ? (
          <div class="empty">
            <p>Select a message.</p>
            <p class="hint">
              <kbd>j</kbd>/<kbd>k</kbd> move · <kbd>Enter</kbd> open · <kbd>r</kbd> retry now · <kbd>h</kbd>{' '}
              hold · <kbd>u</kbd> release · <kbd>Delete</kbd> delete · <kbd>/</kbd> filter
            </p>
          </div>
        ) : (
          <QueuedMessageView
            key={selectedId}
            messageId={selectedId}
            version={version}
            notice={notice}
            onAct={(target, action) => void act(target, action)}
            onBack={() => select(null)}
          />
        )}
      </main>
    </div>
  );
}

/** "Hold: 2 deliveries changed" or the state machine's reasons for refusing. */
function describeResult(action: QueueAction, result: QueueActionResult): string {
  const changed = result.results.filter((entry) => entry.ok).length;
  const refused = result.results.filter((entry) => !entry.ok);
  const parts = [`${actionLabels[action]}: ${changed} ${changed === 1 ? 'delivery' : 'deliveries'} changed`];
  if (refused.length > 0)
    parts.push(`refused: ${[...new Set(refused.map((entry) => entry.reason ?? 'refused'))].join('; ')}`);
  return parts.join(' · ');
}
