// The server's answer to the parameters of MAIL FROM and RCPT TO, from each parameter's descriptor.

import type { MailParameters, RcptParameters } from '../command/command.js';
import { mailParameterEntries, noMailParameters } from '../command/mail-parameters.js';
import { noRcptParameters, rcptParameterEntries } from '../command/rcpt-parameters.js';
import type { ReplyInit } from '../reply/reply.js';
import { replies } from '../reply/reply-catalog.js';
import type { ResolvedServerOptions } from '../server/server-options.js';
import { bodyParameter } from './body-extensions.js';
import type { MailCheckContext } from './esmtp-extension.js';
import { sizeParameter } from './size-extension.js';

/**
 * The refusal of a MAIL command's parameters, or null. An unknown parameter, or one of an extension the
 * session does not offer, comes first (RFC 5321 §4.1.1.11: 555); then the first other refusal in wire
 * order (e.g. 552 for SIZE over the limit, RFC 1870 §6; 530 for REQUIRETLS without TLS, RFC 8689 §4.1).
 */
export function checkMailParameters(parameters: MailParameters, context: MailCheckContext): ReplyInit | null {
  if (parameters === noMailParameters) return null; // the common `MAIL FROM:<a@b>`
  if (parameters.unknown.length > 0) return replies.unknownParameter;
  // SIZE and BODY, first in the table and on most MAIL commands with parameters, are checked by direct
  // calls V8 can inline; the rest of the table shares one call site.
  let refusal: ReplyInit | null = null;
  if (parameters.size !== undefined) {
    refusal = sizeParameter.check(parameters.size, context);
    if (refusal === replies.unknownParameter) return refusal;
  }
  if (parameters.body !== undefined) {
    const reply = bodyParameter.check(parameters.body, context);
    if (reply === replies.unknownParameter) return reply;
    refusal ??= reply;
  }
  const values = parameters as unknown as Readonly<Record<string, unknown>>;
  for (const [field, parameter] of otherMailEntries) {
    const value = values[field];
    if (value === undefined) continue;
    const reply = parameter.check(value, context);
    if (reply === replies.unknownParameter) return reply;
    refusal ??= reply;
  }
  return refusal;
}

const otherMailEntries = mailParameterEntries.filter(([field]) => field !== 'size' && field !== 'body');
/** Only a few parameters have a grant (MT-PRIORITY); the others are kept as sent. */
const grantingEntries = mailParameterEntries.filter(([, parameter]) => parameter.grant !== undefined);

/** The parameters with what the server grants (e.g. a lowered MT-PRIORITY); the same object when nothing changed. */
export function grantMailParameters(
  parameters: MailParameters,
  options: ResolvedServerOptions,
): MailParameters {
  if (parameters === noMailParameters) return parameters;
  const values = parameters as unknown as Readonly<Record<string, unknown>>;
  let granted: Record<string, unknown> | null = null;
  for (const [field, parameter] of grantingEntries) {
    const value = values[field];
    if (value === undefined || parameter.grant === undefined) continue;
    const grantedValue = parameter.grant(value, options);
    if (grantedValue !== value) {
      granted ??= { ...values };
      granted[field] = grantedValue;
    }
  }
  return granted === null ? parameters : (granted as unknown as MailParameters);
}

/** True when every RCPT parameter is known and its extension offered (else 555, RFC 5321 §4.1.1.11). */
export function areRcptParametersOffered(
  parameters: RcptParameters,
  options: ResolvedServerOptions,
): boolean {
  if (parameters === noRcptParameters) return true; // the common `RCPT TO:<a@b>`
  if (parameters.unknown.length > 0) return false;
  const values = parameters as unknown as Readonly<Record<string, unknown>>;
  for (const [field, parameter] of rcptParameterEntries) {
    if (values[field] !== undefined && !parameter.isOffered(options)) return false;
  }
  return true;
}
