import type { Domain, ForwardPath } from '../address/mailbox.js';
import { parseDomain } from '../address/parse-path.js';
import { decodeBase64, encodeBase64 } from '../bytes/base64.js';
import { encodeUtf8 } from '../bytes/utf8.js';
import { serializeCommand } from '../command/serialize-command.js';
import { SmtpCapabilityError, SmtpProtocolError, SmtpReplyError, SmtpUsageError } from '../errors.js';
import { encodeBdat } from '../message/bdat.js';
import { DotEncoder } from '../message/dot-encoder.js';
import { LineEndingNormalizer } from '../message/line-ending-normalizer.js';
import type { PreparedMessage } from '../message/prepared-message.js';
import { type Capabilities, emptyCapabilities, parseCapabilities } from '../reply/capabilities.js';
import type { Reply } from '../reply/reply.js';
import { ReplyParser } from '../reply/reply-parser.js';
import type { SaslClient } from '../sasl/sasl-client.js';
import type {
  ClientEvent,
  ClientSessionOptions,
  ClientState,
  ClientTimeout,
  EnvelopeInit,
  RecipientReply,
} from './client-events.js';
import {
  type ClientAction,
  clientTransition,
  isEhloUnsupported,
  type PendingKind,
} from './client-transitions.js';
import { planEnvelope } from './envelope-plan.js';
import { planWrites } from './pipeline-plan.js';

/** One mail transaction, from MAIL to its last reply. */
interface Transaction {
  readonly recipients: readonly ForwardPath[];
  readonly transfer: 'DATA' | 'BDAT';
  mailReply: Reply | null;
  readonly rcptReplies: (Reply | null)[];
  rcptReplyCount: number;
  /** DATA was sent together with MAIL/RCPT (PIPELINING), or after them. */
  isDataSent: boolean;
  /** waiting: no body yet; open: the caller writes; suppressed: we end an empty DATA ourselves; closed: body complete. */
  body: 'waiting' | 'open' | 'suppressed' | 'closed';
  readonly encoder: DotEncoder | null;
  /** BDAT of a text body: bare CR/LF become CRLF. Null for DATA (the encoder does it) and BINARYMIME. */
  readonly lineEndings: LineEndingNormalizer | null;
  /** writeBody() was called: the encoder is past the start of the message. */
  isBodyStarted: boolean;
  readonly lmtpReplies: RecipientReply[];
  isEnded: boolean;
}

/** A reply we wait for, in the order replies will arrive (RFC 2920 §3.1: count, never match text). */
interface Expected {
  readonly kind: PendingKind;
  /** The command as shown in errors (`RCPT TO:<a@b>`); AUTH lines never carry credentials. */
  readonly command: string;
  readonly transaction: Transaction | null;
  /** rcpt and lmtp-result: which recipient. */
  readonly recipientIndex: number;
}

/** A command not yet written: its bytes and the replies it will get. */
interface Queued {
  readonly kind: PendingKind;
  readonly bytes: readonly Uint8Array[];
  readonly expects: readonly Expected[];
}

/** MAIL and RCPT as planned for one envelope, kept to send the same envelope again without re-planning. */
interface PlannedEnvelope {
  readonly envelope: EnvelopeInit;
  /** The plan holds only for what it was checked against. */
  readonly capabilities: Capabilities;
  readonly isTlsActive: boolean;
  readonly transfer: 'DATA' | 'BDAT';
  readonly recipients: readonly ForwardPath[];
  readonly mail: PlannedLine;
  readonly rcpts: readonly PlannedLine[];
}

interface PlannedLine {
  readonly line: string;
  /** The line and its CRLF, encoded once; shared by every transaction that sends it (never written into). */
  readonly bytes: Uint8Array;
}

interface AuthExchange {
  readonly client: SaslClient;
  readonly command: string;
  /** An initial response too long for the AUTH line (RFC 4954 §4): sent after the first, empty 334. */
  deferredResponse: Uint8Array | null;
  /** Set once we cancelled with "*": why. */
  cancelReason: string | null;
}

/**
 * The exchange that changes the session's footing, at most one at a time (each intent that starts one
 * refuses while another runs), or the end. Transactions run beside 'idle' or 'hello' only.
 */
type Footing =
  | { readonly kind: 'idle' }
  | { readonly kind: 'hello' } // EHLO/LHLO (or the HELO fallback) queued or sent, its reply owed
  | { readonly kind: 'starttls' } // STARTTLS sent, its reply owed
  | { readonly kind: 'tls-handshake' } // 220 to STARTTLS, tlsStarted() not called yet: all input is dropped
  | { readonly kind: 'auth'; readonly exchange: AuthExchange }
  | { readonly kind: 'closed'; readonly reason: 'quit' | 'error' | 'peer-closed' };

const idle: Footing = { kind: 'idle' };
const helloOwed: Footing = { kind: 'hello' };

/** RFC 5321 §4.5.3.1.4: 512 octets per command line, CRLF included. */
const maxCommandLineBytes = 512;
/** RFC 4954 §4: 12288 octets is enough for deployed SASL mechanisms' challenges. */
const maxReplyLineBytes = 12288 + 6;
const dataLine: PlannedLine = { line: 'DATA', bytes: encodeUtf8('DATA\r\n') };
const emptyBytes = new Uint8Array(0);

function isPositive(reply: Reply | null): reply is Reply {
  return reply !== null && reply.code >= 200 && reply.code < 300;
}

/**
 * The client side of an SMTP/LMTP session as a pure state machine (house guide §2.3): feed it the
 * server's bytes with receive(), pull events with nextEvent(), state intents (hello, startTransaction,
 * writeBody …), and write what takeOutput() returns. No I/O, timers or promises; server input never
 * throws, our caller's misuse throws SmtpUsageError, and a message the server cannot carry throws
 * SmtpCapabilityError before anything is written.
 *
 * Chunks given to writeBody()/endBody() are not copied: do not modify them afterwards.
 */
export class ClientSession {
  readonly #mode: 'smtp' | 'lmtp';
  readonly #client: Domain;
  readonly #allowPipelining: boolean;
  readonly #allowChunking: boolean;

  #parser = new ReplyParser({ maxLineBytes: maxReplyLineBytes });
  readonly #events: ClientEvent[] = [];
  #eventIndex = 0;
  #output: Uint8Array[] = [];
  #queue: Queued[] = [];
  #inFlight: Expected[] = [];

  #footing: Footing = idle;
  #isGreeted = false;
  #capabilities: Capabilities | null = null;
  #isTlsActive = false;
  #transaction: Transaction | null = null;
  /** The transaction ended early while the caller was writing its body: ignore writeBody/endBody until endBody. */
  #isBodyAbandoned = false;
  #isQuitting = false;
  /** The last envelope planned, reused when startTransaction() gets the same object again. */
  #plannedEnvelope: PlannedEnvelope | null = null;

  constructor(options: ClientSessionOptions) {
    const parsed = parseDomain(options.name, { mode: 'strict', smtpUtf8: false });
    if (!parsed.ok) throw new SmtpUsageError(`Not a valid EHLO name: ${JSON.stringify(options.name)}`);
    this.#client = parsed.value;
    this.#mode = options.mode ?? 'smtp';
    this.#allowPipelining = options.pipelining ?? true;
    this.#allowChunking = options.chunking ?? true;
    // RFC 5321 §3.1: the server speaks first; nothing may be written before its greeting.
    this.#inFlight.push({ kind: 'greeting', command: '', transaction: null, recipientIndex: -1 });
  }

  // ---- getters ----

  get state(): ClientState {
    const footing = this.#footing;
    if (footing.kind === 'closed') return { phase: 'closed', reason: footing.reason };
    if (footing.kind === 'tls-handshake') return { phase: 'tls-handshake' };
    if (!this.#isGreeted) return { phase: 'greeting' };
    if (this.#capabilities === null) return { phase: 'hello' };
    if (footing.kind === 'auth') return { phase: 'auth' };
    const transaction = this.#transaction;
    if (transaction === null) return { phase: 'ready' };
    if (transaction.body === 'open') return { phase: 'body', transfer: transaction.transfer };
    if (transaction.body === 'waiting') return { phase: 'envelope' };
    return { phase: 'data-end' };
  }

  /** What the server offered in its last EHLO/LHLO reply (empty after HELO); null until then and after STARTTLS. */
  get capabilities(): Capabilities | null {
    return this.#capabilities;
  }

  /** What we are waiting for, as RFC 5321 §4.5.3.2 names it; the I/O layer picks the duration. */
  get timeout(): ClientTimeout {
    const head = this.#inFlight[0];
    if (head === undefined) return this.#transaction?.body === 'open' ? 'data-block' : 'command';
    switch (head.kind) {
      case 'greeting':
        return 'greeting';
      case 'mail':
        return 'mail';
      case 'rcpt':
        return 'rcpt';
      case 'data':
        return 'data-init';
      case 'data-end':
      case 'bdat':
      case 'bdat-last':
      case 'lmtp-result':
        return 'data-end';
      default:
        return 'command';
    }
  }

  get isClosed(): boolean {
    return this.#footing.kind === 'closed';
  }

  get isTlsActive(): boolean {
    return this.#isTlsActive;
  }

  /**
   * Whether startTransaction() may be called now. Besides an idle session, that is the moment a
   * transaction's body is complete and only its final reply is outstanding (RFC 2920 §3.1), unless a
   * BDAT chunk before the last one is still unanswered (RFC 3030 §2: a failed chunk needs RSET first).
   */
  get canStartTransaction(): boolean {
    return this.#transactionBlocker() === null;
  }

  /** Nothing written is unanswered and nothing is waiting to be written. */
  get isIdle(): boolean {
    return this.#inFlight.length === 0 && this.#queue.length === 0;
  }

  // ---- input ----

  /**
   * Bytes from the server. Nothing of `chunk` is kept once this returns (an unfinished line is copied),
   * so the caller may read the next bytes into the same buffer.
   */
  receive(chunk: Uint8Array): void {
    if (this.#footing.kind === 'closed' || chunk.length === 0) return;
    // RFC 3207 §4.2 / CVE-2011-0411: bytes after the 220 to STARTTLS and before TLS are an injection attempt.
    if (this.#footing.kind === 'tls-handshake') {
      this.#failInjection(chunk.length);
      return;
    }
    this.#parser.push(chunk);
    while (!this.#isDeaf) {
      const result = this.#parser.next();
      if (result === null) break;
      if (!result.ok) {
        this.#fail(
          new SmtpProtocolError(
            `Malformed reply from the server: ${result.error}: ${JSON.stringify(result.line)}`,
          ),
        );
        break;
      }
      this.#handleReply(result.value);
    }
    this.#pump();
  }

  /** The server closed the connection (or the socket ended). */
  receiveEnd(): void {
    if (this.#footing.kind === 'closed') return;
    const owed = this.#inFlight.filter((expected) => expected.kind !== 'quit');
    const isQuit = this.#inFlight.length > 0 && owed.length === 0;
    if (owed.length > 0 || (this.#transaction !== null && !this.#transaction.isEnded)) {
      this.#emit({
        type: 'error',
        error: new SmtpProtocolError(
          `The server closed the connection with ${owed.length} ${owed.length === 1 ? 'reply' : 'replies'} outstanding`,
        ),
      });
    }
    this.#close(isQuit ? 'quit' : 'peer-closed');
  }

  nextEvent(): ClientEvent | null {
    const event = this.#events[this.#eventIndex];
    if (event === undefined) return null;
    this.#eventIndex += 1;
    if (this.#eventIndex === this.#events.length) {
      this.#events.length = 0;
      this.#eventIndex = 0;
    }
    return event;
  }

  /**
   * Everything to write, in one buffer; null when there is nothing. The buffer is the caller's: it
   * never aliases bytes the session sends later (a body's last part may be a shared constant, so even a
   * single part is copied).
   */
  takeOutput(): Uint8Array | null {
    const parts = this.#output;
    if (parts.length === 0) return null;
    this.#output = [];
    let total = 0;
    for (const part of parts) total += part.length;
    const buffer = new Uint8Array(total);
    let offset = 0;
    for (const part of parts) {
      buffer.set(part, offset);
      offset += part.length;
    }
    return buffer;
  }

  /**
   * Everything to write as the parts queued (views into the caller's chunks and small constants, not
   * copies); empty when there is nothing. Read-only: the constants (CRLF, the "." terminator) are shared
   * by every session, so write the parts out and never into them; takeOutput() returns a copy instead. The same bytes takeOutput() would return, for an I/O layer that
   * writes large bodies with a vectored write instead of copying them into one buffer.
   */
  takeOutputChunks(): Uint8Array[] {
    const parts = this.#output;
    if (parts.length > 0) this.#output = [];
    return parts;
  }

  // ---- intents ----

  /** EHLO (LHLO in LMTP); falls back to HELO when EHLO is not recognised (RFC 5321 §3.2). */
  hello(): void {
    this.#assertOpen('hello()');
    if (this.#footing.kind === 'hello') throw new SmtpUsageError('hello() is already in progress');
    this.#assertQuiet('hello()');
    this.#sendHello(this.#mode === 'lmtp' ? 'LHLO' : 'EHLO');
  }

  /** STARTTLS (RFC 3207). Wait for `tls-ready`, upgrade the socket, then call tlsStarted(). */
  startTls(): void {
    const capabilities = this.#assertReady('startTls()');
    if (this.#isTlsActive) throw new SmtpUsageError('TLS is already active');
    if (!capabilities.startTls)
      throw new SmtpCapabilityError('STARTTLS', 'The server does not offer STARTTLS');
    this.#footing = { kind: 'starttls' };
    this.#enqueue('starttls', 'STARTTLS', [encodeUtf8('STARTTLS\r\n')]);
  }

  /** The TLS handshake finished: forget everything learned before it and say EHLO again (RFC 3207 §4.2). */
  tlsStarted(): void {
    const footing = this.#footing.kind;
    if (footing === 'closed') return; // the server went away during the handshake
    if (footing !== 'tls-handshake') throw new SmtpUsageError('tlsStarted() without a tls-ready event');
    this.#isTlsActive = true;
    this.#parser = new ReplyParser({ maxLineBytes: maxReplyLineBytes });
    this.#capabilities = null;
    this.#sendHello(this.#mode === 'lmtp' ? 'LHLO' : 'EHLO');
  }

  /** AUTH with a SASL mechanism (RFC 4954); `auth-end` on 235, an `error` event otherwise. */
  authenticate(client: SaslClient): void {
    const capabilities = this.#assertReady('authenticate()');
    const mechanism = client.mechanism;
    if (!capabilities.auth.includes(mechanism)) {
      throw new SmtpCapabilityError('AUTH', `The server does not offer AUTH ${mechanism}`);
    }
    const initialResponse = client.initialResponse();
    const command = `AUTH ${mechanism}`;
    let line = serializeCommand({ verb: 'AUTH', mechanism, initialResponse });
    let deferredResponse: Uint8Array | null = null;
    // RFC 4954 §4: an AUTH line longer than the command limit goes without its initial response.
    if (initialResponse !== null && line.length + 2 > maxCommandLineBytes) {
      line = serializeCommand({ verb: 'AUTH', mechanism, initialResponse: null });
      deferredResponse = initialResponse;
    }
    this.#footing = { kind: 'auth', exchange: { client, command, deferredResponse, cancelReason: null } };
    this.#enqueue('auth', command, [encodeUtf8(`${line}\r\n`)]);
  }

  /**
   * MAIL FROM, RCPT TO for each recipient, and DATA: in one write with PIPELINING (RFC 2920 §3.1), else
   * one at a time. Checks the envelope against the server's capabilities first and throws before writing.
   */
  startTransaction(envelope: EnvelopeInit): void {
    const blocker = this.#transactionBlocker();
    if (blocker !== null) throw new SmtpUsageError(blocker);
    const planned = this.#plan(envelope);
    this.#isBodyAbandoned = false;
    const transaction: Transaction = {
      recipients: planned.recipients,
      transfer: planned.transfer,
      mailReply: null,
      rcptReplies: planned.recipients.map(() => null),
      rcptReplyCount: 0,
      isDataSent: false,
      body: 'waiting',
      encoder: planned.transfer === 'DATA' ? new DotEncoder() : null,
      lineEndings:
        planned.transfer === 'BDAT' && envelope.body !== 'BINARYMIME' ? new LineEndingNormalizer() : null,
      isBodyStarted: false,
      lmtpReplies: [],
      isEnded: false,
    };
    this.#transaction = transaction;
    this.#enqueuePlanned('mail', planned.mail, transaction);
    planned.rcpts.forEach((rcpt, index) => {
      this.#enqueuePlanned('rcpt', rcpt, transaction, index);
    });
    // RFC 2920 §3.1: DATA may end the group; without PIPELINING it waits for the RCPT replies, so that
    // no DATA goes out when no recipient was accepted.
    if (planned.transfer === 'DATA' && this.#isPipelining) {
      transaction.isDataSent = true;
      this.#enqueuePlanned('data', dataLine, transaction);
    }
    this.#pump();
  }

  /** Part of the message: dot-stuffed for DATA (RFC 5321 §4.5.2), one BDAT chunk for BDAT (RFC 3030). */
  writeBody(chunk: Uint8Array): void {
    const transaction = this.#openBody('writeBody()');
    if (transaction === null || chunk.length === 0) return;
    if (transaction.encoder !== null) {
      transaction.isBodyStarted = true;
      for (const part of transaction.encoder.encode(chunk)) this.#output.push(part);
      return;
    }
    transaction.isBodyStarted = true;
    const bytes = transaction.lineEndings?.normalize(chunk) ?? chunk;
    this.#enqueue('bdat', `BDAT ${bytes.length}`, encodeBdat(bytes, false), transaction);
  }

  /**
   * The message is complete: "." (DATA) or `BDAT n LAST` with `finalChunk` (`BDAT 0 LAST` without one).
   * A PreparedMessage as the whole message (no writeBody() before) goes out with its DATA encoding
   * as prepared, not scanned again.
   */
  endBody(finalChunk?: Uint8Array | PreparedMessage): void {
    const transaction = this.#openBody('endBody()');
    if (transaction === null) {
      this.#isBodyAbandoned = false;
      return;
    }
    transaction.body = 'closed';
    if (transaction.encoder !== null) {
      if (finalChunk !== undefined && !(finalChunk instanceof Uint8Array) && !transaction.isBodyStarted) {
        for (const part of finalChunk.dataParts) this.#output.push(part);
        this.#enqueueBodyEnd('data-end', '.', [finalChunk.dataEnd], transaction);
        this.#pump();
        return;
      }
      const chunk = finalChunk instanceof Uint8Array ? finalChunk : finalChunk?.bytes;
      if (chunk !== undefined && chunk.length > 0) {
        for (const part of transaction.encoder.encode(chunk)) this.#output.push(part);
      }
      this.#enqueueBodyEnd('data-end', '.', [transaction.encoder.end()], transaction);
    } else {
      const chunk = lastBdatChunk(finalChunk, transaction);
      this.#enqueueBodyEnd('bdat-last', `BDAT ${chunk.length} LAST`, encodeBdat(chunk, true), transaction);
    }
    this.#pump();
  }

  /** RSET. Abandons a transaction in progress (no transaction-end for it); answered by a `reply` event. */
  reset(): void {
    this.#assertOpen('reset()');
    if (this.#footing.kind === 'auth' || this.#footing.kind === 'starttls')
      throw new SmtpUsageError('reset() during AUTH or STARTTLS');
    if (this.#transaction?.body === 'closed')
      throw new SmtpUsageError('reset() after endBody(): wait for transaction-end');
    this.#abandonTransaction('reset()');
    this.#enqueue('rset', 'RSET', [encodeUtf8('RSET\r\n')]);
  }

  /** QUIT; the session closes on the reply (RFC 5321 §4.1.1.10). */
  quit(): void {
    this.#assertOpen('quit()');
    if (this.#footing.kind === 'auth' || this.#footing.kind === 'starttls')
      throw new SmtpUsageError('quit() during AUTH or STARTTLS');
    // After "." or BDAT LAST the transaction is complete on our side: QUIT may follow it (RFC 2920 §3.1).
    if (this.#transaction !== null && this.#transaction.body !== 'closed') this.#abandonTransaction('quit()');
    this.#sendQuit();
  }

  /** A raw command line (no CRLF), e.g. `NOOP` or `VRFY postmaster`; answered by a `reply` event. */
  command(line: string): void {
    this.#assertOpen('command()');
    if (/[\r\n\0]/.test(line)) throw new SmtpUsageError('A command line must not contain CR, LF or NUL');
    this.#assertQuiet('command()');
    this.#enqueue('raw', line, [encodeUtf8(`${line}\r\n`)]);
  }

  /**
   * Message data after a raw `DATA` that the server answered with 354 (for tools that drive a transaction
   * by hand with command(), e.g. to send malformed addresses): dot-stuffed and ended with CRLF "." CRLF
   * (RFC 5321 §4.5.2), answered by a `reply` event like a command. The caller checks the 354 first.
   */
  commandData(message: Uint8Array): void {
    this.#assertOpen('commandData()');
    this.#assertQuiet('commandData()');
    const encoder = new DotEncoder();
    this.#enqueue('raw', '.', [...encoder.encode(message), encoder.end()]);
  }

  // ---- replies ----

  #handleReply(reply: Reply): void {
    const expected = this.#inFlight.shift();
    // RFC 5321 §3.8: 421 may come at any time, in answer to anything or to nothing, and ends the session.
    if (reply.code === 421) {
      this.#fail(new SmtpReplyError(reply, expected?.command ? { command: expected.command } : {}));
      return;
    }
    if (expected === undefined) {
      this.#fail(new SmtpProtocolError(`Reply ${reply.code} arrived with no command outstanding`));
      return;
    }
    const action = clientTransition(expected.kind, reply.code);
    // Replies to commands of a transaction we abandoned (reset(), a failed BDAT) are only counted.
    if (expected.transaction?.isEnded === true && action !== 'protocol-error') return;
    this.#run(action, expected, reply);
  }

  #run(action: ClientAction, expected: Expected, reply: Reply): void {
    const transaction = expected.transaction;
    switch (action) {
      case 'greeting-ok':
        this.#isGreeted = true;
        this.#emit({ type: 'greeting', reply });
        return;
      case 'greeting-refused':
        // RFC 5321 §3.1: after a 554 greeting the client should send QUIT and wait for the reply.
        this.#emit({ type: 'error', error: new SmtpReplyError(reply) });
        this.#queue = [];
        this.#sendQuit();
        return;
      case 'hello-ok':
        this.#footing = idle;
        this.#capabilities = expected.kind === 'helo' ? emptyCapabilities : parseCapabilities(reply);
        this.#emit({ type: 'hello', capabilities: this.#capabilities, reply });
        return;
      case 'ehlo-refused':
        if (this.#mode === 'smtp' && isEhloUnsupported(reply.code)) {
          const line = serializeCommand({ verb: 'HELO', client: this.#client });
          // EHLO ended its group, so nothing was written after it: HELO goes next.
          this.#queue.unshift(this.#queued('helo', line, [encodeUtf8(`${line}\r\n`)], null));
          return;
        }
        this.#footing = idle;
        this.#emit({ type: 'error', error: new SmtpReplyError(reply, { command: expected.command }) });
        return;
      case 'hello-failed':
        this.#footing = idle;
        this.#emit({ type: 'error', error: new SmtpReplyError(reply, { command: expected.command }) });
        return;
      case 'tls-ready':
        if (this.#parser.bufferedBytes > 0) {
          this.#failInjection(this.#parser.bufferedBytes);
          return;
        }
        this.#footing = { kind: 'tls-handshake' };
        this.#emit({ type: 'tls-ready', reply });
        return;
      case 'command-failed':
        if (expected.kind === 'starttls') this.#footing = idle;
        this.#emit({ type: 'error', error: new SmtpReplyError(reply, { command: expected.command }) });
        return;
      case 'auth-challenge':
        this.#onAuthChallenge(reply);
        return;
      case 'auth-ok':
      case 'auth-failed':
        this.#onAuthEnd(reply, action === 'auth-ok');
        return;
      case 'mail-reply':
        if (transaction !== null) this.#onMailReply(transaction, reply);
        return;
      case 'rcpt-reply':
        if (transaction !== null) this.#onRcptReply(transaction, expected.recipientIndex, reply);
        return;
      case 'data-go':
        if (transaction !== null) this.#onDataGo(transaction, reply);
        return;
      case 'data-failed':
        if (transaction !== null) this.#endTransaction(transaction, reply, isPositive(transaction.mailReply));
        return;
      case 'message-reply':
        if (transaction !== null) this.#endTransaction(transaction, reply, false);
        return;
      case 'bdat-ok':
        return;
      case 'bdat-failed':
        if (transaction !== null) this.#onBdatFailed(transaction, reply);
        return;
      case 'lmtp-result':
        if (transaction !== null) this.#onLmtpResult(transaction, expected.recipientIndex, reply);
        return;
      case 'command-reply':
        this.#emit({ type: 'reply', command: expected.command, reply });
        return;
      case 'ignore':
        return;
      case 'quit-reply':
        this.#close('quit');
        return;
      case 'protocol-error':
        this.#fail(
          new SmtpProtocolError(
            `Unexpected reply ${reply.code} to ${expected.kind === 'greeting' ? 'the greeting' : expected.command}`,
          ),
        );
        return;
    }
  }

  #onAuthChallenge(reply: Reply): void {
    const auth = this.#footing.kind === 'auth' ? this.#footing.exchange : null;
    if (auth === null || auth.cancelReason !== null) {
      // RFC 4954 §4: after "*" the server must answer 501; another challenge is a broken server.
      this.#fail(new SmtpProtocolError(`Unexpected 334 reply to ${auth?.command ?? 'a non-AUTH command'}`));
      return;
    }
    const challenge = decodeBase64(reply.lines.join(''));
    let responseLine: string;
    if (challenge === null) {
      // RFC 4954 §4: a challenge that is not valid base64 MUST be cancelled with "*".
      auth.cancelReason = 'the server sent a challenge that is not valid base64';
      responseLine = '*';
    } else if (auth.deferredResponse !== null) {
      responseLine = encodeBase64(auth.deferredResponse);
      auth.deferredResponse = null;
    } else {
      const step = auth.client.respond(challenge);
      if (step.ok) {
        responseLine = encodeBase64(step.response);
      } else {
        auth.cancelReason = step.error;
        responseLine = '*';
      }
    }
    this.#enqueue('auth', auth.command, [encodeUtf8(`${responseLine}\r\n`)]);
  }

  #onAuthEnd(reply: Reply, isSuccess: boolean): void {
    if (this.#footing.kind !== 'auth') return;
    const auth = this.#footing.exchange;
    this.#footing = idle;
    if (auth.cancelReason !== null) {
      this.#emit({
        type: 'error',
        error: new SmtpProtocolError(`${auth.command} cancelled: ${auth.cancelReason}`, {
          cause: new SmtpReplyError(reply, { command: auth.command }),
        }),
      });
      return;
    }
    if (isSuccess) this.#emit({ type: 'auth-end', reply });
    else this.#emit({ type: 'error', error: new SmtpReplyError(reply, { command: auth.command }) });
  }

  #onMailReply(transaction: Transaction, reply: Reply): void {
    transaction.mailReply = reply;
    if (isPositive(reply)) return;
    // MAIL refused: what has not been written yet will not be. Pipelined RCPT/DATA replies still come.
    this.#dropQueued(transaction);
    if (!this.#inFlight.some((expected) => expected.transaction === transaction)) {
      this.#endTransaction(transaction, reply, false);
    }
  }

  #onRcptReply(transaction: Transaction, index: number, reply: Reply): void {
    transaction.rcptReplies[index] = reply;
    transaction.rcptReplyCount += 1;
    const to = transaction.recipients[index];
    if (to !== undefined && isPositive(transaction.mailReply))
      this.#emit({ type: 'recipient-result', to, reply });
    if (transaction.rcptReplyCount < transaction.recipients.length) return;
    // All RCPT replies are in.
    if (transaction.isDataSent) return; // the DATA reply decides (pipelined)
    if (!isPositive(transaction.mailReply)) {
      this.#endTransaction(transaction, transaction.mailReply, false);
      return;
    }
    if (!transaction.rcptReplies.some(isPositive)) {
      this.#endTransaction(transaction, null, true);
      return;
    }
    if (transaction.transfer === 'DATA') {
      transaction.isDataSent = true;
      this.#enqueuePlanned('data', dataLine, transaction);
      return;
    }
    // RFC 3030 §2: BDAT goes once all MAIL and RCPT replies are collected.
    transaction.body = 'open';
    this.#emit({ type: 'body-ready', reply, transfer: 'BDAT' });
  }

  #onDataGo(transaction: Transaction, reply: Reply): void {
    if (!isPositive(transaction.mailReply) || !transaction.rcptReplies.some(isPositive)) {
      // RFC 2920 §3.1: DATA accepted although no recipient was: send a single dot, no body.
      transaction.body = 'suppressed';
      this.#enqueue('data-end', '.', [new Uint8Array([0x2e, 0x0d, 0x0a])], transaction);
      return;
    }
    transaction.body = 'open';
    this.#emit({ type: 'body-ready', reply, transfer: 'DATA' });
  }

  #onBdatFailed(transaction: Transaction, reply: Reply): void {
    // RFC 3030 §2: after a failed BDAT send no more chunks; the server discards those already pipelined,
    // answering each once (so an LMTP BDAT LAST then gets one reply, not one per recipient).
    let isFirstLmtp = true;
    this.#inFlight = this.#inFlight.flatMap((expected): Expected[] => {
      if (expected.transaction !== transaction || expected.kind !== 'lmtp-result') return [expected];
      if (!isFirstLmtp) return [];
      isFirstLmtp = false;
      return [{ ...expected, kind: 'bdat' }];
    });
    // RFC 3030 §2: "A RSET command MUST be issued to clear the transaction".
    this.#endTransaction(transaction, reply, true);
  }

  #onLmtpResult(transaction: Transaction, index: number, reply: Reply): void {
    const to = transaction.recipients[index];
    if (to !== undefined) transaction.lmtpReplies.push({ to, reply });
    if (!this.#inFlight.some((expected) => expected.transaction === transaction)) {
      this.#endTransaction(transaction, null, false);
    }
  }

  #endTransaction(transaction: Transaction, decisive: Reply | null, needsReset: boolean): void {
    transaction.isEnded = true;
    this.#dropQueued(transaction);
    const mailReply = transaction.mailReply;
    const accepted: RecipientReply[] = [];
    const rejected: RecipientReply[] = [];
    transaction.recipients.forEach((to, index) => {
      const rcptReply = transaction.rcptReplies[index] ?? null;
      if (!isPositive(mailReply)) {
        if (mailReply !== null) rejected.push({ to, reply: mailReply });
      } else if (isPositive(rcptReply)) accepted.push({ to, reply: rcptReply });
      else rejected.push({ to, reply: rcptReply ?? mailReply });
    });
    let reply = decisive;
    if (!isPositive(mailReply)) reply = mailReply;
    else if (accepted.length === 0) reply = null;
    const result =
      this.#mode === 'lmtp' && transaction.lmtpReplies.length > 0
        ? { accepted, rejected, reply: null, lmtpReplies: transaction.lmtpReplies }
        : { accepted, rejected, reply };
    if (this.#transaction === transaction) {
      this.#transaction = null;
      if (transaction.body === 'open') this.#isBodyAbandoned = true;
    }
    if (needsReset && isPositive(mailReply) && !this.#isQuitting) {
      this.#enqueue('rset-silent', 'RSET', [encodeUtf8('RSET\r\n')]);
    }
    this.#emit({ type: 'transaction-end', result });
  }

  // ---- helpers ----

  get #isPipelining(): boolean {
    return this.#allowPipelining && this.#capabilities?.pipelining === true;
  }

  #emit(event: ClientEvent): void {
    this.#events.push(event);
  }

  #fail(error: SmtpReplyError | SmtpProtocolError): void {
    this.#emit({ type: 'error', error });
    this.#close('error');
  }

  /**
   * RFC 3207 §4.2 / CVE-2011-0411: the server sends nothing between its 220 to STARTTLS and our
   * ClientHello, so bytes there were injected on the path. Dropping them would also be safe; closing
   * is stricter and says what happened.
   */
  #failInjection(byteCount: number): void {
    this.#fail(
      new SmtpProtocolError(
        `The server sent ${byteCount} bytes after its 220 reply to STARTTLS, before the TLS handshake ` +
          '(RFC 3207 §4.2: possible command injection); closing the connection',
      ),
    );
  }

  #close(reason: 'quit' | 'error' | 'peer-closed'): void {
    if (this.#footing.kind === 'closed') return;
    this.#footing = { kind: 'closed', reason };
    this.#queue = [];
    this.#inFlight = [];
    this.#output = [];
    if (this.#transaction !== null) this.#transaction.isEnded = true;
    this.#transaction = null;
    this.#emit({ type: 'close' });
  }

  /** Closed, or between the 220 to STARTTLS and tlsStarted(): server input is not read. */
  get #isDeaf(): boolean {
    const kind = this.#footing.kind;
    return kind === 'closed' || kind === 'tls-handshake';
  }

  // Why an intent cannot be stated now, as the message of the SmtpUsageError it throws; null when it can.
  // Kept as values so that canStartTransaction asks the same questions without throwing.

  #openProblem(method: string): string | null {
    const kind = this.#footing.kind;
    if (kind === 'closed') return `${method} on a closed session`;
    if (this.#isQuitting) return `${method} after quit()`;
    if (kind === 'tls-handshake') return `${method} before tlsStarted()`;
    return null;
  }

  /** Nothing that changes the session's footing is under way. */
  #quietProblem(method: string): string | null {
    if (this.#transaction !== null) return `${method} during a mail transaction`;
    const kind = this.#footing.kind;
    if (kind === 'auth') return `${method} during AUTH`;
    if (kind === 'starttls') return `${method} while STARTTLS is pending`;
    return null;
  }

  #helloProblem(method: string): string | null {
    return this.#capabilities === null ? `${method} before the server answered hello()` : null;
  }

  /**
   * Like ready for any intent, but a transaction whose body is complete (only its final reply
   * outstanding) does not block the next one: RFC 2920 §3.1 lets MAIL follow "." or BDAT LAST in the
   * same group, so a busy connection sends one write per message. Not while a BDAT chunk before the
   * last one still waits for its reply: if it failed, the server needs RSET before MAIL (RFC 3030 §2).
   */
  #transactionBlocker(): string | null {
    const method = 'startTransaction()';
    const previous = this.#transaction;
    if (previous === null || previous.body !== 'closed') {
      return this.#openProblem(method) ?? this.#quietProblem(method) ?? this.#helloProblem(method);
    }
    const problem = this.#openProblem(method) ?? this.#helloProblem(method);
    if (problem !== null) return problem;
    const isUnansweredChunk = (expected: Expected) =>
      expected.transaction === previous && expected.kind === 'bdat';
    if (
      this.#inFlight.some(isUnansweredChunk) ||
      this.#queue.some((queued) => queued.expects.some(isUnansweredChunk))
    ) {
      return `${method} while a BDAT chunk of the previous transaction is unanswered`;
    }
    return null;
  }

  #assertOpen(method: string): void {
    const problem = this.#openProblem(method);
    if (problem !== null) throw new SmtpUsageError(problem);
  }

  #assertQuiet(method: string): void {
    const problem = this.#quietProblem(method);
    if (problem !== null) throw new SmtpUsageError(problem);
  }

  #assertReady(method: string): Capabilities {
    const problem = this.#openProblem(method) ?? this.#quietProblem(method) ?? this.#helloProblem(method);
    if (problem !== null) throw new SmtpUsageError(problem);
    return this.#capabilities as Capabilities;
  }

  /** The transaction whose body the caller may write, or null when it was abandoned (ignore the call). */
  #openBody(method: string): Transaction | null {
    const transaction = this.#transaction;
    if (transaction !== null && transaction.body === 'open') return transaction;
    if (transaction === null && this.#isBodyAbandoned) return null;
    if (this.#footing.kind === 'closed') throw new SmtpUsageError(`${method} on a closed session`);
    throw new SmtpUsageError(`${method} before a body-ready event`);
  }

  #abandonTransaction(method: string): void {
    const transaction = this.#transaction;
    if (transaction === null) return;
    // RFC 5321 §4.1.1.4: once DATA is out, the server reads everything up to "." as the message; a
    // command written now would become part of it.
    if (transaction.isDataSent && transaction.body !== 'closed') {
      throw new SmtpUsageError(`${method} while DATA is in progress: end the body first`);
    }
    transaction.isEnded = true;
    this.#dropQueued(transaction);
    this.#transaction = null;
    this.#isBodyAbandoned = transaction.body === 'open';
  }

  #dropQueued(transaction: Transaction): void {
    this.#queue = this.#queue.filter((queued) => queued.expects[0]?.transaction !== transaction);
  }

  #sendHello(verb: 'EHLO' | 'LHLO'): void {
    this.#footing = helloOwed;
    this.#capabilities = null;
    const line = serializeCommand({ verb, client: this.#client });
    this.#enqueue(verb === 'EHLO' ? 'ehlo' : 'lhlo', line, [encodeUtf8(`${line}\r\n`)]);
  }

  #sendQuit(): void {
    this.#isQuitting = true;
    this.#enqueue('quit', 'QUIT', [encodeUtf8('QUIT\r\n')]);
  }

  #queued(
    kind: PendingKind,
    command: string,
    bytes: readonly Uint8Array[],
    transaction: Transaction | null,
    recipientIndex = -1,
  ): Queued {
    return { kind, bytes, expects: [{ kind, command, transaction, recipientIndex }] };
  }

  #enqueue(
    kind: PendingKind,
    command: string,
    bytes: readonly Uint8Array[],
    transaction: Transaction | null = null,
  ): void {
    this.#queue.push(this.#queued(kind, command, bytes, transaction));
    this.#pump();
  }

  /**
   * MAIL and RCPT for an envelope: planned and encoded once, and reused while the caller passes the
   * same envelope object against the same capabilities and TLS state (a load generator sends one
   * envelope thousands of times). EnvelopeInit is read-only: a caller that changes one passes a new one.
   */
  #plan(envelope: EnvelopeInit): PlannedEnvelope {
    const capabilities = this.#capabilities as Capabilities;
    const cached = this.#plannedEnvelope;
    if (
      cached !== null &&
      cached.envelope === envelope &&
      cached.capabilities === capabilities &&
      cached.isTlsActive === this.#isTlsActive
    ) {
      return cached;
    }
    const plan = planEnvelope(envelope, {
      capabilities,
      isTlsActive: this.#isTlsActive,
      isChunkingAllowed: this.#allowChunking,
    });
    // Serialise everything first: a value serializeCommand refuses throws before any state changes.
    const planLine = (line: string): PlannedLine => ({ line, bytes: encodeUtf8(`${line}\r\n`) });
    const planned: PlannedEnvelope = {
      envelope,
      capabilities,
      isTlsActive: this.#isTlsActive,
      transfer: plan.transfer,
      recipients: plan.recipients.map((recipient) => recipient.to),
      mail: planLine(serializeCommand(plan.mail)),
      rcpts: plan.recipients.map((recipient) => planLine(serializeCommand(recipient.command))),
    };
    this.#plannedEnvelope = planned;
    return planned;
  }

  /** Queues a transaction command without writing it yet (the caller pumps once the group is complete). */
  #enqueuePlanned(
    kind: PendingKind,
    planned: PlannedLine,
    transaction: Transaction,
    recipientIndex = -1,
  ): void {
    this.#queue.push(this.#queued(kind, planned.line, [planned.bytes], transaction, recipientIndex));
  }

  /** "." or BDAT LAST: in LMTP one reply per accepted recipient follows (RFC 2033 §4.2). */
  #enqueueBodyEnd(
    kind: 'data-end' | 'bdat-last',
    command: string,
    bytes: readonly Uint8Array[],
    transaction: Transaction,
  ): void {
    if (this.#mode === 'smtp') {
      this.#queue.push(this.#queued(kind, command, bytes, transaction));
      return;
    }
    const expects: Expected[] = [];
    transaction.rcptReplies.forEach((reply, recipientIndex) => {
      if (isPositive(reply)) expects.push({ kind: 'lmtp-result', command, transaction, recipientIndex });
    });
    this.#queue.push({ kind, bytes, expects });
  }

  /** Writes every queued command the pipelining rules allow now (pipeline-plan.ts). */
  #pump(): void {
    if (this.#isDeaf) return;
    const last = this.#inFlight[this.#inFlight.length - 1];
    const count = planWrites(this.#queue, last === undefined ? null : last.kind, this.#isPipelining);
    if (count === 0) return;
    for (const queued of this.#queue.splice(0, count)) {
      for (const part of queued.bytes) this.#output.push(part);
      for (const expected of queued.expects) this.#inFlight.push(expected);
    }
  }
}

/**
 * The final BDAT chunk with bare line endings fixed, and the LF a trailing CR of the last chunk was
 * owed. A PreparedMessage that is the whole message goes as prepared, not scanned again.
 */
function lastBdatChunk(
  finalChunk: Uint8Array | PreparedMessage | undefined,
  transaction: { readonly lineEndings: LineEndingNormalizer | null; readonly isBodyStarted: boolean },
): Uint8Array {
  const { lineEndings } = transaction;
  if (finalChunk !== undefined && !(finalChunk instanceof Uint8Array)) {
    if (lineEndings === null) return finalChunk.bytes; // BINARYMIME: as given
    if (!transaction.isBodyStarted) return finalChunk.bdatBytes;
  }
  const chunk = (finalChunk instanceof Uint8Array ? finalChunk : finalChunk?.bytes) ?? emptyBytes;
  return lineEndings === null ? chunk : lineEndings.finish(chunk);
}
