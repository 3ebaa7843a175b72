import type { Message } from './api.js';

/**
 * Links between a message and the delivery reports (DSN) captured for it: "Delivery report →" on a
 * message whose recipients asked for NOTIFY=SUCCESS, "Report for ←" on the report itself.
 */
export function DsnLinks(props: { readonly related: Message['related'] }) {
  const { dsnFor, dsnReports } = props.related;
  if (dsnFor === null && dsnReports.length === 0) return null;
  return (
    <p class="dsn-links">
      {dsnFor !== null && (
        <a class="button" href={`#/message/${dsnFor}`}>
          Report for ←
        </a>
      )}
      {dsnReports.map((reportId) => (
        <a key={reportId} class="button" href={`#/message/${reportId}`}>
          Delivery report →
        </a>
      ))}
    </p>
  );
}
