import {
  type DsnNotify,
  type EnvelopeInit,
  type ForwardPath,
  type Mailbox,
  type MailParameterRequests,
  mailboxWithAsciiDomain,
  parseMailbox,
  type RecipientInit,
  type ReversePath,
  SmtpUsageError,
  serializeMailbox,
} from '@smtp/protocol';
import type { AddressInput, DsnOptions } from './options.js';

/** An envelope recipient with the text it had on the wire, for reports. */
export interface ResolvedRecipient {
  readonly path: ForwardPath;
  readonly address: string;
}

export interface ResolvedEnvelope {
  readonly from: ReversePath;
  readonly recipients: readonly ResolvedRecipient[];
  readonly needsSmtpUtf8: boolean;
}

const lineBreak = /[\r\n]/;

/**
 * Checks that a caller-supplied value cannot inject a line into the SMTP stream or a header
 * (RFC 5321 §2.3.8: CR and LF only ever appear together, as the line end).
 */
export function assertNoLineBreak(value: string, what: string): void {
  if (lineBreak.test(value)) {
    throw new SmtpUsageError(`${what} must not contain CR or LF: ${JSON.stringify(value)}`);
  }
  if (value.includes('\0'))
    throw new SmtpUsageError(`${what} must not contain NUL: ${JSON.stringify(value)}`);
}

/** Parses `user@example.com` or `<user@example.com>`; Mailbox values are re-serialised and checked too. */
export function resolveMailbox(input: AddressInput, what: string): Mailbox {
  if (typeof input !== 'string') {
    assertNoLineBreak(serializeMailbox(input), what);
    return input;
  }
  assertNoLineBreak(input, what);
  let text = input.trim();
  if (text.startsWith('<') && text.endsWith('>')) text = text.slice(1, -1);
  // UTF-8 is accepted here; whether the server may see it (SMTPUTF8) is the core's decision.
  const parsed = parseMailbox(text, { mode: 'strict', smtpUtf8: true });
  if (!parsed.ok) {
    throw new SmtpUsageError(
      `${what} is not a valid address: ${JSON.stringify(input)} (${parsed.reply.lines.join(' ')})`,
    );
  }
  return parsed.value;
}

export function resolveEnvelope(
  from: AddressInput | null,
  to: AddressInput | readonly AddressInput[],
): ResolvedEnvelope {
  const reversePath: ReversePath =
    from === null || from === '' || from === '<>' ? null : resolveMailbox(from, 'from');
  const list =
    typeof to === 'string' || !Array.isArray(to) ? [to as AddressInput] : (to as readonly AddressInput[]);
  if (list.length === 0) throw new SmtpUsageError('A message needs at least one recipient');
  const recipients: ResolvedRecipient[] = [];
  const seen = new Set<string>();
  for (const input of list) {
    const mailbox = resolveMailbox(input, 'to');
    const address = serializeMailbox(mailbox);
    // The same recipient twice would be delivered twice by many servers.
    if (seen.has(address)) continue;
    seen.add(address);
    recipients.push({ path: mailbox, address });
  }
  // A UTF-8 local part needs SMTPUTF8; a Unicode domain name alone does not: the core writes it as
  // A-labels to a server without SMTPUTF8 (RFC 6531 §3.7).
  let needsSmtpUtf8 = reversePath !== null && !isAsciiText(reversePath.localPart);
  for (const recipient of recipients)
    needsSmtpUtf8 ||= recipient.path !== 'Postmaster' && !isAsciiText(recipient.path.localPart);
  return { from: reversePath, recipients, needsSmtpUtf8 };
}

export function forwardPathText(path: ForwardPath): string {
  return path === 'Postmaster' ? 'Postmaster' : serializeMailbox(path);
}

export function buildEnvelopeInit(
  envelope: ResolvedEnvelope,
  options: {
    size: number | null;
    body: '7BIT' | '8BITMIME' | 'BINARYMIME';
    smtpUtf8: boolean;
    requireTls: boolean;
    dsn: DsnOptions | undefined;
    /** Whether the server offers DSN: with `dsn.onlyIfOffered`, its parameters go only then. */
    dsnOffered?: boolean;
    /** MAIL parameters asked for by name, passed through (the core plans them against the server's offer). */
    requests?: MailParameterRequests;
  },
): EnvelopeInit {
  // RFC 3461 §5.2.2: a relay to a server without DSN leaves the parameters out.
  const dsn = options.dsn?.onlyIfOffered === true && options.dsnOffered !== true ? undefined : options.dsn;
  const to = envelope.recipients.map((recipient): ForwardPath | RecipientInit => {
    const own =
      dsn?.recipients?.get(recipient.address) ?? dsn?.recipients?.get(recipient.address.toLowerCase());
    const notify: DsnNotify | undefined = own?.notify ?? dsn?.notify;
    const orcpt = own?.orcpt ?? (dsn?.orcpt ? originalRecipient(recipient, options.smtpUtf8) : undefined);
    if (notify === undefined && orcpt === undefined) return recipient.path;
    return {
      to: recipient.path,
      ...(notify !== undefined ? { notify } : {}),
      ...(orcpt !== undefined ? { orcpt } : {}),
    };
  });
  const dsnParameters =
    dsn?.ret !== undefined || dsn?.envid !== undefined
      ? {
          dsn: {
            ...(dsn.ret !== undefined ? { ret: dsn.ret } : {}),
            ...(dsn.envid !== undefined ? { envid: dsn.envid } : {}),
          },
        }
      : {};
  return {
    from: envelope.from,
    to,
    ...(options.size !== null ? { size: options.size } : {}),
    body: options.body,
    ...(options.smtpUtf8 ? { smtpUtf8: true } : {}),
    ...(options.requireTls ? { requireTls: true } : {}),
    ...dsnParameters,
    ...options.requests,
  };
}

/**
 * RFC 3461 §4.2 ORCPT: the address as given, as `utf-8` in an SMTPUTF8 transaction; otherwise as
 * `rfc822`, which is ASCII, so a Unicode domain name goes as A-labels.
 */
function originalRecipient(
  recipient: ResolvedRecipient,
  smtpUtf8: boolean,
): { addressType: 'utf-8' | 'rfc822'; address: string } {
  if (smtpUtf8) return { addressType: 'utf-8', address: recipient.address };
  const ascii = recipient.path === 'Postmaster' ? null : mailboxWithAsciiDomain(recipient.path);
  return { addressType: 'rfc822', address: ascii === null ? recipient.address : serializeMailbox(ascii) };
}

function isAsciiText(text: string): boolean {
  return /^[\x00-\x7f]*$/.test(text);
}
