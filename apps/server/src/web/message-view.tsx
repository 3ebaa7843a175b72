import { decodeWords } from 'postal-mime';
import { useEffect, useState } from 'preact/hooks';
import { api, type Message, messageUrl } from './api.js';
import { DsnLinks } from './dsn-links.js';
import { formatAddress, formatAddresses, formatBytes, formatLongTime } from './format.js';
import { MessageChecks } from './message-checks.js';
import { blindCopiesOf, greetingCommandOf, listedAttachmentsOf } from './message-facts.js';
import { ReleaseForm } from './release-form.js';
import { TagEditor } from './tag-editor.js';

type Tab = 'html' | 'text' | 'headers' | 'raw' | 'envelope' | 'checks';

export interface MessageViewProps {
  readonly id: string;
  readonly onBack: () => void;
  readonly onDelete: () => void;
  readonly onRead: (id: string, isRead: boolean) => void;
}

export function MessageView(props: MessageViewProps) {
  const [message, setMessage] = useState<Message | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tab, setTab] = useState<Tab>('html');
  const [isRemoteAllowed, setIsRemoteAllowed] = useState(false);
  const [raw, setRaw] = useState<string | null>(null);
  const [isReleasing, setIsReleasing] = useState(false);

  useEffect(() => {
    let isCurrent = true;
    api.get(props.id).then(
      (loaded) => {
        if (!isCurrent) return;
        setMessage(loaded);
        setTab(loaded.html === null ? 'text' : 'html');
        // Opening marks it read, as in every mail client: explicitly, since a GET changes nothing.
        if (loaded.isRead) return;
        api.setRead(loaded.id, true).then(
          () => {
            props.onRead(loaded.id, true);
            if (isCurrent) setMessage({ ...loaded, isRead: true });
          },
          (caught: Error) => isCurrent && setError(caught.message),
        );
      },
      (caught: Error) => isCurrent && setError(caught.message),
    );
    return () => {
      isCurrent = false;
    };
  }, [props.id]);

  useEffect(() => {
    if (tab === 'raw' && raw === null)
      void api.raw(props.id).then(setRaw, (caught: Error) => setError(caught.message));
  }, [tab, raw, props.id]);

  if (error !== null)
    return (
      <div class="error" role="alert">
        {error}
      </div>
    );
  if (message === null) return <div class="loading">Loading…</div>;

  const markUnread = async () => {
    await api.setRead(message.id, false);
    props.onRead(message.id, false);
    setMessage({ ...message, isRead: false });
  };
  const blindCopies = blindCopiesOf(message);
  // Inline images the HTML shows (cid:) are part of the message, not files to download.
  const attachments = listedAttachmentsOf(message);
  const tabs: readonly [Tab, string][] = [
    ['html', 'HTML'],
    ['text', 'Text'],
    ['headers', 'Headers'],
    ['raw', 'Raw'],
    ['envelope', 'SMTP'],
    ['checks', 'Checks'],
  ];

  return (
    <article class="message" aria-label={message.subject}>
      <div class="message-actions">
        <button type="button" class="button back" onClick={props.onBack} aria-label="Back to the list">
          ←
        </button>
        <button type="button" class="button" onClick={() => void markUnread()}>
          Mark unread
        </button>
        <a class="button" href={`${messageUrl(message.id)}/raw?download=1`} download>
          Download .eml
        </a>
        <button
          type="button"
          class="button"
          onClick={() => setIsReleasing(!isReleasing)}
          aria-expanded={isReleasing}
        >
          Release…
        </button>
        <button type="button" class="button danger" onClick={props.onDelete}>
          Delete
        </button>
      </div>
      <h1 class="subject">{message.subject === '' ? '(no subject)' : message.subject}</h1>
      <dl class="summary">
        <dt>From</dt>
        <dd>{formatAddress(message.from)}</dd>
        <dt>To</dt>
        <dd>{formatAddresses(message.to) || '—'}</dd>
        {message.cc.length > 0 && (
          <>
            <dt>Cc</dt>
            <dd>{formatAddresses(message.cc)}</dd>
          </>
        )}
        {blindCopies.length > 0 && (
          <>
            <dt>Bcc</dt>
            <dd title="Envelope recipients that the To and Cc headers do not name">
              {formatAddresses(blindCopies)}
            </dd>
          </>
        )}
        {message.replyTo.length > 0 && (
          <>
            <dt>Reply-To</dt>
            <dd>{formatAddresses(message.replyTo)}</dd>
          </>
        )}
        <dt>Received</dt>
        <dd>
          {formatLongTime(message.receivedAtMs)} · {formatBytes(message.sizeBytes)}
        </dd>
        <dt>Tags</dt>
        <dd>
          <TagEditor
            id={message.id}
            tags={message.tags}
            onChange={(tags) => setMessage({ ...message, tags: [...tags] })}
          />
        </dd>
      </dl>
      <DsnLinks related={message.related} />
      {isReleasing && <ReleaseForm message={message} onClose={() => setIsReleasing(false)} />}
      {attachments.length > 0 && (
        <ul class="attachments" aria-label="Attachments">
          {attachments.map((attachment) => (
            <li key={attachment.index}>
              <a
                href={`${messageUrl(message.id)}/attachments/${attachment.index}`}
                download={attachment.filename ?? ''}
              >
                📎 {attachment.filename ?? `attachment ${attachment.index + 1}`}
              </a>{' '}
              <span class="muted">
                {attachment.contentType} · {formatBytes(attachment.sizeBytes)}
              </span>
            </li>
          ))}
        </ul>
      )}
      <div class="tabs" role="tablist">
        {tabs.map(([name, label]) => (
          <button
            type="button"
            role="tab"
            key={name}
            aria-selected={tab === name}
            class={`tab${tab === name ? ' is-active' : ''}`}
            onClick={() => setTab(name)}
            disabled={name === 'html' && message.html === null}
          >
            {label}
          </button>
        ))}
      </div>
      <section class="tab-panel" role="tabpanel">
        {tab === 'html' && message.html !== null && (
          <>
            {message.hasRemoteContent && (
              <div class="notice">
                {isRemoteAllowed
                  ? 'Remote content is shown.'
                  : 'Remote content (images, fonts, styles) is blocked.'}{' '}
                <button type="button" class="link" onClick={() => setIsRemoteAllowed(!isRemoteAllowed)}>
                  {isRemoteAllowed ? 'Block it' : 'Show remote content'}
                </button>
              </div>
            )}
            {/* No allow-scripts, no allow-same-origin: the message cannot run code or reach the app. */}
            <iframe
              class="preview"
              title="HTML preview"
              sandbox="allow-popups allow-popups-to-escape-sandbox"
              referrerpolicy="no-referrer"
              src={`${messageUrl(message.id)}/html${isRemoteAllowed ? '?remote=1' : ''}`}
            />
          </>
        )}
        {tab === 'text' && <pre class="text-body">{message.text ?? '(no text part)'}</pre>}
        {tab === 'headers' && (
          <table class="headers">
            <tbody>
              {message.headers.map((header, index) => (
                <tr key={index}>
                  <th>{header.name}</th>
                  {/* RFC 2047 encoded words (=?UTF-8?B?…?=) shown decoded; the Raw tab has them as sent. */}
                  <td>{decodeWords(header.value)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {tab === 'raw' && <pre class="raw">{raw ?? 'Loading…'}</pre>}
        {tab === 'envelope' && <EnvelopeDetails message={message} />}
        {tab === 'checks' && <MessageChecks id={message.id} />}
      </section>
    </article>
  );
}

function EnvelopeDetails({ message }: { readonly message: Message }) {
  const session = message.session;
  return (
    <dl class="details">
      <dt>MAIL FROM</dt>
      <dd>
        &lt;{message.envelope.from}&gt;
        {describeParameters(message.envelope.mailParameters)}
      </dd>
      <dt>RCPT TO</dt>
      {message.envelope.to.map((to, index) => (
        <dd key={`${index}:${to}`} class="recipient">
          &lt;{to}&gt;{describeParameters(message.envelope.rcptParameters[index] ?? {})}
        </dd>
      ))}
      <dt>Message id</dt>
      <dd>{message.id}</dd>
      {session !== null && (
        <>
          <dt>Client</dt>
          <dd>
            {session.remoteAddress}:{session.remotePort} (
            {session.helo === '' ? 'no HELO' : `${greetingCommandOf(session.protocol)} ${session.helo}`})
          </dd>
          <dt>Server</dt>
          <dd>
            {session.localAddress}:{session.localPort} · {session.protocol}
          </dd>
          <dt>TLS</dt>
          <dd>{session.tls === null ? 'none' : `${session.tls.protocol} ${session.tls.cipher}`}</dd>
          <dt>AUTH</dt>
          <dd>{session.authenticatedUser ?? 'none'}</dd>
        </>
      )}
    </dl>
  );
}

/** ESMTP parameters as they follow a path: ` KEY=value`, a flag without `=`; "" when there are none. */
function describeParameters(parameters: Readonly<Record<string, string>>): string {
  return Object.entries(parameters)
    .map(([keyword, value]) => ` ${keyword}${value === '' ? '' : `=${value}`}`)
    .join('');
}
