// Turns what the caller asked for into the MAIL and RCPT commands to send, after checking that the
// server can carry it. Everything here throws before a single byte is written: SmtpCapabilityError when
// the server lacks an extension the message needs, SmtpUsageError when the envelope itself is wrong.

import { mailboxWithAsciiDomain } from '../address/idna.js';
import type { Domain, ForwardPath, Mailbox, ReversePath } from '../address/mailbox.js';
import type { Command, MailParameters, RcptParameters } from '../command/command.js';
import { mailParameterEntries } from '../command/mail-parameters.js';
import { rcptParameterEntries } from '../command/rcpt-parameters.js';
import { SmtpCapabilityError, SmtpUsageError } from '../errors.js';
import type { PlanContext } from '../extension/esmtp-extension.js';
import type { Capabilities } from '../reply/capabilities.js';
import type { EnvelopeInit, RecipientInit } from './client-events.js';

export interface EnvelopePlan {
  readonly mail: Extract<Command, { verb: 'MAIL' }>;
  readonly recipients: readonly {
    readonly to: ForwardPath;
    readonly command: Extract<Command, { verb: 'RCPT' }>;
  }[];
  readonly transfer: 'DATA' | 'BDAT';
}

export interface EnvelopeContext {
  readonly capabilities: Capabilities;
  readonly isTlsActive: boolean;
  /** The session's `chunking` option: may 'auto' pick BDAT. */
  readonly isChunkingAllowed: boolean;
}

// A CR or LF would end the command line early and let the rest be read as another command (command
// injection); NUL is never valid in a command (RFC 5321 §4.1.1: commands are text without CTLs).
const lineBreaking = /[\r\n\0]/;
const nonAscii = /[^\x00-\x7f]/;

function checkText(text: string, what: string): void {
  if (lineBreaking.test(text)) throw new SmtpUsageError(`${what} must not contain CR, LF or NUL`);
}

function domainTexts(domain: Domain): string[] {
  switch (domain.kind) {
    case 'name':
      return [domain.name];
    case 'general':
      return [domain.tag, domain.content];
    default:
      return [domain.address];
  }
}

/**
 * What a mailbox asks of the server (RFC 6531 §3.2): nothing (ASCII); SMTPUTF8 (a UTF-8 local part);
 * or, when its only UTF-8 is a domain name's U-labels, SMTPUTF8 or else the domain as A-labels, which
 * "is not considered internationalized".
 */
type MailboxNeed =
  | { readonly kind: 'ascii' }
  | { readonly kind: 'utf8' }
  | { readonly kind: 'idn'; readonly asAscii: Mailbox };

const asciiNeed: MailboxNeed = { kind: 'ascii' };
const utf8Need: MailboxNeed = { kind: 'utf8' };

/** Checks a mailbox for injection and says whether it needs SMTPUTF8 (RFC 6531 §3.3). */
function checkMailbox(mailbox: Mailbox, what: string): MailboxNeed {
  const texts = [mailbox.localPart, ...domainTexts(mailbox.domain)];
  for (const text of texts) checkText(text, what);
  if (!texts.some((text) => nonAscii.test(text))) return asciiNeed;
  if (nonAscii.test(mailbox.localPart) || mailbox.domain.kind !== 'name') return utf8Need;
  const asAscii = mailboxWithAsciiDomain(mailbox);
  return asAscii === null ? utf8Need : { kind: 'idn', asAscii };
}

/** The mailbox as written in the command: RFC 6531 §3.7, U-labels with SMTPUTF8, A-labels without. */
function onWire<T extends Mailbox | 'Postmaster'>(path: T, need: MailboxNeed, isUtf8: boolean): T {
  return need.kind === 'idn' && !isUtf8 ? (need.asAscii as T) : path;
}

function isRecipientInit(value: ForwardPath | RecipientInit): value is RecipientInit {
  return typeof value === 'object' && 'to' in value;
}

function missing(capability: string, message: string): SmtpCapabilityError {
  return new SmtpCapabilityError(capability, message);
}

export function planEnvelope(envelope: EnvelopeInit, context: EnvelopeContext): EnvelopePlan {
  const { capabilities } = context;
  if (envelope.to.length === 0) throw new SmtpUsageError('An envelope needs at least one recipient');

  const from: ReversePath = envelope.from;
  const fromNeed = from === null ? asciiNeed : checkMailbox(from, 'The sender address');
  const recipientInits: RecipientInit[] = envelope.to.map((entry) =>
    isRecipientInit(entry) ? entry : { to: entry },
  );
  const recipientNeeds = recipientInits.map((recipient) =>
    recipient.to === 'Postmaster' ? asciiNeed : checkMailbox(recipient.to, 'A recipient address'),
  );
  const needs = [fromNeed, ...recipientNeeds];
  // An ORCPT of type utf-8 has a 7-bit form (RFC 6533 §3); another type in UTF-8 needs SMTPUTF8.
  const hasUtf8Orcpt = recipientInits.some(
    ({ orcpt }) =>
      orcpt !== undefined && orcpt.addressType.toLowerCase() !== 'utf-8' && nonAscii.test(orcpt.address),
  );
  const needsUtf8 =
    envelope.smtpUtf8 === true ||
    hasUtf8Orcpt ||
    needs.some((need) => need.kind === 'utf8') ||
    (capabilities.smtpUtf8 && needs.some((need) => need.kind === 'idn'));

  // RFC 3030: BDAT needs CHUNKING; 'auto' takes it when allowed, and always for a binary body.
  const canBdat = capabilities.chunking;
  let transfer: 'DATA' | 'BDAT';
  switch (envelope.transfer ?? 'auto') {
    case 'DATA':
      transfer = 'DATA';
      break;
    case 'BDAT':
      if (!canBdat) throw missing('CHUNKING', 'BDAT needs the CHUNKING extension (RFC 3030)');
      transfer = 'BDAT';
      break;
    default:
      transfer = canBdat && (context.isChunkingAllowed || envelope.body === 'BINARYMIME') ? 'BDAT' : 'DATA';
  }

  // Each MAIL parameter's descriptor decides what to send, and throws before anything is sent when
  // the server lacks what the message needs.
  const planContext: PlanContext = {
    offered: capabilities,
    isTlsActive: context.isTlsActive,
    needsUtf8,
    transfer,
  };
  const requested = envelope as unknown as Readonly<Record<string, unknown>>;
  const parameters: Record<string, unknown> = { unknown: [] };
  for (const [field, parameter] of mailParameterEntries) {
    const value = parameter.plan(envelope, requested[field], planContext);
    if (value !== undefined) parameters[field] = value;
  }

  const recipients = recipientInits.map((recipient, index) => {
    const given = recipient as unknown as Readonly<Record<string, unknown>>;
    const rcptParameters: Record<string, unknown> = { unknown: [] };
    for (const [field, parameter] of rcptParameterEntries) {
      const value = given[field];
      if (value === undefined) continue;
      parameter.plan(value, planContext);
      rcptParameters[field] = value;
    }
    const to = onWire(recipient.to, recipientNeeds[index] as MailboxNeed, needsUtf8);
    return {
      to: recipient.to,
      command: { verb: 'RCPT', to, parameters: rcptParameters as unknown as RcptParameters } as const,
    };
  });
  const mailFrom = from === null ? null : onWire(from, fromNeed, needsUtf8);
  return {
    mail: { verb: 'MAIL', from: mailFrom, parameters: parameters as unknown as MailParameters },
    recipients,
    transfer,
  };
}
