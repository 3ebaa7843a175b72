import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, type MessageSummary } from './api.js';
import { formatSendTo } from './message-facts.js';
import { MessageList } from './message-list.js';
import { MessageView } from './message-view.js';
import { operationsApi, type ServerInfo } from './operations-api.js';
import { PageNav } from './page-nav.js';
import { useKeyboard } from './use-keyboard.js';
import { useMailEvents } from './use-mail-events.js';

interface InboxState {
  readonly messages: readonly MessageSummary[];
  readonly nextCursor: string | null;
  readonly total: number;
  readonly isTotalCapped: boolean;
  readonly unread: number;
}

const emptyInbox: InboxState = { messages: [], nextCursor: null, total: 0, isTotalCapped: false, unread: 0 };

function selectedFromHash(): string | null {
  const match = /^#\/message\/([\w-]+)$/.exec(location.hash);
  return match?.[1] ?? null;
}

/** The captured (or, in MTA mode, accepted) mail: a list, one message, live updates. */
export function InboxPage(props: { readonly info: ServerInfo | null }) {
  const [inbox, setInbox] = useState<InboxState>(emptyInbox);
  const [search, setSearch] = useState('');
  const [selectedId, setSelectedId] = useState<string | null>(selectedFromHash);
  const [error, setError] = useState<string | null>(null);
  const [isConnected, setIsConnected] = useState(false);
  const [sendTo, setSendTo] = useState<string | null>(null);
  const searchInput = useRef<HTMLInputElement>(null);
  const searchRef = useRef(search);
  searchRef.current = search;

  const reload = useCallback(async (query: string) => {
    try {
      const page = await api.list(query, null);
      if (query !== searchRef.current) return; // a newer search is on its way
      setInbox(page);
      setError(null);
    } catch (caught) {
      setError((caught as Error).message);
    }
  }, []);

  useEffect(() => {
    const timer = setTimeout(() => void reload(search), search === '' ? 0 : 150);
    return () => clearTimeout(timer);
  }, [search, reload]);

  useEffect(() => {
    // The empty inbox names the SMTP address; without it, it says "the SMTP port".
    api.smtpListeners().then(
      (listeners) => setSendTo(formatSendTo(listeners, location.hostname)),
      () => undefined,
    );
  }, []);

  useEffect(() => {
    const onHash = () => setSelectedId(selectedFromHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    document.title = inbox.unread > 0 ? `(${inbox.unread}) Inbox · @smtp` : 'Inbox · @smtp';
  }, [inbox.unread]);

  const select = useCallback((id: string | null) => {
    location.hash = id === null ? '' : `#/message/${id}`;
    setSelectedId(id);
  }, []);

  const markRead = useCallback((id: string, isRead: boolean) => {
    setInbox((current) => {
      const target = current.messages.find((message) => message.id === id);
      if (target === undefined || target.isRead === isRead) return current;
      return {
        ...current,
        unread: Math.max(0, current.unread + (isRead ? -1 : 1)),
        messages: current.messages.map((message) => (message.id === id ? { ...message, isRead } : message)),
      };
    });
  }, []);

  const removeIds = useCallback((ids: readonly string[]) => {
    const gone = new Set(ids);
    setInbox((current) => {
      const removed = current.messages.filter((message) => gone.has(message.id));
      return {
        ...current,
        total: Math.max(0, current.total - removed.length),
        unread: Math.max(0, current.unread - removed.filter((message) => !message.isRead).length),
        messages: current.messages.filter((message) => !gone.has(message.id)),
      };
    });
  }, []);

  useMailEvents(
    (event) => {
      switch (event.type) {
        case 'message-stored':
          // Unfiltered: put it on top at once. Searching: ask the server whether it matches.
          if (searchRef.current !== '') {
            void reload(searchRef.current);
            return;
          }
          setInbox((current) =>
            current.messages.some((message) => message.id === event.message.id)
              ? current
              : {
                  ...current,
                  total: current.total + 1,
                  unread: current.unread + 1,
                  messages: [event.message, ...current.messages],
                },
          );
          return;
        case 'message-updated':
          markRead(event.id, event.isRead);
          return;
        case 'message-deleted':
          removeIds(event.ids);
          return;
        case 'message-tagged':
          setInbox((current) => ({
            ...current,
            messages: current.messages.map((message) =>
              message.id === event.id ? { ...message, tags: event.tags } : message,
            ),
          }));
          return;
        case 'messages-read':
        case 'tags-changed':
        case 'messages-cleared':
          void reload(searchRef.current);
          return;
      }
    },
    setIsConnected,
    // After a reconnect we may have missed events: refresh.
    () => void reload(searchRef.current),
  );

  const loadMore = useCallback(async () => {
    if (inbox.nextCursor === null) return;
    try {
      const page = await api.list(search, inbox.nextCursor);
      setInbox((current) => ({ ...page, messages: [...current.messages, ...page.messages] }));
    } catch (caught) {
      setError((caught as Error).message);
    }
  }, [inbox.nextCursor, search]);

  const deleteMessage = useCallback(
    async (id: string) => {
      const index = inbox.messages.findIndex((message) => message.id === id);
      const next = inbox.messages[index + 1] ?? inbox.messages[index - 1] ?? null;
      try {
        await api.delete(id);
        removeIds([id]);
        if (selectedId === id) select(next?.id ?? null);
      } catch (caught) {
        setError((caught as Error).message);
      }
    },
    [inbox.messages, removeIds, select, selectedId],
  );

  // An MTA's inbox is its queue's mail: what the queue still owes stays, the rest may go.
  const isMta = props.info?.mode === 'mta';
  const deleteAll = useCallback(async () => {
    const question = isMta
      ? 'Delete every message the queue has finished with (delivered, failed or deleted)? Mail still queued, in flight or held stays.'
      : 'Delete every message?';
    if (!confirm(question)) return;
    try {
      if (isMta) await operationsApi.purgeFinished();
      else await api.deleteAll();
    } catch (caught) {
      setError((caught as Error).message);
      return;
    }
    select(null);
    void reload(searchRef.current);
  }, [isMta, reload, select]);

  const moveSelection = useCallback(
    (step: 1 | -1) => {
      const index = inbox.messages.findIndex((message) => message.id === selectedId);
      const next = inbox.messages[index === -1 ? 0 : index + step];
      if (next !== undefined) select(next.id);
      else if (step === 1 && inbox.nextCursor !== null) void loadMore();
    },
    [inbox.messages, inbox.nextCursor, loadMore, select, selectedId],
  );

  useKeyboard({
    next: () => moveSelection(1),
    previous: () => moveSelection(-1),
    open: () => {
      if (selectedId === null && inbox.messages[0] !== undefined) select(inbox.messages[0].id);
    },
    remove: () => {
      if (selectedId !== null) void deleteMessage(selectedId);
    },
    focusSearch: () => searchInput.current?.focus(),
    back: () => select(null),
  });

  return (
    <div class={`layout ${selectedId === null ? 'is-listing' : 'is-reading'}`}>
      <header class="toolbar">
        <a class="brand" href="#/">
          <span class="brand-mark">@</span>smtp <span class="brand-sub">inbox</span>
        </a>
        <PageNav info={props.info} current="inbox" />
        <input
          ref={searchInput}
          class="search"
          type="search"
          placeholder="Search  (/)   from: to: subject: is:unread has:attachment"
          aria-label="Search messages"
          value={search}
          onInput={(event) => setSearch(event.currentTarget.value)}
          onKeyDown={(event) => {
            if (event.key === 'Escape') event.currentTarget.blur();
          }}
        />
        <span
          class={`live ${isConnected ? 'is-live' : ''}`}
          title={isConnected ? 'Live updates on' : 'Reconnecting…'}
        >
          {isConnected ? 'live' : 'offline'}
        </span>
        <button
          type="button"
          class="button"
          onClick={() => void api.markAllRead()}
          disabled={inbox.unread === 0}
        >
          Mark all read
        </button>
        <button
          type="button"
          class="button danger"
          onClick={() => void deleteAll()}
          disabled={inbox.total === 0}
        >
          {isMta ? 'Delete finished' : 'Delete all'}
        </button>
      </header>
      {error !== null && (
        <div class="error" role="alert">
          {error}
        </div>
      )}
      <MessageList
        messages={inbox.messages}
        selectedId={selectedId}
        total={inbox.total}
        isTotalCapped={inbox.isTotalCapped}
        unread={inbox.unread}
        search={search}
        hasMore={inbox.nextCursor !== null}
        onSelect={select}
        onLoadMore={() => void loadMore()}
        sendTo={sendTo}
      />
      <main class="reader">
        {selectedId === null ? (
          <div class="empty">
            <p>Select a message.</p>
            <p class="hint">
              <kbd>j</kbd>/<kbd>k</kbd> move · <kbd>Enter</kbd> open · <kbd>Delete</kbd> delete · <kbd>/</kbd>{' '}
              search
            </p>
          </div>
        ) : (
          <MessageView
            key={selectedId}
            id={selectedId}
            onBack={() => select(null)}
            onDelete={() => void deleteMessage(selectedId)}
            onRead={markRead}
          />
        )}
      </main>
    </div>
  );
}
