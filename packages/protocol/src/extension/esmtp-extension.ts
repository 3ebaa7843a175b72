// The shape of one ESMTP extension's descriptor (RFC 5321 §2.2.2): its EHLO keyword and what the
// keyword's parameters mean, the MAIL/RCPT parameters it adds, the ServerSession option that offers
// it, and what a client envelope needs from it. The tables of all of them are in esmtp-extensions.ts.
// Each descriptor is declared with its type arguments spelled out: the Capabilities, MailParameters and
// option types are derived from the tables, and an inferred descriptor type would be circular.

import type { BodyType, DsnReturn } from '../command/command.js';
import type { Capabilities } from '../reply/capabilities.js';
import type { ReplyInit } from '../reply/reply.js';
import type { ResolvedServerOptions } from '../server/server-options.js';

/** The EHLO line of an extension, read and written (RFC 5321 §4.1.1.1: `keyword *(SP param)`). */
export interface CapabilityCodec<Value> {
  /** The value when the keyword is not in the EHLO reply. */
  readonly absent: Value;
  /**
   * The value for one EHLO line: `parameters` is what follows the keyword ("" when nothing), `keyword`
   * as sent (uppercased; AUTH also comes as `AUTH=LOGIN`), `previous` what earlier lines gave.
   */
  readonly parse: (parameters: string, keyword: string, previous: Value) => Value;
  /** True when `KEYWORD=param` also names this extension (AUTH=LOGIN, before RFC 4954). */
  readonly takesParameterInKeyword?: boolean;
  /** The parameters of the EHLO line for `value`: "" for the bare keyword, null when not offered. */
  readonly serialize: (value: Value) => string | null;
}

/** What a ServerSession needs to know to offer an extension. */
export interface ServerOffer<Option, Resolved, Capability> {
  /** The key under ServerSessionOptions.extensions. */
  readonly option: string;
  /**
   * The option with its default applied. `extensions` is everything under ServerSessionOptions.extensions,
   * for an extension that needs another one (BINARYMIME needs CHUNKING, RFC 3030 §3).
   */
  readonly resolve: (value: Option | undefined, extensions: Readonly<Record<string, unknown>>) => Resolved;
  /** What the EHLO reply advertises for these options, with or without TLS active. */
  readonly offer: (options: ResolvedServerOptions, isTlsActive: boolean) => Capability;
}

/** The server side of one MAIL command: the session's options and state a parameter check reads. */
export interface MailCheckContext {
  readonly options: ResolvedServerOptions;
  readonly isTlsActive: boolean;
}

/**
 * What a client envelope asks for, as the table's planning hooks read it. `EnvelopeInit` is this plus
 * the path fields and the parameters of newer extensions under their MailParameters names.
 */
export interface EnvelopeRequest {
  readonly size?: number;
  readonly body?: BodyType;
  readonly smtpUtf8?: boolean;
  readonly requireTls?: boolean;
  readonly dsn?: { readonly ret?: DsnReturn; readonly envid?: string };
}

/** What the client knows when it plans MAIL FROM: the server's offer and what the addresses need. */
export interface PlanContext {
  /** The server's EHLO reply, read by parseCapabilities. */
  readonly offered: Capabilities;
  readonly isTlsActive: boolean;
  /** An address or an ORCPT needs SMTPUTF8, or the envelope asked for it (RFC 6531 §3.4). */
  readonly needsUtf8: boolean;
  readonly transfer: 'DATA' | 'BDAT';
}

/** One esmtp-param (RFC 5321 §4.1.2) of MAIL or RCPT, parsed into and serialised from a typed value. */
export interface ParameterCodec<Value> {
  /** The keyword as sent (uppercase). */
  readonly keyword: string;
  /**
   * The typed value of `KEYWORD[=value]` (`value` null when there is no "="), or undefined when the
   * value breaks the grammar (→ 501 5.5.4). `lenient` is the session's lenient syntax.
   */
  readonly parse: (value: string | null, lenient: boolean) => Value | undefined;
  /** The esmtp-value for the wire (null: the bare keyword); throws SmtpUsageError when it would not parse back. */
  readonly serialize: (value: Value) => string | null;
  /** The value as a person reads it (decoded, no xtext); default: the serialised value. */
  readonly describe?: (value: Value) => string;
}

export interface MailParameter<Value> extends ParameterCodec<Value> {
  /**
   * The server's answer to this parameter, null to go on. A parameter of an extension the session does not
   * offer is as unknown as any other: `replies.unknownParameter` (RFC 5321 §4.1.1.11: 555).
   */
  readonly check: (value: Value, context: MailCheckContext) => ReplyInit | null;
  /** What the server keeps of an accepted value, e.g. a priority lowered to what it grants; default: as sent. */
  readonly grant?: (value: Value, options: ResolvedServerOptions) => Value;
  /**
   * The value the client sends for this envelope, or undefined for none. `requested` is the envelope's
   * field of this parameter's name (for parameters not in EnvelopeRequest). Throws SmtpCapabilityError
   * when the message needs an extension the server lacks, before anything is sent.
   */
  readonly plan: (envelope: EnvelopeRequest, requested: unknown, context: PlanContext) => Value | undefined;
  /** Sets the envelope fields that plan() reads back into this value (transcript replay, pass-through). */
  readonly request: (value: Value) => Readonly<Record<string, unknown>>;
}

export interface RcptParameter<Value> extends ParameterCodec<Value> {
  /** True when the session offers what this parameter needs (else 555, RFC 5321 §4.1.1.11). */
  readonly isOffered: (options: ResolvedServerOptions) => boolean;
  /** Checks a recipient's value before anything is sent: SmtpUsageError, or SmtpCapabilityError when not offered. */
  readonly plan: (value: Value, context: PlanContext) => void;
}

/** One ESMTP extension: everything the core knows about it, in one place. */
export interface EsmtpExtension<Capability, Option = never, Resolved = never> {
  /** The EHLO keyword (RFC 5321 §4.1.1.1). */
  readonly keyword: string;
  /** Where it is defined, e.g. 'RFC 1870'. */
  readonly rfc: string;
  /** One line for people: what the keyword means for a sender (`smtp probe`). */
  readonly meaning: string;
  readonly capability: CapabilityCodec<Capability>;
  /** Absent: the server side does not offer it (DELIVERBY, HELP). */
  readonly server?: ServerOffer<Option, Resolved, Capability>;
  /** The keywords of the MAIL/RCPT parameters it adds (each a MailParameter or RcptParameter of its own). */
  readonly parameters?: readonly string[];
}
