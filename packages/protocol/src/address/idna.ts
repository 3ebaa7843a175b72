// Internationalized domain names (RFC 5890, RFC 5891) as SMTP needs them: RFC 6531 §3.2 requires a
// name looked up in DNS to be in A-label form, and §3.7 wants A-labels towards a server without
// SMTPUTF8.
//
// The conversion is the runtime's URL host parser (the WHATWG URL Standard's "domain to ASCII":
// UTS #46 non-transitional processing with CheckBidi and CheckJoiners, as browsers resolve names).
// It exists in every runtime this package targets and carries the Unicode tables, which would
// otherwise be a dependency or hundreds of kilobytes here. It is applied label by label and only to
// non-ASCII labels, so its web-specific readings of ASCII hosts (`0x7f.1` as an IPv4 address, `%41`
// as an escape) never apply.

import type { Mailbox } from './mailbox.js';

/** RFC 1035 §2.3.4 */
const maxLabelOctets = 63;
/** RFC 5321 §4.5.3.1.2 */
const maxDomainOctets = 255;
/** An A-label: the ACE prefix and Punycode's letters, digits and hyphens (RFC 5890 §2.3.2.1). */
const aLabelPattern = /^xn--[a-z0-9-]+$/;
const nonAscii = /[^\x00-\x7f]/;

/**
 * The A-label form of a domain name (`bücher.example` → `xn--bcher-kva.example`), lowercased, or
 * null when a non-ASCII label is not a valid U-label: a disallowed character, a joiner or bidi rule
 * broken, or one that maps to plain ASCII (`ＡＢＣ`) or across labels (`a。b`). ASCII labels are only
 * lowercased; the grammar has already checked them.
 */
export function domainToAscii(name: string): string | null {
  if (!nonAscii.test(name)) return name.toLowerCase();
  const labels = name.split('.');
  for (const [index, label] of labels.entries()) {
    if (!nonAscii.test(label)) {
      labels[index] = label.toLowerCase();
      continue;
    }
    const aLabel = labelToAscii(label);
    if (aLabel === null) return null;
    labels[index] = aLabel;
  }
  const ascii = labels.join('.');
  return ascii.length > maxDomainOctets ? null : ascii;
}

function labelToAscii(label: string): string | null {
  let hostname: string;
  try {
    hostname = new URL(`http://${label}/`).hostname;
  } catch {
    return null;
  }
  return aLabelPattern.test(hostname) && hostname.length <= maxLabelOctets ? hostname : null;
}

/**
 * The mailbox with its domain name in A-label form, the form a server without SMTPUTF8 can be given
 * (RFC 6531 §3.7); null when the name is not a valid IDN. Address literals and the local part stay.
 */
export function mailboxWithAsciiDomain(mailbox: Mailbox): Mailbox | null {
  if (mailbox.domain.kind !== 'name') return mailbox;
  const name = domainToAscii(mailbox.domain.name);
  return name === null ? null : { localPart: mailbox.localPart, domain: { kind: 'name', name } };
}
