import { domainToASCII } from 'node:url';
import { SmtpUsageError } from '@smtp/protocol';
import addressparser from 'nodemailer/lib/addressparser';
import { encodeWords } from 'nodemailer/lib/mime-funcs';

/** A mailbox as it goes into a header and into the envelope. */
export interface MailAddress {
  readonly name: string;
  /** With an ASCII local part, the domain in its A-label form (RFC 5890), as the envelope needs it. */
  readonly address: string;
}

/** `"Name" <user@example.com>`, a list of them separated by commas, or the parts. */
export type AddressInput = string | { readonly name?: string; readonly address: string };

/** Display names that need no quoting: atext and spaces (RFC 5322 §3.2.3). */
const atomName = /^[\w !#$%&'*+\-/=?^`{|}~]*$/;
const printableAscii = /^[\x20-\x7e]*$/;
/** An addr-spec that is unambiguous without angle brackets. */
const plainAddress = /^[^\s<>()[\]\\,;:@"]+@[^\s<>()[\]\\,;:@"]+$/;

/** Every mailbox in the inputs, parsed (strings may hold several, or `Name <address>`). */
export function parseAddresses(inputs: AddressInput | readonly AddressInput[], field: string): MailAddress[] {
  const addresses: MailAddress[] = [];
  for (const input of Array.isArray(inputs) ? inputs : [inputs as AddressInput]) {
    if (typeof input !== 'string') {
      addresses.push({ name: input.name ?? '', address: normalizeAddress(input.address) });
      continue;
    }
    if (plainAddress.test(input)) {
      // The common case, a bare address: no parsing needed.
      addresses.push({ name: '', address: normalizeAddress(input) });
      continue;
    }
    for (const mailbox of addressparser(input, { flatten: true })) {
      if (mailbox.address === '') throw new SmtpUsageError(`No address in ${field} ${JSON.stringify(input)}`);
      addresses.push({ name: mailbox.name, address: normalizeAddress(mailbox.address) });
    }
  }
  return addresses;
}

/** The header form of a list of mailboxes (RFC 5322 §3.4), display names RFC 2047 encoded when not ASCII. */
export function formatAddresses(addresses: readonly MailAddress[]): string {
  return addresses.map(formatAddress).join(', ');
}

function formatAddress({ name, address }: MailAddress): string {
  if (name === '') return plainAddress.test(address) ? address : `<${address}>`;
  return `${formatName(name)} <${address}>`;
}

function formatName(name: string): string {
  if (atomName.test(name)) return name;
  if (printableAscii.test(name) && !name.includes('=?')) return `"${name.replace(/(["\\])/g, '\\$1')}"`;
  return encodeWords(name, 'Q', 52, true);
}

/**
 * Trims the address and writes an internationalised domain as A-labels when the local part is ASCII
 * (then the message needs no SMTPUTF8); with a UTF-8 local part it stays UTF-8 (RFC 6531 §3.2).
 */
function normalizeAddress(address: string): string {
  const trimmed = address.trim();
  const at = trimmed.lastIndexOf('@');
  if (at < 0 || printableAscii.test(trimmed)) return trimmed;
  const localPart = trimmed.slice(0, at);
  if (!printableAscii.test(localPart)) return trimmed;
  const domain = domainToASCII(trimmed.slice(at + 1));
  return domain === '' ? trimmed : `${localPart}@${domain}`;
}
