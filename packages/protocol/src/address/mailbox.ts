/** A domain as it appears in a path or a HELO/EHLO argument (RFC 5321 §4.1.2, §4.1.3). */
export type Domain =
  | { readonly kind: 'name'; readonly name: string } // e.g. "mx.example.com"; may hold U-labels under SMTPUTF8
  | { readonly kind: 'ipv4'; readonly address: string } // [192.0.2.1] → "192.0.2.1"
  | { readonly kind: 'ipv6'; readonly address: string } // [IPv6:2001:db8::1] → "2001:db8::1"
  | { readonly kind: 'general'; readonly tag: string; readonly content: string }; // [tag:content]

/** `local-part@domain`. localPart is the decoded value: quotes and quoted-pair escapes removed. */
export interface Mailbox {
  readonly localPart: string;
  readonly domain: Domain;
}

/** MAIL FROM path: null is the null reverse-path `<>` (RFC 5321 §4.5.5). */
export type ReversePath = Mailbox | null;

/** RCPT TO path: `'Postmaster'` is `<Postmaster>` without a domain (RFC 5321 §4.1.1.3). */
export type ForwardPath = Mailbox | 'Postmaster';
