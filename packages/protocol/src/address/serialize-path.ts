import { SmtpUsageError } from '../errors.js';
import { serializeLocalPart } from './local-part.js';
import type { Domain, ForwardPath, Mailbox, ReversePath } from './mailbox.js';

/**
 * Refuses characters that could end or split the command line (controls, space, brackets where they
 * would close the path). The value came from our caller, so this is a usage error, not peer input.
 */
function assertDomainText(text: string, what: string, forbidden: RegExp): void {
  if (text.length === 0 || forbidden.test(text)) {
    throw new SmtpUsageError(`Invalid ${what} in a domain: ${JSON.stringify(text)}`);
  }
}

const forbiddenInName = /[\u0000-\u0020\u007f<>[\]@,:"\\]/;
const forbiddenInAddress = /[^0-9A-Fa-f:.]/;
const forbiddenInTag = /[^0-9A-Za-z-]/;
const forbiddenInContent = /[^\u0021-\u005a\u005e-\u007e]/; // dcontent, RFC 5321 §4.1.3

export function serializeDomain(domain: Domain): string {
  switch (domain.kind) {
    case 'name':
      assertDomainText(domain.name, 'name', forbiddenInName);
      return domain.name;
    case 'ipv4':
      assertDomainText(domain.address, 'IPv4 address', forbiddenInAddress);
      return `[${domain.address}]`;
    case 'ipv6':
      assertDomainText(domain.address, 'IPv6 address', forbiddenInAddress);
      return `[IPv6:${domain.address}]`;
    case 'general':
      assertDomainText(domain.tag, 'address literal tag', forbiddenInTag);
      assertDomainText(domain.content, 'address literal', forbiddenInContent);
      return `[${domain.tag}:${domain.content}]`;
  }
}

/** `local-part@domain`, quoting the local part only when it is not a Dot-string (RFC 5321 §4.1.2). */
export function serializeMailbox(mailbox: Mailbox): string {
  return `${serializeLocalPart(mailbox.localPart)}@${serializeDomain(mailbox.domain)}`;
}

/** `<mailbox>`, or `<>` for the null reverse-path. */
export function serializeReversePath(path: ReversePath): string {
  return path === null ? '<>' : `<${serializeMailbox(path)}>`;
}

/** `<mailbox>`, or `<Postmaster>`. */
export function serializeForwardPath(path: ForwardPath): string {
  return path === 'Postmaster' ? '<Postmaster>' : `<${serializeMailbox(path)}>`;
}
