import { useEffect, useState } from 'preact/hooks';
import type { HtmlCheckWire, ListUnsubscribeReportWire } from '../http/schemas/index.js';
import { api } from './api.js';

/** The Checks tab: List-Unsubscribe (RFC 2369/8058) and HTML compatibility (caniemail). */
export function MessageChecks({ id }: { readonly id: string }) {
  const [unsubscribe, setUnsubscribe] = useState<ListUnsubscribeReportWire | null>(null);
  const [html, setHtml] = useState<HtmlCheckWire | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let isCurrent = true;
    const fail = (caught: Error) => isCurrent && setError(caught.message);
    api.listUnsubscribe(id).then((report) => isCurrent && setUnsubscribe(report), fail);
    api.htmlCheck(id).then((report) => isCurrent && setHtml(report), fail);
    return () => {
      isCurrent = false;
    };
  }, [id]);
  if (error !== null)
    return (
      <div class="error" role="alert">
        {error}
      </div>
    );
  return (
    <div class="checks">
      <section class="check" aria-label="List-Unsubscribe">
        <h2>List-Unsubscribe</h2>
        {unsubscribe === null ? (
          <p class="muted">Checking…</p>
        ) : (
          <>
            <p>
              {unsubscribe.header === null ? (
                'No List-Unsubscribe header.'
              ) : (
                <code>{unsubscribe.header}</code>
              )}
            </p>
            <ul class="check-facts">
              <li>One-click (RFC 8058): {unsubscribe.isOneClick ? 'yes' : 'no'}</li>
              <li>
                Covered by DKIM:{' '}
                {unsubscribe.isDkimCovered === null
                  ? 'no signature'
                  : unsubscribe.isDkimCovered
                    ? 'yes'
                    : 'no'}
              </li>
            </ul>
            <Findings findings={unsubscribe.findings} />
          </>
        )}
      </section>
      <section class="check" aria-label="HTML compatibility">
        <h2>HTML compatibility</h2>
        {html === null ? (
          <p class="muted">Checking…</p>
        ) : !html.hasHtml ? (
          <p>No HTML part.</p>
        ) : (
          <>
            <p class="html-score">
              {html.score.supported}% supported · {html.score.partial}% partly · {html.score.unsupported}%
              unsupported, over {html.clients.length} clients
            </p>
            {html.features.length === 0 ? (
              <p>No feature with limited support found.</p>
            ) : (
              <table class="html-features">
                <thead>
                  <tr>
                    <th>Feature</th>
                    <th>Not supported by</th>
                    <th>Partly</th>
                  </tr>
                </thead>
                <tbody>
                  {html.features.map((feature) => (
                    <tr key={feature.name}>
                      <th>{feature.name}</th>
                      <td>{feature.unsupported.join(', ') || '—'}</td>
                      <td title={feature.notes.join('\n')}>{feature.partial.join(', ') || '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <p class="muted">Data: caniemail.com</p>
          </>
        )}
      </section>
    </div>
  );
}

function Findings({ findings }: { readonly findings: ListUnsubscribeReportWire['findings'] }) {
  if (findings.length === 0) return <p class="check-ok">No problems found.</p>;
  return (
    <ul class="findings">
      {findings.map((finding) => (
        <li key={finding.code} class={`finding is-${finding.level}`}>
          <strong>{finding.level}</strong> {finding.message}
        </li>
      ))}
    </ul>
  );
}
