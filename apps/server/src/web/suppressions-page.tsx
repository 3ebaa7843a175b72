import { useCallback, useEffect, useState } from 'preact/hooks';
import { formatLongTime } from './format.js';
import { operationsApi, type ServerInfo, type Suppression } from './operations-api.js';
import { PageNav } from './page-nav.js';

/**
 * The suppression list (MTA mode): recipients refused at RCPT after a hard 5.1.x failure or by an
 * operator; add one, remove one so mail to it is accepted again.
 */
export function SuppressionsPage(props: { readonly info: ServerInfo | null }) {
  const [entries, setEntries] = useState<readonly Suppression[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [address, setAddress] = useState('');
  const [reason, setReason] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const reload = useCallback(async () => {
    try {
      const page = await operationsApi.suppressions(null);
      setEntries(page.suppressions);
      setNextCursor(page.nextCursor);
      setError(null);
    } catch (caught) {
      setError((caught as Error).message);
    }
  }, []);

  useEffect(() => {
    document.title = 'Suppressions · @smtp';
    void reload();
  }, [reload]);

  const loadMore = async () => {
    if (nextCursor === null) return;
    try {
      const page = await operationsApi.suppressions(nextCursor);
      setEntries((current) => [...current, ...page.suppressions]);
      setNextCursor(page.nextCursor);
    } catch (caught) {
      setError((caught as Error).message);
    }
  };

  const add = async (event: Event) => {
    event.preventDefault();
    try {
      const added = await operationsApi.addSuppression({
        address: address.trim(),
        ...(reason.trim() === '' ? {} : { reason: reason.trim() }),
      });
      setNotice(`${added.address} is suppressed.`);
      setAddress('');
      setReason('');
      void reload();
    } catch (caught) {
      setNotice((caught as Error).message);
    }
  };

  const remove = async (entry: Suppression) => {
    try {
      await operationsApi.removeSuppression(entry.address);
      setNotice(`${entry.address} is accepted again.`);
      setEntries((current) => current.filter((known) => known.address !== entry.address));
    } catch (caught) {
      setNotice((caught as Error).message);
    }
  };

  return (
    <div class="layout is-single">
      <header class="toolbar">
        <a class="brand" href="#/suppressions">
          <span class="brand-mark">@</span>smtp <span class="brand-sub">suppressions</span>
        </a>
        <PageNav info={props.info} current="suppressions" />
      </header>
      {error !== null && (
        <div class="error" role="alert">
          {error}
        </div>
      )}
      <main class="reader page">
        <form class="suppression-form" onSubmit={(event) => void add(event)}>
          <label>
            Address
            <input
              type="email"
              required
              placeholder="user@example.com"
              value={address}
              onInput={(event) => setAddress(event.currentTarget.value)}
            />
          </label>
          <label class="wide">
            Reason
            <input
              type="text"
              placeholder="added by an operator"
              value={reason}
              onInput={(event) => setReason(event.currentTarget.value)}
            />
          </label>
          <button type="submit" class="button primary">
            Suppress
          </button>
        </form>
        {notice !== null && (
          <p class="notice" role="status">
            {notice}
          </p>
        )}
        {entries.length === 0 ? (
          <p class="list-empty">No address is suppressed.</p>
        ) : (
          <table class="grid suppressions">
            <thead>
              <tr>
                <th>Address</th>
                <th>Reason</th>
                <th>Since</th>
                <th>From</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => (
                <tr key={entry.address} data-address={entry.address}>
                  <td class="address">{entry.address}</td>
                  <td>{entry.reason}</td>
                  <td>{formatLongTime(entry.createdAt)}</td>
                  <td>
                    {entry.messageId === null ? (
                      <span class="muted">operator</span>
                    ) : (
                      <a href={`#/queue/${encodeURIComponent(entry.messageId)}`}>message</a>
                    )}
                  </td>
                  <td>
                    <button type="button" class="button small danger" onClick={() => void remove(entry)}>
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {nextCursor !== null && (
          <button type="button" class="button load-more" onClick={() => void loadMore()}>
            Load older entries
          </button>
        )}
      </main>
    </div>
  );
}
