import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type {
  DsnNotify,
  DsnReturn,
  Mailbox,
  MailParameterRequests,
  Reply,
  SaslMechanismName,
} from '@smtp/protocol';
import type { MessageSource } from './message-source.js';

/** Per-step timeouts in milliseconds. Defaults follow RFC 5321 §4.5.3.2 where it names one. */
export interface TimeoutOptions {
  /** TCP connect (and, with `secure`, the TLS handshake). Default 30 s. */
  readonly connectMs?: number;
  /** STARTTLS/implicit TLS handshake. Default 30 s. */
  readonly tlsHandshakeMs?: number;
  /** Initial 220 greeting. RFC 5321 §4.5.3.2.1: 5 min. */
  readonly greetingMs?: number;
  /** MAIL reply. §4.5.3.2.2: 5 min. */
  readonly mailMs?: number;
  /** RCPT reply. §4.5.3.2.3: 5 min. */
  readonly rcptMs?: number;
  /** DATA (354) reply. §4.5.3.2.4: 2 min. */
  readonly dataInitMs?: number;
  /** Each write of message data (socket not drained). §4.5.3.2.5: 3 min. */
  readonly dataBlockMs?: number;
  /** Reply to the end of data. §4.5.3.2.6: 10 min. */
  readonly dataEndMs?: number;
  /** Any other reply (EHLO, AUTH, RSET, QUIT, raw commands). Default 5 min. */
  readonly commandMs?: number;
  /**
   * Overall deadline for one `send()`, from the call until its result, queueing included. Default 15 min:
   * no send stays pending forever even if every step stays just under its own timeout.
   */
  readonly sendMs?: number;
}

export interface AuthOptions {
  readonly username: string;
  readonly password?: string;
  /** OAuth 2 bearer token, or a function returning a fresh one (called for each new connection). */
  readonly token?: string | ((options: { signal: AbortSignal }) => string | Promise<string>);
  /**
   * Act as this identity rather than `username` (SASL authorization identity, RFC 4616 §2): sent only
   * when set, and only the server decides whether to grant it (a refusal is 535 5.7.8). Needs PLAIN or
   * SCRAM-SHA-256; the other mechanisms have no field for it, so they are not chosen.
   */
  readonly authorizationId?: string;
  /**
   * The mechanism(s) to use, in order of preference. Default: the strongest one both sides support:
   * with a token OAUTHBEARER > XOAUTH2; with a password SCRAM-SHA-256 > CRAM-MD5 > PLAIN > LOGIN.
   */
  readonly mechanism?: SaslMechanismName | readonly SaslMechanismName[];
  /**
   * Send credentials on a connection without TLS. Default: true only when the server is on a loopback
   * address (127.0.0.0/8, ::1) or a Unix socket, where nothing crosses a network. Elsewhere a server that
   * offers no STARTTLS fails the send with SmtpTlsError before AUTH, and mechanisms that expose the
   * secret (PLAIN, LOGIN, XOAUTH2, OAUTHBEARER) are refused with SmtpCapabilityError.
   */
  readonly allowPlaintext?: boolean;
}

/**
 * nodemailer's `auth: { user, pass }`, accepted as `{ username, password }` so a nodemailer
 * configuration works unchanged. The other AuthOptions fields may be given along.
 */
export interface NodemailerAuthOptions extends Omit<AuthOptions, 'username' | 'password'> {
  readonly user: string;
  readonly pass?: string;
}

export interface PoolOptions {
  /** Connections open at the same time. Default 5. */
  readonly maxConnections?: number;
  /** Messages sent over one connection before it is closed and replaced. Default 100. */
  readonly maxMessagesPerConnection?: number;
  /** An idle connection is closed (QUIT) after this long. Default 10 s. */
  readonly idleTimeoutMs?: number;
  /** Start at most this many messages per second across the pool (token bucket). Default: unlimited. */
  readonly maxMessagesPerSecond?: number;
  /**
   * When to send RSET before reusing a connection. 'after-failure' (default): only when the previous
   * transaction did not end with the final reply (a completed transaction already resets the server's
   * state, RFC 5321 §4.1.1.4); 'always': before every message but the first.
   */
  readonly resetBetweenMessages?: 'always' | 'after-failure';
}

export type StartTlsPolicy = 'required' | 'opportunistic' | 'never';

/** TLS options passed to `tls.connect` (ca, cert, key, minVersion, rejectUnauthorized, servername, ...). */
export type TlsOptions = Omit<TlsConnectionOptions, 'socket' | 'host' | 'port' | 'path'>;

export interface ConnectOptions {
  /** Server host name or IP address. Default 'localhost'. */
  readonly host?: string;
  /** Default: 465 with `secure`, 24 with `lmtp`, else 587. */
  readonly port?: number;
  /** A Unix socket path instead of host/port (typical for LMTP). */
  readonly path?: string;
  /** Implicit TLS from the first byte (port 465, RFC 8314). Default false. */
  readonly secure?: boolean;
  /**
   * STARTTLS policy when not `secure` (RFC 3207). Default 'opportunistic': upgrade when the server offers
   * STARTTLS, verifying its certificate (`tls.rejectUnauthorized` is true unless set), and carry on in
   * plaintext when it does not, so local catchers work. TLS is still insisted on before credentials go
   * to a server that is not on a loopback address (see `auth.allowPlaintext`). 'required' fails with
   * SmtpTlsError when STARTTLS is not offered; 'never' stays in plaintext.
   */
  readonly starttls?: StartTlsPolicy;
  readonly tls?: TlsOptions;
  /** Credentials for AUTH (RFC 4954): `{ username, password }`, or nodemailer's `{ user, pass }`. */
  readonly auth?: AuthOptions | NodemailerAuthOptions;
  /** EHLO/LHLO name. Default: the machine's host name if it is a dotted name, else the local address literal. */
  readonly name?: string;
  /** Speak LMTP (RFC 2033): LHLO and one reply per recipient after the data. Default false. */
  readonly lmtp?: boolean;
  readonly timeouts?: TimeoutOptions;
  /** Use PIPELINING when the server offers it (RFC 2920). Default true. */
  readonly pipelining?: boolean;
  /** Use CHUNKING/BDAT when the server offers it (RFC 3030). Default true. */
  readonly chunking?: boolean;
  /** Local address to bind the socket to. */
  readonly localAddress?: string;
}

export interface ClientOptions extends ConnectOptions {
  /** Pooling; `false` opens one connection per send. Default: a pool with the PoolOptions defaults. */
  readonly pool?: boolean | PoolOptions;
}

/** An envelope address: `user@example.com`, `<user@example.com>`, or a parsed Mailbox. */
export type AddressInput = string | Mailbox;

export interface DsnOptions {
  /** RFC 3461 §4.3: return the full message or only its headers in a failure DSN. */
  readonly ret?: DsnReturn;
  /** RFC 3461 §4.4: envelope identifier echoed back in DSNs. */
  readonly envid?: string;
  /** RFC 3461 §4.1, for every recipient. */
  readonly notify?: DsnNotify;
  /** RFC 3461 §4.2: send ORCPT=rfc822;<recipient> with each recipient. Default false. */
  readonly orcpt?: boolean;
  /**
   * NOTIFY and ORCPT per recipient, keyed by the address as it goes on the wire (as in the reports'
   * `to`), over `notify`/`orcpt` above: an MTA relaying its clients' requests (RFC 3461 §5.2.1).
   */
  readonly recipients?: ReadonlyMap<string, RecipientDsnOptions>;
  /**
   * Relaying (RFC 3461 §5.2.2): send the DSN parameters only to a server that offers DSN, and leave
   * them out otherwise instead of refusing to send. The reports say which servers took them.
   */
  readonly onlyIfOffered?: boolean;
}

/** One recipient's DSN parameters as its sender gave them (RFC 3461 §4.1, §4.2). */
export interface RecipientDsnOptions {
  readonly notify?: DsnNotify;
  readonly orcpt?: { readonly addressType: string; readonly address: string };
}

/**
 * What to send. Besides the fields below, the MAIL parameters of newer extensions are asked for by their
 * name in @smtp/protocol's MailParameters (MailParameterRequests) and passed through unchanged.
 */
export interface SendOptions extends MailParameterRequests {
  readonly from: AddressInput | null;
  readonly to: AddressInput | readonly AddressInput[];
  /** The RFC 5322 message, sent as given (line ends are normalised to CRLF and dots stuffed on the way). */
  readonly message: MessageSource;
  /**
   * What the message contains, for BODY= (RFC 6152, RFC 3030). Default: detected. Strings and byte arrays
   * are scanned whole; streams are scanned as they pass (see the README, "8-bit detection").
   */
  readonly body?: '7BIT' | '8BITMIME' | 'BINARYMIME';
  /**
   * Message size for SIZE= when the message is a stream longer than 64 KiB (RFC 1870): the octets as
   * sent, with CRLF line ends; an upper bound is fine. Measured for strings, bytes and shorter streams.
   */
  readonly size?: number;
  /**
   * Request SMTPUTF8 (RFC 6531). Default: when an envelope address has a UTF-8 local part. A Unicode
   * domain name alone goes as U-labels with SMTPUTF8 when the server offers it, else as A-labels.
   */
  readonly smtpUtf8?: boolean;
  /** REQUIRETLS (RFC 8689). */
  readonly requireTls?: boolean;
  readonly dsn?: DsnOptions;
  readonly signal?: AbortSignal;
}

export interface RecipientReport {
  /** The address as it went on the wire (without angle brackets). */
  readonly to: string;
  readonly reply: Reply;
}

export interface SendTimings {
  /** Time spent waiting for a connection (queue, rate limit, connect, greeting, EHLO, TLS, AUTH). */
  readonly queuedMs: number;
  /** From the first MAIL byte to the final reply. */
  readonly transactionMs: number;
  readonly totalMs: number;
}

export interface SendResult {
  /** Recipients the server accepted (in LMTP: accepted after the data too). */
  readonly accepted: readonly RecipientReport[];
  /** Recipients refused at RCPT (or, in LMTP, after the data), with the server's reply. */
  readonly rejected: readonly RecipientReport[];
  /** The reply to the end of the data: it usually names the server's queue id. In LMTP, the last one. */
  readonly reply: Reply;
  /**
   * The server's queue id read from `reply` (Postfix "queued as …", Exim "id=…", Sendmail, Gmail, SES,
   * "Queued as …"), absent when the reply names none. A heuristic: the reply text is free-form.
   */
  readonly queueId?: string;
  /** Bytes of message data sent, before dot-stuffing. */
  readonly messageBytes: number;
  readonly timings: SendTimings;
}
