import type { Domain, ForwardPath, ReversePath } from '../address/mailbox.js';
import type { HelloVerb, MailParameters, RcptParameters } from '../command/command.js';
import type { XclientPeer } from '../proxy/xclient.js';
import type { Reply } from '../reply/reply.js';
import type { SaslMechanismName } from '../sasl/sasl-mechanism.js';
import type { SaslServerStep } from '../sasl/sasl-server.js';

/** Why a session closed. */
export type CloseReason = 'quit' | 'too-many-errors' | 'timeout' | 'shutdown' | 'peer-closed';

/** Why a message was given up: its chunks so far must be thrown away. */
export type MessageAbortReason =
  | 'too-large' // more than limits.maxMessageBytes (552 5.3.4 after the data)
  | 'bare-line-ending' // bare CR or LF with bareLineEndings 'reject' (550 5.6.0 after the data)
  | 'line-too-long' // a text line over limits.maxTextLineBytes
  | 'eight-bit' // 8-bit data in a 7BIT message with eightBitData 'reject' (554 5.6.1)
  | 'peer-closed' // the connection ended mid-message
  | 'timeout' // timedOut() mid-message
  | 'shutdown' // shutdown() mid-message
  | 'reset'; // RSET, EHLO, XCLIENT or too many errors between BDAT chunks

export interface Recipient {
  readonly to: ForwardPath;
  readonly parameters: RcptParameters;
}

/** The mail transaction so far (RFC 5321 §3.3): the accepted MAIL and the accepted RCPTs, in order. */
export interface Envelope {
  readonly from: ReversePath;
  readonly parameters: MailParameters;
  readonly recipients: readonly Recipient[];
}

export interface AuthenticatedIdentity {
  readonly username: string;
  readonly authorizationId: string | null;
  readonly mechanism: SaslMechanismName;
}

/** Where the session stands; an envelope exists only where it can exist. */
export type ServerState =
  | { readonly phase: 'greeting' } // no HELO/EHLO/LHLO accepted yet (also after STARTTLS and XCLIENT)
  | { readonly phase: 'ready'; readonly client: Domain }
  | { readonly phase: 'transaction'; readonly client: Domain; readonly envelope: Envelope }
  | { readonly phase: 'message'; readonly client: Domain; readonly envelope: Envelope; readonly size: number }
  | { readonly phase: 'auth'; readonly mechanism: SaslMechanismName }
  | { readonly phase: 'tls-handshake' }
  | { readonly phase: 'closed'; readonly reason: CloseReason };

/** What the peer owes us now; @smtp/server turns it into a duration. */
export type ServerTimeout = 'command' | 'data' | 'auth' | 'tls-handshake';

/**
 * Events, in the order the input raised them. Pending events (hello, auth, mail, rcpt, message-end,
 * xclient) wait for accept()/reject(); nothing after them is read until then.
 */
export type ServerEvent =
  | { readonly type: 'hello'; readonly verb: HelloVerb; readonly client: Domain }
  | { readonly type: 'auth'; readonly mechanism: SaslMechanismName; readonly step: SaslAppStep }
  | {
      readonly type: 'authenticated';
      readonly username: string;
      readonly authorizationId: string | null;
      readonly mechanism: SaslMechanismName;
    }
  /**
   * An exchange the core verified itself (CRAM-MD5, SCRAM-SHA-256: accept() gave it the secret) ended
   * without success: a wrong proof, a cancel, a malformed answer ('invalid-credentials'), or the
   * session closed mid-exchange ('incomplete'). Informational like 'authenticated': count it against
   * the client, e.g. for AUTH throttling. Refusals decided by the application raise nothing.
   */
  | {
      readonly type: 'auth-failed';
      readonly username: string;
      readonly mechanism: SaslMechanismName;
      readonly reason: 'invalid-credentials' | 'incomplete';
    }
  | { readonly type: 'mail'; readonly from: ReversePath; readonly parameters: MailParameters }
  | { readonly type: 'rcpt'; readonly to: ForwardPath; readonly parameters: RcptParameters }
  | { readonly type: 'message-start'; readonly transfer: 'DATA' | 'BDAT' }
  /** Unstuffed message bytes: a view that is never mutated later, so it may be kept without copying. */
  | { readonly type: 'message-chunk'; readonly bytes: Uint8Array }
  | { readonly type: 'message-end'; readonly size: number }
  | { readonly type: 'message-abort'; readonly reason: MessageAbortReason }
  /** 220 is queued: flush takeOutput(), upgrade the socket, then call tlsStarted(). */
  | { readonly type: 'tls-ready' }
  | { readonly type: 'reset'; readonly cause: 'rset' | 'hello' | 'tls' | 'xclient' }
  | { readonly type: 'xclient'; readonly peer: XclientPeer }
  /** The core answered a command on its own with an error (500/501/503/530/555…). */
  | { readonly type: 'command-rejected'; readonly line: string; readonly reply: Reply }
  /** Flush takeOutput(), then close the connection. */
  | { readonly type: 'close'; readonly reason: CloseReason };

/** The SASL steps the application answers: check credentials, or supply the stored secret. */
export type SaslAppStep = Extract<SaslServerStep, { type: 'verify' } | { type: 'lookup' }>;

export type PendingServerEvent = Extract<
  ServerEvent,
  { type: 'hello' | 'auth' | 'mail' | 'rcpt' | 'message-end' | 'xclient' }
>;
