import type { Domain, ReversePath } from '../address/mailbox.js';
import type { MailParameters } from '../command/command.js';
import type { IncomingMessage } from './incoming-message.js';
import type { SaslExchange } from './sasl-exchange.js';
import type { CloseReason, Envelope, Recipient, ServerState } from './server-events.js';
import type { BdatChunkReader, DataReader, RefusedChunkReader } from './server-readers.js';

/** The mail transaction being built (RFC 5321 §3.3): the accepted MAIL, the accepted RCPTs so far. */
export interface Transaction {
  readonly from: ReversePath;
  readonly parameters: MailParameters;
  readonly recipients: Recipient[];
  /** A RCPT was tried: with none accepted, DATA gets 554 rather than 503 (RFC 2920 §3.1). */
  hasRcptAttempt: boolean;
}

/**
 * What ServerSession stores as its state: the documented ServerState union (server-events.ts), each
 * variant owning what exists only there (the transaction, the message and its reader, the SASL
 * exchange). One internal variant more: the octets of a refused BDAT chunk being dropped, which
 * returns to the state it interrupted.
 */
export type SessionState =
  /** 'pending': greet() not called yet; 'refused': the greeting was 554, only QUIT is in sequence. */
  | { readonly phase: 'greeting'; readonly greeting: 'pending' | 'sent' | 'refused' }
  | { readonly phase: 'ready'; readonly client: Domain }
  | { readonly phase: 'transaction'; readonly client: Domain; readonly transaction: Transaction }
  | {
      readonly phase: 'message';
      readonly client: Domain;
      readonly transaction: Transaction;
      readonly message: IncomingMessage;
      /** null between BDAT chunks: commands are read then, as in the transaction. */
      reader: DataReader | BdatChunkReader | null;
    }
  /** AUTH only starts in 'ready' and returns there. */
  | { readonly phase: 'auth'; readonly client: Domain; readonly exchange: SaslExchange }
  | { readonly phase: 'tls-handshake' }
  | { readonly phase: 'chunk-refused'; readonly reader: RefusedChunkReader; readonly resume: CommandState }
  | { readonly phase: 'closed'; readonly reason: CloseReason };

/** The states that read command lines. */
export type CommandState = Extract<SessionState, { phase: 'greeting' | 'ready' | 'transaction' | 'message' }>;

const greetingView: ServerState = Object.freeze({ phase: 'greeting' });
const tlsHandshakeView: ServerState = Object.freeze({ phase: 'tls-handshake' });

/** The transaction of a state that has one. */
export function transactionOf(state: SessionState): Transaction | null {
  switch (state.phase) {
    case 'transaction':
    case 'message':
      return state.transaction;
    case 'chunk-refused':
      return transactionOf(state.resume);
    default:
      return null;
  }
}

/** The message being received, if any (a refused chunk can interrupt one between its chunks). */
export function messageOf(state: SessionState): IncomingMessage | null {
  if (state.phase === 'message') return state.message;
  return state.phase === 'chunk-refused' ? messageOf(state.resume) : null;
}

export function envelopeOf(transaction: Transaction): Envelope {
  return {
    from: transaction.from,
    parameters: transaction.parameters,
    recipients: transaction.recipients.slice(),
  };
}

/** The public view: plain values, nothing the caller could use to change the session. */
export function viewState(state: SessionState): ServerState {
  switch (state.phase) {
    case 'greeting':
      return greetingView;
    case 'ready':
      return { phase: 'ready', client: state.client };
    case 'transaction':
      return { phase: 'transaction', client: state.client, envelope: envelopeOf(state.transaction) };
    case 'message':
      return {
        phase: 'message',
        client: state.client,
        envelope: envelopeOf(state.transaction),
        size: state.message.size,
      };
    case 'auth':
      return { phase: 'auth', mechanism: state.exchange.mechanism };
    case 'tls-handshake':
      return tlsHandshakeView;
    case 'chunk-refused': {
      // Octets are owed, as in a message: a transaction shows as one receiving its content.
      const resume = state.resume;
      if (resume.phase !== 'transaction') return viewState(resume);
      return { phase: 'message', client: resume.client, envelope: envelopeOf(resume.transaction), size: 0 };
    }
    case 'closed':
      return { phase: 'closed', reason: state.reason };
  }
}
