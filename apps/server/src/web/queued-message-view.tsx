import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { formatLongTime } from './format.js';
import {
  type DeliveryAttempt,
  operationsApi,
  type QueueAction,
  type QueuedDelivery,
  type QueuedMessage,
} from './operations-api.js';
import { describeSender, formatRelative } from './queue-rows.js';

/** Whom an action is for: every delivery of the message, or one. */
export type ActionTarget = { readonly messageId: string } | { readonly deliveryId: number };

export const actionLabels: Readonly<Record<QueueAction, string>> = {
  'retry-now': 'Retry now',
  hold: 'Hold',
  release: 'Release',
  bounce: 'Bounce',
  delete: 'Delete',
};
const actionOrder = Object.keys(actionLabels) as QueueAction[];

export interface QueuedMessageViewProps {
  readonly messageId: string;
  /** Changes when an event concerns this message: it is loaded again. */
  readonly version: number;
  /** What the last action did or why it was refused. */
  readonly notice: string | null;
  readonly onAct: (target: ActionTarget, action: QueueAction) => void;
  readonly onBack: () => void;
}

/** One queued message: envelope, each recipient's state and actions, every attempt with its transcript. */
export function QueuedMessageView(props: QueuedMessageViewProps) {
  const [message, setMessage] = useState<QueuedMessage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [subject, setSubject] = useState<string | null>(null);

  // The subject from the mailbox, which keeps outbound mail too; a message pruned there has none.
  useEffect(() => {
    let isCurrent = true;
    api.get(props.messageId).then(
      (stored) => isCurrent && setSubject(stored.subject === '' ? '(no subject)' : stored.subject),
      () => undefined,
    );
    return () => {
      isCurrent = false;
    };
  }, [props.messageId]);

  useEffect(() => {
    let isCurrent = true;
    operationsApi.queuedMessage(props.messageId).then(
      (loaded) => {
        if (!isCurrent) return;
        setMessage(loaded);
        setError(null);
      },
      (caught: Error) => isCurrent && setError(caught.message),
    );
    return () => {
      isCurrent = false;
    };
  }, [props.messageId, props.version]);

  if (error !== null)
    return (
      <div class="error" role="alert">
        {error}
      </div>
    );
  if (message === null) return <div class="loading">Loading…</div>;

  const first = message.deliveries[0];
  const admits = (action: QueueAction) =>
    message.deliveries.some((delivery) => delivery.actions.includes(action));
  const recipientOf = new Map(message.deliveries.map((delivery) => [delivery.id, delivery.recipient]));
  const attempts = [...message.attempts].sort((a, b) => b.startedAt - a.startedAt || b.id - a.id);

  return (
    <article class="message queued-message" aria-label={`Queued message ${message.messageId}`}>
      <div class="message-actions">
        <button type="button" class="button back" onClick={props.onBack} aria-label="Back to the list">
          ←
        </button>
        {actionOrder.map((action) => (
          <button
            key={action}
            type="button"
            class={`button${action === 'bounce' || action === 'delete' ? ' danger' : ''}`}
            disabled={!admits(action)}
            onClick={() => props.onAct({ messageId: message.messageId }, action)}
          >
            {actionLabels[action]}
          </button>
        ))}
        <a class="button" href={`#/message/${encodeURIComponent(message.messageId)}`}>
          Open in inbox
        </a>
      </div>
      {props.notice !== null && (
        <p class="notice" role="status">
          {props.notice}
        </p>
      )}
      <h1 class="subject">{subject ?? `Message ${message.messageId}`}</h1>
      <dl class="summary">
        <dt>Message id</dt>
        <dd class="address">{message.messageId}</dd>
        <dt>MAIL FROM</dt>
        <dd class="address">{first === undefined ? '—' : describeSender(first.sender)}</dd>
        <dt>Arrived</dt>
        <dd>{first === undefined ? '—' : formatLongTime(first.arrivedAt)}</dd>
        <dt>Recipients</dt>
        <dd>{message.deliveries.length}</dd>
      </dl>
      <h2 class="section-title">Recipients</h2>
      <table class="grid deliveries">
        <thead>
          <tr>
            <th>Recipient</th>
            <th>State</th>
            <th>Attempts</th>
            <th>Next try</th>
            <th>Last reply</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {message.deliveries.map((delivery) => (
            <DeliveryRow key={delivery.id} delivery={delivery} onAct={props.onAct} />
          ))}
        </tbody>
      </table>
      <h2 class="section-title">Attempts</h2>
      {attempts.length === 0 ? (
        <p class="muted">No attempt yet.</p>
      ) : (
        <ol class="attempts">
          {attempts.map((attempt) => (
            <AttemptItem
              key={attempt.id}
              attempt={attempt}
              recipient={recipientOf.get(attempt.deliveryId) ?? ''}
            />
          ))}
        </ol>
      )}
    </article>
  );
}

function DeliveryRow(props: {
  readonly delivery: QueuedDelivery;
  readonly onAct: (target: ActionTarget, action: QueueAction) => void;
}) {
  const { delivery } = props;
  return (
    <tr data-delivery-id={delivery.id}>
      <td class="address">{delivery.recipient}</td>
      <td>
        <span class={`status status-${delivery.status}`}>{delivery.status}</span>
        {delivery.failureCause !== null && <span class="muted"> ({delivery.failureCause})</span>}
      </td>
      <td>{delivery.attempts}</td>
      <td>
        {delivery.dueAt === null ? (
          '—'
        ) : (
          <time dateTime={new Date(delivery.dueAt).toISOString()} title={formatLongTime(delivery.dueAt)}>
            {formatRelative(delivery.dueAt)}
          </time>
        )}
      </td>
      <td class="reply">{delivery.lastReply ?? '—'}</td>
      <td class="row-actions">
        {delivery.actions.map((action) => (
          <button
            key={action}
            type="button"
            class={`button small${action === 'bounce' || action === 'delete' ? ' danger' : ''}`}
            onClick={() => props.onAct({ deliveryId: delivery.id }, action)}
          >
            {actionLabels[action]}
          </button>
        ))}
      </td>
    </tr>
  );
}

function AttemptItem(props: { readonly attempt: DeliveryAttempt; readonly recipient: string }) {
  const { attempt } = props;
  return (
    <li class={`attempt attempt-${attempt.outcome}`} data-attempt-id={attempt.id}>
      <div class="attempt-head">
        <span class={`status status-${attempt.outcome}`}>{attempt.outcome}</span>
        <time dateTime={new Date(attempt.startedAt).toISOString()}>{formatLongTime(attempt.startedAt)}</time>
        <span class="muted">{attempt.endedAt - attempt.startedAt} ms</span>
        <span class="address">{props.recipient}</span>
      </div>
      <dl class="details">
        <dt>MX host</dt>
        <dd class="mx-host">{attempt.mxHost ?? '(none reached)'}</dd>
        <dt>TLS</dt>
        <dd>{attempt.tls === null ? '—' : attempt.tls ? 'yes' : 'no'}</dd>
        <dt>Reply</dt>
        <dd class="reply">{attempt.reply ?? attempt.error ?? '—'}</dd>
        <dt>Status</dt>
        <dd>
          {attempt.status} <span class="muted">({attempt.rule})</span>
        </dd>
      </dl>
      <details class="transcript">
        <summary>Transcript</summary>
        <pre class="raw">{attempt.transcript === '' ? '(empty)' : attempt.transcript}</pre>
      </details>
    </li>
  );
}
