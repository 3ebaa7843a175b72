import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { InboxPage } from './inbox-page.js';
import { operationsApi, type ServerInfo } from './operations-api.js';
import { type PageName, pageFromHash } from './page-nav.js';
import { QueuePage } from './queue-page.js';
import { SuppressionsPage } from './suppressions-page.js';

/** The pages by the URL's hash: #/ (and #/message/…) the inbox, #/queue…, #/suppressions. */
function App() {
  const [page, setPage] = useState<PageName>(pageFromHash);
  // The server's mode decides which pages the navigation offers (the queue exists in MTA mode only).
  const [mode, setMode] = useState<ServerInfo['mode'] | null>(null);
  useEffect(() => {
    operationsApi.info().then(
      (info) => setMode(info.mode),
      () => setMode('capture'),
    );
    const onHash = () => setPage(pageFromHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  if (page === 'queue') return <QueuePage mode={mode} />;
  if (page === 'suppressions') return <SuppressionsPage mode={mode} />;
  return <InboxPage mode={mode} />;
}

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
