import type {
  Domain,
  ForwardPath,
  HelloVerb,
  MailParameters,
  RcptParameters,
  ReplyInit,
  ReversePath,
  SaslCredentials,
  SaslMechanismName,
  SaslSecret,
  SmtpReplyError,
} from '@smtp/protocol';
import type { MessageStream } from './message-stream.js';
import type { TlsInfo } from './tls-context.js';

/** One recipient of the current transaction, as accepted so far. */
export interface SessionRecipient {
  readonly to: ForwardPath;
  readonly parameters: RcptParameters;
}

/** The transaction so far: set after MAIL, grows with every accepted RCPT, gone after the message or RSET. */
export interface SessionEnvelope {
  readonly from: ReversePath;
  readonly parameters: MailParameters;
  readonly recipients: readonly SessionRecipient[];
}

/**
 * Who the client is after AUTH. `username` is always the identity its credentials proved (the
 * authcid; for XOAUTH2/OAUTHBEARER the name onAuth vouched for or returned), never merely a claimed one.
 * `authorizationId` is set only when the client asked to act as another identity and onAuthorize
 * granted it (RFC 4616 §2); an authzid equal to `username` is reported as null.
 */
export interface AuthenticatedUser {
  readonly username: string;
  readonly authorizationId: string | null;
  readonly mechanism: SaslMechanismName;
}

/**
 * A client authenticated as `username` asks to act as `authorizationId`, another identity (RFC 4616 §2,
 * RFC 5802 §5.1 `a=`, the XOAUTH2 `user=` / OAUTHBEARER `a=` a token does not belong to).
 */
export interface AuthorizationRequest {
  readonly mechanism: SaslMechanismName;
  readonly username: string;
  readonly authorizationId: string;
}

/** What a handler knows about the session it runs for. Read-only except `data`, which is yours. */
export interface SmtpSession {
  /** Unique per connection, for logs and Received headers. */
  readonly id: string;
  /** The client's address: the real one, or what a trusted PROXY header / XCLIENT said. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** The address the TCP connection really came from (the proxy, when there is one). */
  readonly socketAddress: string;
  /** HELO/EHLO/LHLO argument once given. */
  readonly clientHostname: Domain | null;
  readonly helloVerb: HelloVerb | null;
  /** Set while TLS is active. */
  readonly tls: TlsInfo | null;
  readonly user: AuthenticatedUser | null;
  readonly envelope: SessionEnvelope | null;
  /** Messages accepted on this connection so far. */
  readonly messageCount: number;
  /** Free-form storage for the application across hooks of one session. */
  readonly data: Record<string, unknown>;
}

/** A hook may answer with a custom text for the 2xx reply (e.g. "Queued as 8F3A"), or nothing. */
// biome-ignore lint/suspicious/noConfusingVoidType: lets `async () => {}` handlers type-check as "no text"
export type AcceptText = string | undefined | void;

/**
 * What onAuth answers: false rejects; true or nothing accepts the name the client authenticated as;
 * `{ username }` accepts and names the identity the credentials prove (a token's subject, a canonical
 * spelling), which any authzid is then compared with.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: lets `async () => {}` handlers type-check as "accept"
export type AuthVerdict = boolean | { readonly username: string } | undefined | void;

/** LMTP: one outcome per accepted recipient, in order. A string or undefined accepts; an error or ReplyInit rejects. */
export interface LmtpDataResult {
  readonly recipients: readonly (string | undefined | SmtpReplyError | ReplyInit)[];
}

/**
 * Handlers, all optional and async-friendly. Accept by returning; reject by throwing SmtpReplyError
 * (its code, enhanced status and text are sent). Any other exception answers 451 4.3.0, is logged,
 * and the server keeps serving.
 */
export interface ServerHooks {
  /** Before the greeting. Throw to refuse the connection (e.g. 554 5.7.1). */
  onConnect?(session: SmtpSession): Promise<void> | void;
  onEhlo?(client: Domain, session: SmtpSession): Promise<AcceptText> | AcceptText;
  onHelo?(client: Domain, session: SmtpSession): Promise<AcceptText> | AcceptText;
  /**
   * PLAIN, LOGIN, XOAUTH2, OAUTHBEARER: check the credentials. Return true/undefined to accept,
   * false to answer 535 5.7.8. Offered only when this hook exists. For XOAUTH2/OAUTHBEARER,
   * `credentials.username` is the name the client claims (also its `authorizationId`): accept only a
   * token issued to it, or return `{ username }` with the token's subject (needed for OAUTHBEARER
   * without `a=`, whose username is empty: an empty identity fails). Accepting does not let the
   * client act as another identity: see onAuthorize.
   */
  onAuth?(credentials: SaslCredentials, session: SmtpSession): Promise<AuthVerdict> | AuthVerdict;
  /**
   * Proxy rights (RFC 4616 §2: the server MUST check the credentials permit acting as the authzid).
   * Asked only when an exchange that proved `username` names a different `authorizationId`; return
   * true to grant. Without this hook, or with any other answer, the exchange fails with 535 5.7.8 and
   * counts as an AUTH failure. For SCRAM-SHA-256 the authzid comes in the first message, so this is
   * asked before the proof is checked; the grant counts only if the proof then verifies.
   */
  onAuthorize?(request: AuthorizationRequest, session: SmtpSession): Promise<boolean> | boolean;
  /**
   * CRAM-MD5, SCRAM-SHA-256: the core verifies, you supply the stored secret for a username
   * (`{ password }`, or `{ scram }` from deriveScramCredentials). Return null for an unknown user.
   * These mechanisms are offered only when this hook exists.
   */
  onAuthSecret?(
    request: {
      readonly mechanism: SaslMechanismName;
      readonly username: string;
      readonly authorizationId: string | null;
    },
    session: SmtpSession,
  ): Promise<SaslSecret | null> | SaslSecret | null;
  onMailFrom?(
    from: ReversePath,
    parameters: MailParameters,
    session: SmtpSession,
  ): Promise<AcceptText> | AcceptText;
  onRcptTo?(
    to: ForwardPath,
    parameters: RcptParameters,
    session: SmtpSession,
  ): Promise<AcceptText> | AcceptText;
  /**
   * The message, streamed. Resolve when you have taken responsibility for it (the reply waits for
   * you); the text becomes the 250 reply (e.g. a queue id). If you stop reading early, the rest is
   * discarded. In LMTP mode, return `{ recipients: [...] }` for per-recipient replies.
   * `session.envelope` holds sender and recipients.
   */
  onData?(
    stream: MessageStream,
    session: SmtpSession,
  ): Promise<AcceptText | LmtpDataResult> | AcceptText | LmtpDataResult;
  /** RSET, a new EHLO, or STARTTLS dropped the transaction. */
  onReset?(session: SmtpSession): Promise<void> | void;
  /** The connection is gone. Errors here are logged only. */
  onClose?(session: SmtpSession): Promise<void> | void;
}
