import type { Domain, ForwardPath, ReversePath } from '../address/mailbox.js';
import type { KnownMailParameters, KnownRcptParameters } from '../extension/esmtp-extensions.js';

/** RFC 6152 / RFC 3030 body types. */
export type BodyType = '7BIT' | '8BITMIME' | 'BINARYMIME';
/** RFC 3461 §4.3 */
export type DsnReturn = 'FULL' | 'HDRS';
/** RFC 3461 §4.1: NEVER alone, or any non-empty set of the others. */
export type DsnNotify = 'NEVER' | readonly ('SUCCESS' | 'FAILURE' | 'DELAY')[];

/**
 * MAIL FROM parameters, typed: one optional field per entry of the mailParameters table (size, body,
 * smtpUtf8, ret, envid, auth: null is AUTH=<>, by, requireTls, mtPriority); absent means not given.
 * `unknown` keeps what we do not recognise, in order.
 */
export type MailParameters = KnownMailParameters & { readonly unknown: readonly EsmtpParameter[] };

/** RCPT TO parameters, typed: notify and orcpt (RFC 3461 §4.1, §4.2), and the rest as written. */
export type RcptParameters = KnownRcptParameters & { readonly unknown: readonly EsmtpParameter[] };

/** An esmtp-param as written: keyword (uppercased) and value (null when there is no `=`). */
export interface EsmtpParameter {
  readonly keyword: string;
  readonly value: string | null;
}

export type HelloVerb = 'EHLO' | 'HELO' | 'LHLO';

/** Every command the core understands, as a value. Serialising and parsing round-trip. */
export type Command =
  | { readonly verb: HelloVerb; readonly client: Domain }
  | { readonly verb: 'MAIL'; readonly from: ReversePath; readonly parameters: MailParameters }
  | { readonly verb: 'RCPT'; readonly to: ForwardPath; readonly parameters: RcptParameters }
  | { readonly verb: 'BDAT'; readonly size: number; readonly last: boolean }
  | { readonly verb: 'AUTH'; readonly mechanism: string; readonly initialResponse: Uint8Array | null } // "=" → empty array
  | { readonly verb: 'DATA' | 'RSET' | 'QUIT' | 'STARTTLS' }
  | { readonly verb: 'NOOP' | 'HELP' | 'VRFY' | 'EXPN' | 'ETRN'; readonly argument: string } // "" when none
  | { readonly verb: 'XCLIENT'; readonly attributes: ReadonlyMap<string, string> }; // names uppercased, values xtext-decoded

export type Verb = Command['verb'];

/** How forgiving the command parser is. */
export interface CommandSyntax {
  /**
   * strict: RFC 5321 grammar exactly.
   * lenient: also accepts common real-world deviations: a space after `MAIL FROM:`/`RCPT TO:`, a path
   * without angle brackets, a trailing space at the end of a line, lower-case verbs are always fine.
   */
  readonly mode: 'strict' | 'lenient';
  /** UTF-8 in local parts and domains only when SMTPUTF8 applies (RFC 6531 §3.3). */
  readonly smtpUtf8: boolean;
}
