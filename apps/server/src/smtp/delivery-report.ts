import { randomUUID } from 'node:crypto';
import { buildDsn, deliveredRecipients, dsnChunks, serializeMailbox } from '@smtp/protocol';
import type { SessionEnvelope } from '@smtp/server';
import type { IngestInput } from '../pipeline/ingest-pipeline.js';
import { createMessageId } from '../pipeline/message-id.js';

/** The companion table linking a captured delivery report to its original (sqlite-schema.ts, version 4). */
export const dsnLinksTable = 'dsn_links';

export interface DeliveryReportInit {
  /** Our name: Reporting-MTA and the report's Message-ID domain. */
  readonly hostname: string;
  readonly envelope: SessionEnvelope;
  /** The captured message's id: the report is linked to it. */
  readonly originalId: string;
  readonly originalReceivedAtMs: number;
  /** The message as received; its header section is returned in the report. */
  readonly originalRaw: Uint8Array;
}

/**
 * The "delivered" report capture mode owes as a final destination that offers DSN (RFC 3461 §5.2.3),
 * as a message for the pipeline to capture like any other: from `<>` to the original's sender, with
 * a link row to the original committed in the same transaction. Null when no recipient's NOTIFY
 * holds SUCCESS, or for the null sender. Built by the core's buildDsn; a success report returns
 * the original's headers only, RET=FULL being about failures (RFC 3461 §4.3).
 */
export function deliveryReportInput(init: DeliveryReportInit): IngestInput | null {
  const { envelope, hostname } = init;
  const recipients = deliveredRecipients(envelope.from, envelope.recipients, {
    kind: 'name',
    name: hostname,
  });
  if (recipients.length === 0) return null;
  const now = Date.now();
  const report = buildDsn({
    reportingMta: hostname,
    reversePath: envelope.from,
    ...(envelope.parameters.envid === undefined ? {} : { envelopeId: envelope.parameters.envid }),
    ...(envelope.parameters.ret === undefined ? {} : { ret: envelope.parameters.ret }),
    arrivalDate: new Date(init.originalReceivedAtMs),
    now: new Date(now),
    messageId: `<${randomUUID()}@${hostname}>`,
    recipients,
    originalHeaders: init.originalRaw,
    originalSmtpUtf8: envelope.parameters.smtpUtf8 === true,
    random: (length) => crypto.getRandomValues(new Uint8Array(length)),
  });
  const id = createMessageId(now);
  return {
    id,
    receivedAtMs: now,
    envelope: {
      from: '',
      to: [serializeMailbox(report.envelope.recipient)],
      mailParameters: {
        BODY: report.body,
        ...(report.smtpUtf8 ? { SMTPUTF8: '' } : {}),
      },
      rcptParameters: [{}],
    },
    session: null,
    source: [...dsnChunks(report, [init.originalRaw])],
    companionRows: [{ table: dsnLinksTable, values: { report_id: id, original_id: init.originalId } }],
  };
}
