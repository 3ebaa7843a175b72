import { useEffect, useState } from 'preact/hooks';
import { formatLongTime } from './format.js';
import { verdictTone } from './inbound-verdicts.js';
import { type InboundDelivery, type InboundMessage, operationsApi } from './operations-api.js';

/** Where a delivery went: a Maildir file, an LMTP server, or a remote MX host. */
function destinationOf(delivery: InboundDelivery): string {
  if (delivery.via === null) return 'not tried yet';
  if (delivery.via === 'maildir') return delivery.detail === null ? 'Maildir' : `Maildir ${delivery.detail}`;
  if (delivery.via.startsWith('lmtp:')) return `LMTP ${delivery.via.slice('lmtp:'.length)}`;
  return `MX ${delivery.via}`;
}

/** One received message: every check's finding with its reason, the expansion, the deliveries. */
export function InboundMessageView(props: { readonly messageId: string }) {
  const [message, setMessage] = useState<InboundMessage | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let isCurrent = true;
    setMessage(null);
    setError(null);
    operationsApi.inboundMessage(props.messageId).then(
      (loaded) => isCurrent && setMessage(loaded),
      (caught: Error) => isCurrent && setError(caught.message),
    );
    return () => {
      isCurrent = false;
    };
  }, [props.messageId]);

  if (error !== null)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  if (message === null) return <p class="list-empty">Loading…</p>;
  return (
    <article class="inbound-message">
      <p>
        <a href="#/inbound">← All inbound messages</a>
      </p>
      <h1 class="subject">{message.messageId}</h1>
      <dl class="facts">
        <dt>Received</dt>
        <dd>
          <time dateTime={new Date(message.receivedAt).toISOString()}>
            {formatLongTime(message.receivedAt)}
          </time>
        </dd>
        <dt>Client</dt>
        <dd class="address">
          {message.client.address} (HELO {message.client.helo})
          {message.client.tls === null
            ? ', no TLS'
            : `, ${message.client.tls.protocol} ${message.client.tls.cipher}`}
        </dd>
        <dt>Sender</dt>
        <dd class="address">{message.sender === '' ? '<>' : message.sender}</dd>
      </dl>

      <h2 class="section-title">Checks</h2>
      <table class="grid checks">
        <thead>
          <tr>
            <th>Check</th>
            <th>Result</th>
            <th>Reason</th>
          </tr>
        </thead>
        <tbody>
          {message.checks.map((finding, index) => (
            <tr key={`${finding.check}-${index}`} data-check={finding.check}>
              <td>{finding.check}</td>
              <td>
                <span class={`verdict verdict-${verdictTone(finding.result)} result`}>{finding.result}</span>
              </td>
              <td class="reason">{finding.reason ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2 class="section-title">Recipients</h2>
      <table class="grid expansions">
        <thead>
          <tr>
            <th>RCPT</th>
            <th>Expanded to</th>
          </tr>
        </thead>
        <tbody>
          {message.recipients.map((entry) => (
            <tr key={entry.recipient}>
              <td class="address">{entry.recipient}</td>
              <td class="address">
                {entry.targets.map((target) => (
                  <div key={`${target.kind}:${target.address}`} class={`target target-${target.kind}`}>
                    {target.kind === 'forward' ? 'forward to ' : 'mailbox '}
                    {target.address}
                  </div>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2 class="section-title">Deliveries</h2>
      {message.deliveries.length === 0 ? (
        <p class="list-empty">No delivery (refused or not queued).</p>
      ) : (
        <table class="grid inbound-deliveries">
          <thead>
            <tr>
              <th>Recipient</th>
              <th>Status</th>
              <th>Went to</th>
              <th>Reply</th>
            </tr>
          </thead>
          <tbody>
            {message.deliveries.map((delivery) => (
              <tr key={delivery.deliveryId} data-recipient={delivery.recipient}>
                <td class="address">
                  {delivery.recipient}
                  {delivery.sender !== message.sender && (
                    <div class="muted">from {delivery.sender || '<>'}</div>
                  )}
                </td>
                <td>
                  <span class={`status status-${delivery.status}`}>{delivery.status}</span>
                </td>
                <td class="address destination">{destinationOf(delivery)}</td>
                <td class="reply">{delivery.lastReply ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </article>
  );
}
