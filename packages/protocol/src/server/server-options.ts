import { SmtpUsageError } from '../errors.js';
import {
  esmtpExtensions,
  type ResolvedExtensionOptions,
  type ServerExtensionOptions,
} from '../extension/esmtp-extensions.js';
import type { SaslMechanismName } from '../sasl/sasl-mechanism.js';

/** What a ServerSession offers and enforces. Every field is optional; the defaults suit a public MX. */
export interface ServerSessionOptions {
  /** Our name: in the greeting and the first line of the EHLO reply. */
  readonly hostname: string;
  /** 'lmtp' (RFC 2033): LHLO instead of EHLO/HELO, one reply per recipient after the message. */
  readonly mode?: 'smtp' | 'lmtp';
  /**
   * The extensions to offer, one field per entry of the extension table (esmtpExtensions, the README's
   * "Extensions"): pipelining, size, eightBitMime, smtpUtf8, enhancedStatusCodes, chunking, binaryMime
   * (needs chunking, RFC 3030 §3), dsn, vrfy (VRFY and EXPN answer 252; false: 502) and requireTls
   * (offered only once TLS is active, RFC 8689 §2) default true; startTls (offered only while TLS is not
   * active), xclient (Postfix XCLIENT: enable only for trusted peers) and etrn
   * default false; auth lists the SASL mechanisms ([]).
   */
  readonly extensions?: ServerExtensionOptions;
  readonly limits?: {
    /** RFC 5321 §4.5.3.1.4: a command line, CRLF included. Default 512. */
    readonly maxCommandLineBytes?: number;
    /** RFC 5321 §4.5.3.1.6: a line of message text, CRLF included. Default 1000; 0: no limit. */
    readonly maxTextLineBytes?: number;
    /** Advertised with SIZE (RFC 1870) and enforced while reading. Default 0: no limit. */
    readonly maxMessageBytes?: number;
    /** RFC 5321 §4.5.3.1.8 asks for at least 100. Default 100. */
    readonly maxRecipients?: number;
    /** Rejected commands before 421 and close. Default 10; 0: no limit. */
    readonly maxErrors?: number;
    /** RFC 4954 §4: an AUTH response line, CRLF included. Default 12288. */
    readonly maxAuthLineBytes?: number;
  };
  /** Command grammar: 'lenient' also takes common deviations (see parseCommand). Default 'strict'. */
  readonly syntax?: 'strict' | 'lenient';
  /** Bare CR or LF in DATA: 'reject' (default, smuggling defence) answers 550 5.6.0; 'normalize' makes them CRLF. */
  readonly bareLineEndings?: 'reject' | 'normalize';
  /**
   * 8-bit bytes in a message declared (or defaulted to) 7BIT. Default 'accept': many clients send 8-bit
   * text without BODY=8BITMIME and every major MTA takes it. 'reject' answers 554 5.6.1 after the data.
   */
  readonly eightBitData?: 'reject' | 'accept';
  /** `{ active: true }` for implicit TLS (port 465). */
  readonly tls?: { readonly active: boolean };
  readonly auth?: {
    /** Offer and accept PLAIN, LOGIN, XOAUTH2, OAUTHBEARER without TLS. Default false. */
    readonly allowPlaintext?: boolean;
    /** MAIL before a successful AUTH → 530 5.7.0. Default false. */
    readonly required?: boolean;
  };
  /** Everything but EHLO/HELO/LHLO/STARTTLS/NOOP/RSET/QUIT → 530 5.7.0 until TLS is active. */
  readonly requireTls?: boolean;
  /** Nonce source for SASL (CRAM-MD5, SCRAM). Default: crypto.getRandomValues. */
  readonly random?: (length: number) => Uint8Array;
}

/** The options with every default applied; shared by all sessions built from the same options object. */
export interface ResolvedServerOptions {
  readonly hostname: string;
  readonly isLmtp: boolean;
  /** Every extension option with its default applied, by its name in the extension table. */
  readonly extensions: ResolvedExtensionOptions;
  // The options the session's command guards read, from `extensions`.
  readonly pipelining: boolean;
  readonly size: boolean;
  readonly eightBitMime: boolean;
  readonly smtpUtf8: boolean;
  readonly enhancedStatusCodes: boolean;
  readonly chunking: boolean;
  readonly binaryMime: boolean;
  readonly dsn: boolean;
  readonly requireTlsExtension: boolean;
  readonly startTls: boolean;
  readonly authMechanisms: readonly SaslMechanismName[];
  readonly xclient: boolean;
  readonly vrfy: boolean;
  readonly etrn: boolean;
  readonly maxCommandLineBytes: number;
  readonly maxTextLineBytes: number;
  readonly maxMessageBytes: number;
  readonly maxRecipients: number;
  readonly maxErrors: number;
  readonly maxAuthLineBytes: number;
  readonly isLenient: boolean;
  readonly bareLineEndings: 'reject' | 'normalize';
  readonly rejectEightBit: boolean;
  readonly implicitTls: boolean;
  readonly allowPlaintextAuth: boolean;
  readonly authRequired: boolean;
  readonly requireTls: boolean;
  readonly random: (length: number) => Uint8Array;
}

const defaultRandom = (length: number): Uint8Array =>
  globalThis.crypto.getRandomValues(new Uint8Array(length));

function limit(name: string, value: number | undefined, fallback: number, minimum: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new SmtpUsageError(`limits.${name} must be an integer >= ${minimum}, got ${value}`);
  }
  return value;
}

export function resolveServerOptions(options: ServerSessionOptions): ResolvedServerOptions {
  const extensions = resolveExtensionOptions(options.extensions ?? {});
  const limits = options.limits ?? {};
  if (typeof options.hostname !== 'string' || !/^[^\s]+$/.test(options.hostname)) {
    throw new SmtpUsageError('hostname must be a non-empty name without spaces');
  }
  const resolved: ResolvedServerOptions = {
    hostname: options.hostname,
    isLmtp: options.mode === 'lmtp',
    extensions,
    pipelining: extensions.pipelining,
    size: extensions.size,
    eightBitMime: extensions.eightBitMime,
    smtpUtf8: extensions.smtpUtf8,
    enhancedStatusCodes: extensions.enhancedStatusCodes,
    chunking: extensions.chunking,
    binaryMime: extensions.binaryMime,
    dsn: extensions.dsn,
    requireTlsExtension: extensions.requireTls,
    startTls: extensions.startTls,
    authMechanisms: extensions.auth,
    xclient: extensions.xclient,
    vrfy: extensions.vrfy,
    etrn: extensions.etrn,
    // RFC 5321 §4.5.3.1.4: the minimum is 512; smaller would cut legal commands.
    maxCommandLineBytes: limit('maxCommandLineBytes', limits.maxCommandLineBytes, 512, 512),
    maxTextLineBytes: limit('maxTextLineBytes', limits.maxTextLineBytes, 1000, 0),
    maxMessageBytes: limit('maxMessageBytes', limits.maxMessageBytes, 0, 0),
    maxRecipients: limit('maxRecipients', limits.maxRecipients, 100, 1),
    maxErrors: limit('maxErrors', limits.maxErrors, 10, 0),
    maxAuthLineBytes: limit('maxAuthLineBytes', limits.maxAuthLineBytes, 12288, 512),
    isLenient: options.syntax === 'lenient',
    bareLineEndings: options.bareLineEndings ?? 'reject',
    rejectEightBit: options.eightBitData === 'reject',
    implicitTls: options.tls?.active ?? false,
    allowPlaintextAuth: options.auth?.allowPlaintext ?? false,
    authRequired: options.auth?.required ?? false,
    requireTls: options.requireTls ?? false,
    random: options.random ?? defaultRandom,
  };
  return resolved;
}

/** Each extension's option with its default, by the table: every extension with a server side has one. */
function resolveExtensionOptions(extensions: ServerExtensionOptions): ResolvedExtensionOptions {
  const given = extensions as Readonly<Record<string, unknown>>;
  const resolved: Record<string, unknown> = {};
  for (const [name, extension] of Object.entries(esmtpExtensions)) {
    const server = (
      extension as { readonly server?: { resolve(value: unknown, all: typeof given): unknown } }
    ).server;
    if (server !== undefined) resolved[name] = server.resolve(given[name], given);
  }
  return resolved as ResolvedExtensionOptions;
}
