import { mailboxWithAsciiDomain } from '../address/idna.js';
import type { Mailbox } from '../address/mailbox.js';
import { serializeMailbox } from '../address/serialize-path.js';
import { encodeUtf8, isAscii } from '../bytes/utf8.js';
import { encodeUtf8AddressXtext } from '../bytes/utf8-address-text.js';
import { SmtpUsageError } from '../errors.js';
import type { Reply } from '../reply/reply.js';
import type { DeliveryStatusNotification, DsnAction, DsnInit, DsnRecipient } from './dsn-types.js';
import { formatMessageDate } from './message-date.js';

const subjects = {
  failed: 'Undelivered Mail Returned to Sender',
  delayed: 'Delayed Mail (still being retried)',
  success: 'Successful Mail Delivery Report',
} as const;

const introductions = {
  failed: 'Your message could not be delivered to one or more recipients.',
  delayed:
    'Your message has not been delivered yet to one or more recipients. Nothing needs doing: we keep trying.',
  success: 'Your message was delivered as you asked to be told.',
} as const;

/** RFC 5322 §2.1.1: lines SHOULD be at most 78 characters; folding keeps fields under it where it can. */
const foldWidth = 78;
/** A field value longer than this is cut: RFC 5322's hard limit is 998 per line, and one word has no fold. */
const maxValueLength = 900;

/**
 * Builds a delivery status notification (RFC 3464): a multipart/report; report-type=delivery-status
 * message from `<>` to the original sender, holding a human-readable text/plain part, the
 * message/delivery-status part (per-message fields, then one group per recipient) and the original:
 * the whole message (message/rfc822) when RET=FULL asked for it on a failure, else its header section
 * (text/rfc822-headers). RFC 3461 §4.3: without RET an MTA may return either; the headers are enough to
 * recognise the message, and the sender has the rest. A report with no failure returns only headers.
 *
 * When an address or the returned headers hold UTF-8 the report is RFC 6533's "global" form:
 * message/global-delivery-status with `utf-8` address types, message/global(-headers), and
 * `smtpUtf8: true` so the queue sends it with SMTPUTF8.
 *
 * Pure: dates, the Message-ID and the boundary's randomness come from the caller, and the original
 * body is never copied: the caller sends `before`, the original, `after` (see {@link dsnChunks}).
 */
export function buildDsn(init: DsnInit): DeliveryStatusNotification {
  const { reversePath } = init;
  if (reversePath === null) throw new SmtpUsageError('A DSN is never sent to the null reverse-path <>');
  if (init.recipients.length === 0) throw new SmtpUsageError('A DSN reports at least one recipient');
  assertHeaderText(init.reportingMta, 'reportingMta');
  assertHeaderText(init.messageId, 'messageId');

  const headerSection = cutHeaderSection(init.originalHeaders);
  const envelopeRecipient = asciiDomainForm(reversePath);
  const global =
    !isAsciiText(serializeMailbox(envelopeRecipient)) ||
    init.recipients.some(
      (recipient) =>
        !isAsciiText(serializeMailbox(asciiDomainForm(recipient.finalRecipient))) ||
        !isAsciiText(recipient.originalRecipient?.address ?? ''),
    ) ||
    !isAscii(headerSection);
  const severity = mostSevere(init.recipients.map((recipient) => recipient.action));
  const returned = severity === 'failed' && init.ret === 'FULL' ? 'message' : 'headers';
  const eightBit = global || (returned === 'message' && init.originalEightBit === true);
  const boundary = `=_dsn_${hex(init.random(16))}`;
  const transferEncoding = eightBit ? '8bit' : '7bit';
  const text = (value: string) => sanitize(value, global);

  const header = [
    `From: Mail Delivery System <MAILER-DAEMON@${init.reportingMta}>`,
    `To: <${serializeMailbox(envelopeRecipient)}>`,
    `Subject: ${subjects[severity]}`,
    `Date: ${formatMessageDate(init.now)}`,
    `Message-ID: ${init.messageId}`,
    'Auto-Submitted: auto-replied', // RFC 3834 §5
    'MIME-Version: 1.0',
    fold(`Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`),
    `Content-Transfer-Encoding: ${transferEncoding}`,
  ];

  const perMessage = [
    `Reporting-MTA: dns; ${init.reportingMta}`,
    ...(init.envelopeId === undefined ? [] : [fold(`Original-Envelope-Id: ${text(init.envelopeId)}`)]),
    `Arrival-Date: ${formatMessageDate(init.arrivalDate)}`,
  ];
  const perRecipient = init.recipients.map((recipient) => recipientFields(recipient, global, text));
  const deliveryStatus = [perMessage, ...perRecipient].map((group) => group.join('\r\n')).join('\r\n\r\n');

  const returnedType = global
    ? returned === 'message'
      ? 'message/global'
      : 'message/global-headers'
    : returned === 'message'
      ? 'message/rfc822'
      : 'text/rfc822-headers';

  const beforeText =
    `${header.join('\r\n')}\r\n\r\n` +
    'This is a MIME-encapsulated message: a delivery status notification (RFC 3464).\r\n\r\n' +
    `--${boundary}\r\n` +
    `Content-Type: text/plain; charset=${global ? 'utf-8' : 'us-ascii'}\r\n` +
    `Content-Transfer-Encoding: ${global ? '8bit' : '7bit'}\r\n\r\n` +
    humanReadable(init, severity, text) +
    `\r\n--${boundary}\r\n` +
    `Content-Type: ${global ? 'message/global-delivery-status' : 'message/delivery-status'}\r\n` +
    `Content-Transfer-Encoding: ${global ? '8bit' : '7bit'}\r\n\r\n` +
    `${deliveryStatus}\r\n` +
    `\r\n--${boundary}\r\n` +
    `Content-Type: ${returnedType}\r\n` +
    `Content-Transfer-Encoding: ${eightBit && returnedType !== 'text/rfc822-headers' ? '8bit' : '7bit'}\r\n\r\n`;
  const before =
    returned === 'message' ? encodeUtf8(beforeText) : concat(encodeUtf8(beforeText), headerSection);
  return {
    envelope: { reversePath: null, recipient: envelopeRecipient },
    smtpUtf8: global,
    body: eightBit ? '8BITMIME' : '7BIT',
    returned,
    subject: subjects[severity],
    before,
    // The CRLF before the closing delimiter belongs to the delimiter (RFC 2046 §5.1.1), so the
    // original keeps its own last line ending.
    after: encodeUtf8(`\r\n--${boundary}--\r\n`),
  };
}

/** The DSN's bytes in order, the original (when returned whole) passed through untouched. */
export function* dsnChunks(
  dsn: DeliveryStatusNotification,
  originalMessage: Iterable<Uint8Array>,
): Generator<Uint8Array> {
  yield dsn.before;
  if (dsn.returned === 'message') yield* originalMessage;
  yield dsn.after;
}

function recipientFields(
  recipient: DsnRecipient,
  global: boolean,
  text: (value: string) => string,
): string[] {
  const fields: string[] = [];
  const original = recipient.originalRecipient;
  if (original !== undefined)
    fields.push(fold(`Original-Recipient: ${original.addressType}; ${addressText(original, global)}`));
  const final = serializeMailbox(asciiDomainForm(recipient.finalRecipient));
  fields.push(
    fold(
      isAsciiText(final)
        ? `Final-Recipient: rfc822; ${final}`
        : `Final-Recipient: utf-8; ${addressText({ addressType: 'utf-8', address: final }, global)}`,
    ),
    `Action: ${recipient.action}`,
    `Status: ${recipient.status}`,
  );
  if (recipient.remoteMta !== undefined) fields.push(fold(`Remote-MTA: dns; ${text(recipient.remoteMta)}`));
  if (recipient.diagnostic !== undefined)
    fields.push(fold(`Diagnostic-Code: smtp; ${text(replyText(recipient.diagnostic))}`));
  if (recipient.lastAttemptDate !== undefined)
    fields.push(`Last-Attempt-Date: ${formatMessageDate(recipient.lastAttemptDate)}`);
  if (recipient.action === 'delayed' && recipient.willRetryUntil !== undefined)
    fields.push(`Will-Retry-Until: ${formatMessageDate(recipient.willRetryUntil)}`);
  return fields;
}

function humanReadable(init: DsnInit, severity: Severity, text: (value: string) => string): string {
  const lines = [
    `This is the mail system at host ${init.reportingMta}.`,
    '',
    introductions[severity],
    '',
    ...init.recipients.map((recipient) => {
      const parts = [
        `<${serializeMailbox(asciiDomainForm(recipient.finalRecipient))}>: ${recipient.action} (${recipient.status})`,
      ];
      if (recipient.diagnostic !== undefined)
        parts.push(
          `${recipient.remoteMta === undefined ? '' : `${recipient.remoteMta} `}said: ${replyText(recipient.diagnostic)}`,
        );
      if (recipient.action === 'delayed' && recipient.willRetryUntil !== undefined)
        parts.push(`we keep trying until ${formatMessageDate(recipient.willRetryUntil)}`);
      return text(parts.join(', '));
    }),
  ];
  return `${lines.join('\r\n')}\r\n`;
}

type Severity = keyof typeof subjects;

function mostSevere(actions: readonly DsnAction[]): Severity {
  if (actions.includes('failed')) return 'failed';
  if (actions.includes('delayed')) return 'delayed';
  return 'success';
}

function replyText(reply: Reply): string {
  const enhanced = reply.enhanced === null ? '' : ` ${reply.enhanced}`;
  return `${reply.code}${enhanced} ${reply.lines.join(' ')}`.trimEnd();
}

/** An address-type's text: `utf-8` addresses use RFC 6533 §3's escapes, raw UTF-8 kept in the global form. */
function addressText(
  address: { readonly addressType: string; readonly address: string },
  global: boolean,
): string {
  if (address.addressType.toLowerCase() !== 'utf-8') return sanitize(address.address, global);
  let encoded = '';
  for (const character of address.address)
    encoded +=
      global && (character.codePointAt(0) as number) >= 0x80 ? character : encodeUtf8AddressXtext(character);
  return encoded;
}

/** The mailbox with an A-label domain, so that only a UTF-8 local part needs the global form. */
function asciiDomainForm(mailbox: Mailbox): Mailbox {
  return mailboxWithAsciiDomain(mailbox) ?? mailbox;
}

/** Controls become spaces, runs of space one; outside the global form non-ASCII becomes `?`. */
function sanitize(value: string, global: boolean): string {
  let clean = value
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
  if (!global) clean = clean.replace(/[^\u0000-\u007f]/gu, '?');
  return clean.length > maxValueLength ? `${clean.slice(0, maxValueLength)}...` : clean;
}

/** Folds a field at spaces so its lines stay within 78 characters where words allow (RFC 5322 §2.2.3). */
function fold(field: string): string {
  const words = field.split(' ');
  const lines: string[] = [];
  let line = words[0] as string;
  for (const word of words.slice(1)) {
    if (word === '') continue;
    if (line.length + 1 + word.length > foldWidth && line.trim().length > 0) {
      lines.push(line);
      line = ` ${word}`;
    } else line += ` ${word}`;
  }
  lines.push(line);
  return lines.join('\r\n');
}

function assertHeaderText(value: string, what: string): void {
  if (value.length === 0 || /[\u0000-\u0020\u007f]/.test(value))
    throw new SmtpUsageError(`Invalid ${what} for a DSN: ${JSON.stringify(value)}`);
}

/** The header section up to and with the CRLF of its last field, without the empty line and body. */
function cutHeaderSection(message: Uint8Array): Uint8Array {
  if (message[0] === 0x0d && message[1] === 0x0a) return new Uint8Array(0);
  for (let index = 0; index + 3 < message.length; index++)
    if (
      message[index] === 0x0d &&
      message[index + 1] === 0x0a &&
      message[index + 2] === 0x0d &&
      message[index + 3] === 0x0a
    )
      return message.subarray(0, index + 2);
  const endsWithCrlf =
    message.length >= 2 && message[message.length - 2] === 0x0d && message[message.length - 1] === 0x0a;
  return endsWithCrlf || message.length === 0 ? message : concat(message, new Uint8Array([0x0d, 0x0a]));
}

function isAsciiText(value: string): boolean {
  return /^[\u0000-\u007f]*$/.test(value);
}

function hex(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += byte.toString(16).padStart(2, '0');
  return text;
}

function concat(first: Uint8Array, second: Uint8Array): Uint8Array {
  const joined = new Uint8Array(first.length + second.length);
  joined.set(first, 0);
  joined.set(second, first.length);
  return joined;
}
