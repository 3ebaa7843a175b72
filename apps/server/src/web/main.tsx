import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { InboundPage } from './inbound-page.js';
import { InboxPage } from './inbox-page.js';
import { operationsApi, type ServerInfo } from './operations-api.js';
import { type PageName, pageFromHash } from './page-nav.js';
import { QueuePage } from './queue-page.js';
import { SuppressionsPage } from './suppressions-page.js';

/** The pages by the URL's hash: #/ (and #/message/…) the inbox, #/queue…, #/suppressions, #/inbound…. */
function App() {
  const [page, setPage] = useState<PageName>(pageFromHash);
  // The server's mode decides which pages the navigation offers (the queue exists in MTA mode only,
  // the inbound log with an mx listener only).
  const [info, setInfo] = useState<ServerInfo | null>(null);
  useEffect(() => {
    operationsApi.info().then(setInfo, () => setInfo({ mode: 'capture', inbound: false }));
    const onHash = () => setPage(pageFromHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  if (page === 'queue') return <QueuePage info={info} />;
  if (page === 'suppressions') return <SuppressionsPage info={info} />;
  if (page === 'inbound') return <InboundPage info={info} />;
  return <InboxPage info={info} />;
}

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
