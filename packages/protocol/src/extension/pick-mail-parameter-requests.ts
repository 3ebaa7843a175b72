import { type MailParameterRequests, requestedMailParameters } from './esmtp-extensions.js';

/**
 * The envelope fields named after MAIL parameters (requestedMailParameters) that `source` sets, so a
 * caller's options pass through to EnvelopeInit without restating each field.
 */
export function pickMailParameterRequests(source: MailParameterRequests): MailParameterRequests {
  const picked: Record<string, unknown> = {};
  const given = source as Readonly<Record<string, unknown>>;
  for (const field of requestedMailParameters as readonly string[]) {
    if (given[field] !== undefined) picked[field] = given[field];
  }
  return picked as MailParameterRequests;
}
