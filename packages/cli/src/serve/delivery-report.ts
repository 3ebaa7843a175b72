import { randomUUID } from 'node:crypto';
import { buildDsn, type DeliveryStatusNotification, deliveredRecipients } from '@smtp/protocol';
import type { SessionEnvelope } from '@smtp/server';

export interface DeliveryReportInit {
  /** Our host name: Reporting-MTA and the report's Message-ID domain. */
  readonly hostname: string;
  readonly envelope: SessionEnvelope;
  /** The start of the message as received: its header section is returned (text/rfc822-headers). */
  readonly originalStart: Uint8Array;
  readonly arrivalDate: Date;
}

/**
 * The "delivered" report a server that offers DSN owes at final delivery (RFC 3461 §5.2.3): one
 * multipart/report for the message, one group per recipient whose NOTIFY holds SUCCESS, built by the
 * core's buildDsn. Null when none is owed (`<>`, NOTIFY=NEVER or no SUCCESS). A success report carries
 * the original's headers only, whatever RET says: RET=FULL is about failed DSNs (RFC 3461 §4.3).
 */
export function deliveryReport(init: DeliveryReportInit): DeliveryStatusNotification | null {
  const { envelope, hostname } = init;
  const recipients = deliveredRecipients(envelope.from, envelope.recipients, {
    kind: 'name',
    name: hostname,
  });
  if (recipients.length === 0) return null;
  return buildDsn({
    reportingMta: hostname,
    reversePath: envelope.from,
    ...(envelope.parameters.envid === undefined ? {} : { envelopeId: envelope.parameters.envid }),
    ...(envelope.parameters.ret === undefined ? {} : { ret: envelope.parameters.ret }),
    arrivalDate: init.arrivalDate,
    now: new Date(),
    messageId: `<${randomUUID()}@${hostname}>`,
    recipients,
    originalHeaders: init.originalStart,
    originalSmtpUtf8: envelope.parameters.smtpUtf8 === true,
    random: (length) => crypto.getRandomValues(new Uint8Array(length)),
  });
}
