import { useState } from 'preact/hooks';
import { api, type Message, type ReleaseRequest } from './api.js';

const storageKey = 'smtp-app.release-target';

interface SavedTarget {
  host: string;
  port: string;
  security: ReleaseRequest['security'];
  allowInvalidCertificate: boolean;
  username: string;
}

function savedTarget(): SavedTarget {
  try {
    const saved = JSON.parse(localStorage.getItem(storageKey) ?? 'null') as SavedTarget | null;
    if (saved !== null) return saved;
  } catch {
    // fall through to the defaults
  }
  return { host: '', port: '25', security: 'opportunistic', allowInvalidCertificate: false, username: '' };
}

/** Relay the captured message, unchanged, to a real SMTP server. The target (minus password) is remembered. */
export function ReleaseForm(props: { readonly message: Message; readonly onClose: () => void }) {
  const [target, setTarget] = useState<SavedTarget>(savedTarget);
  const [password, setPassword] = useState('');
  const [to, setTo] = useState(props.message.envelope.to.join(', '));
  const [status, setStatus] = useState<{ kind: 'idle' | 'sending' | 'done' | 'failed'; text: string }>({
    kind: 'idle',
    text: '',
  });

  const submit = async (event: Event) => {
    event.preventDefault();
    setStatus({ kind: 'sending', text: 'Sending…' });
    localStorage.setItem(storageKey, JSON.stringify(target));
    try {
      const result = await api.release(props.message.id, {
        host: target.host.trim(),
        port: Number(target.port),
        security: target.security,
        allowInvalidCertificate: target.allowInvalidCertificate,
        ...(target.username === '' ? {} : { username: target.username, password }),
        to: to
          .split(',')
          .map((address) => address.trim())
          .filter((address) => address !== ''),
      });
      const refused = result.rejected.map((item) => `${item.to}: ${item.reply}`).join('; ');
      setStatus({
        kind: 'done',
        text: `Released: ${result.reply}${refused === '' ? '' : ` (refused ${refused})`}`,
      });
    } catch (caught) {
      setStatus({ kind: 'failed', text: (caught as Error).message });
    }
  };

  return (
    <form class="release" onSubmit={(event) => void submit(event)} aria-label="Release message">
      <label>
        SMTP host
        <input
          required
          name="host"
          value={target.host}
          onInput={(event) => setTarget({ ...target, host: event.currentTarget.value })}
        />
      </label>
      <label>
        Port
        <input
          required
          name="port"
          type="number"
          min="1"
          max="65535"
          value={target.port}
          onInput={(event) => setTarget({ ...target, port: event.currentTarget.value })}
        />
      </label>
      <label>
        Security
        <select
          name="security"
          value={target.security}
          onChange={(event) =>
            setTarget({ ...target, security: event.currentTarget.value as SavedTarget['security'] })
          }
        >
          <option value="opportunistic">STARTTLS if offered</option>
          <option value="starttls">STARTTLS required</option>
          <option value="tls">Implicit TLS (465)</option>
          <option value="none">None</option>
        </select>
      </label>
      <label class="wide">
        Recipients
        <input required name="to" value={to} onInput={(event) => setTo(event.currentTarget.value)} />
      </label>
      <label>
        Username
        <input
          name="username"
          autoComplete="off"
          value={target.username}
          onInput={(event) => setTarget({ ...target, username: event.currentTarget.value })}
        />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autoComplete="off"
          value={password}
          onInput={(event) => setPassword(event.currentTarget.value)}
        />
      </label>
      <label class="check">
        <input
          type="checkbox"
          checked={target.allowInvalidCertificate}
          onChange={(event) => setTarget({ ...target, allowInvalidCertificate: event.currentTarget.checked })}
        />
        Accept invalid certificates
      </label>
      <div class="release-actions">
        <button type="submit" class="button primary" disabled={status.kind === 'sending'}>
          Release
        </button>
        <button type="button" class="button" onClick={props.onClose}>
          Cancel
        </button>
        <output class={`release-status is-${status.kind}`}>{status.text}</output>
      </div>
    </form>
  );
}
