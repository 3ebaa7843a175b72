import {
  createSaslServer,
  decodeBase64,
  encodeBase64,
  type SaslServer,
  type SaslServerStep,
} from '@smtp/protocol';
import { MessageEncoder } from './message-encoder.js';
import { type Pop3Command, parsePop3Command } from './pop3-command.js';
import { type Pop3Reply, type Pop3ReplyName, pop3Replies, serializePop3Reply } from './pop3-replies.js';

/** One message of the maildrop as it was at login (RFC 1939 §5: numbers stay fixed for the session). */
export interface MaildropEntry {
  /** The capture id: also the UIDL unique-id (ULID characters, within RFC 1939 §7's 0x21..0x7E). */
  readonly id: string;
  /** The stored message's size: exactly the octets RETR sends before byte-stuffing. */
  readonly sizeBytes: number;
}

export type Pop3CloseReason =
  | 'quit'
  | 'too-many-failed-logins'
  | 'too-many-errors'
  | 'timeout'
  | 'shutdown'
  | 'peer-closed';

/** Where the session is. The maildrop exists only where it can exist. */
export type Pop3State =
  | { readonly phase: 'authorization'; readonly username: string | null }
  | { readonly phase: 'sasl' }
  | { readonly phase: 'tls-handshake' }
  | { readonly phase: 'transaction'; readonly messageCount: number }
  | { readonly phase: 'update' }
  | { readonly phase: 'closed'; readonly reason: Pop3CloseReason };

/** Why a login was refused, chosen by the I/O layer. */
export type LoginRejection = 'invalid-credentials' | 'throttled' | 'store-unavailable';

export type Pop3Event =
  /** Pending: check the password, then acceptLogin(maildrop snapshot) or rejectLogin(). */
  | {
      readonly type: 'login';
      readonly mechanism: 'USER' | 'PLAIN';
      readonly username: string;
      readonly password: string;
    }
  /** Pending (RETR, TOP): feed the stored bytes to messageChunk() then messageEnd(), or messageFailed(). */
  | {
      readonly type: 'message-request';
      readonly id: string;
      readonly messageNumber: number;
      /** TOP's body line count; null for RETR (the whole message). */
      readonly bodyLineLimit: number | null;
    }
  /** "+OK Begin TLS negotiation" is queued: flush, upgrade the socket, then tlsStarted(). */
  | { readonly type: 'tls-ready' }
  /** Pending (QUIT in TRANSACTION, RFC 1939 §6): remove these, then updateEnd(). */
  | { readonly type: 'update'; readonly deletedIds: readonly string[] }
  /** The session answered a bad line by itself (for the log). */
  | { readonly type: 'command-rejected'; readonly line: string; readonly reply: Pop3ReplyName }
  | { readonly type: 'close'; readonly reason: Pop3CloseReason };

export interface Pop3SessionOptions {
  /** A certificate is there: offer STLS (RFC 2595 §4) on a connection that is not TLS yet. */
  readonly isTlsAvailable: boolean;
  /** TLS from the first byte (POP3S, RFC 8314 §3.3). */
  readonly isTlsActive: boolean;
  /**
   * USER/PASS and AUTH PLAIN before TLS: the client is on loopback, or pop3.allowPlaintext says so
   * (like Dovecot's disable_plaintext_auth). After STLS they are always allowed.
   */
  readonly isPlaintextAuthAllowed: boolean;
  /** Longest line, CRLF included. RFC 2449 §4 asks for at least 255. Default 1024. */
  readonly maxLineBytes?: number;
  /** Failed logins before the session closes. Default 3. */
  readonly maxFailedLogins?: number;
  /** Bad commands before the session closes. Default 20. */
  readonly maxBadCommands?: number;
  /** The IMPLEMENTATION capability (RFC 2449 §6.9). */
  readonly implementation?: string;
}

/** A RETR or TOP being answered. */
interface MessageInProgress {
  readonly encoder: MessageEncoder;
  /** The status line's text: "120 octets" for RETR (RFC 1939 §7), empty for TOP. */
  readonly heading: string;
  hasStarted: boolean;
}

const lineFeed = 0x0a;
const encoder = new TextEncoder();
const lineDecoder = new TextDecoder();
const noRandom = (): Uint8Array => {
  throw new Error('PLAIN needs no nonce');
};

/**
 * A POP3 server session (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH PLAIN), without
 * I/O: receive() bytes, nextEvent() until null, answer a pending event, takeOutput() and write it.
 * Peer input never throws; calling a method the state does not allow does (our own bug).
 * AUTHORIZATION → TRANSACTION → UPDATE (RFC 1939 §3); every transition is in #handle().
 */
export class Pop3Session {
  readonly #options: Required<Pop3SessionOptions>;
  #state: Pop3State = { phase: 'authorization', username: null };
  #isTlsActive: boolean;
  #buffer: Uint8Array = new Uint8Array(0);
  #isDiscardingLine = false;
  readonly #events: Pop3Event[] = [];
  #pending: Pop3Event | null = null;
  readonly #output: Uint8Array[] = [];
  #failedLogins = 0;
  #badCommands = 0;
  #sasl: SaslServer | null = null;
  #maildrop: readonly MaildropEntry[] = [];
  readonly #deleted = new Set<number>();
  #message: MessageInProgress | null = null;

  constructor(options: Pop3SessionOptions) {
    this.#options = {
      maxLineBytes: 1024,
      maxFailedLogins: 3,
      maxBadCommands: 20,
      implementation: 'smtp-app',
      ...options,
    };
    this.#isTlsActive = options.isTlsActive;
    this.#reply(pop3Replies.greeting);
  }

  get state(): Pop3State {
    return this.#state;
  }

  /** The event waiting for its answer, if any. */
  get pending(): Pop3Event | null {
    return this.#pending;
  }

  /** Unconsumed input: bounded by maxLineBytes while lines are being read. */
  get bufferedBytes(): number {
    return this.#buffer.length;
  }

  receive(chunk: Uint8Array): void {
    if (this.#state.phase === 'closed') return;
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    this.#buffer = joined;
  }

  /** The peer closed its side: no UPDATE (RFC 1939 §6, only QUIT enters it). */
  receiveEnd(): void {
    if (this.#state.phase !== 'closed') this.#close('peer-closed');
  }

  nextEvent(): Pop3Event | null {
    for (;;) {
      const queued = this.#events.shift();
      if (queued !== undefined) return queued;
      if (this.#pending !== null) return null;
      const phase = this.#state.phase;
      if (phase === 'closed' || phase === 'tls-handshake' || phase === 'update') return null;
      const line = this.#nextLine();
      if (line === null) return null;
      if (line === 'too-long')
        this.#reject('', 'lineTooLong', `Line too long (at most ${this.#options.maxLineBytes} octets)`);
      else this.#handle(line);
    }
  }

  takeOutput(): Uint8Array | null {
    if (this.#output.length === 0) return null;
    if (this.#output.length === 1) return this.#output.pop() ?? null;
    let totalBytes = 0;
    for (const piece of this.#output) totalBytes += piece.length;
    const joined = new Uint8Array(totalBytes);
    let offset = 0;
    for (const piece of this.#output) {
      joined.set(piece, offset);
      offset += piece.length;
    }
    this.#output.length = 0;
    return joined;
  }

  /** The password is right: the maildrop as it is now, oldest first, is the session's (RFC 1939 §4). */
  acceptLogin(maildrop: readonly MaildropEntry[]): void {
    if (this.#state.phase === 'closed') return; // shut down or timed out meanwhile: nothing to answer
    this.#takePending('login');
    this.#maildrop = maildrop;
    this.#deleted.clear();
    this.#state = { phase: 'transaction', messageCount: maildrop.length };
    this.#reply(pop3Replies.loggedIn, `Logged in; ${this.#describeMaildrop()}`);
  }

  rejectLogin(reason: LoginRejection): void {
    if (this.#state.phase === 'closed') return; // shut down or timed out meanwhile: nothing to answer
    this.#takePending('login');
    this.#state = { phase: 'authorization', username: null };
    if (reason === 'throttled') {
      this.#reply(pop3Replies.loginThrottled);
      return;
    }
    if (reason === 'store-unavailable') {
      this.#reply(pop3Replies.storeUnavailable);
      return;
    }
    this.#failedLogins += 1;
    if (this.#failedLogins >= this.#options.maxFailedLogins) {
      this.#reply(pop3Replies.tooManyFailedLogins);
      this.#close('too-many-failed-logins');
      return;
    }
    this.#reply(pop3Replies.invalidCredentials);
  }

  /** The next bytes of the requested message, as stored. */
  messageChunk(chunk: Uint8Array): void {
    if (this.#state.phase === 'closed') return; // shut down or timed out meanwhile: nothing to answer
    const message = this.#startMessage();
    if (message.encoder.isComplete) return;
    for (const piece of message.encoder.encode(chunk)) this.#output.push(piece);
  }

  /** The requested message is complete: the terminating ".CRLF" follows. */
  messageEnd(): void {
    if (this.#state.phase === 'closed') return; // shut down or timed out meanwhile: nothing to answer
    const message = this.#startMessage();
    this.#output.push(message.encoder.end());
    this.#message = null;
    this.#takePending('message-request');
  }

  /** The message could not be read; only before its first chunk. */
  messageFailed(reason: 'gone' | 'store-unavailable'): void {
    if (this.#state.phase === 'closed') return; // shut down or timed out meanwhile: nothing to answer
    if (this.#message?.hasStarted === true) throw new Error('messageFailed() after the first chunk');
    this.#message = null;
    this.#takePending('message-request');
    this.#reply(reason === 'gone' ? pop3Replies.messageGone : pop3Replies.storeUnavailable);
  }

  /** The UPDATE state's work is done (RFC 1939 §6): +OK, or -ERR when some were not removed. */
  updateEnd(result: { readonly isSuccess: boolean; readonly deletedCount: number }): void {
    if (this.#state.phase === 'closed') return; // shut down or timed out meanwhile: nothing to answer
    this.#takePending('update');
    if (result.isSuccess) this.#reply(pop3Replies.bye, `Bye; ${result.deletedCount} deleted`);
    else this.#reply(pop3Replies.updateFailed);
    this.#close('quit');
  }

  /** The TLS handshake after STLS finished: input sent before it is dropped (RFC 2595 §4, injection). */
  tlsStarted(): void {
    if (this.#state.phase === 'closed') return; // shut down or timed out meanwhile: nothing to answer
    if (this.#state.phase !== 'tls-handshake') throw new Error('tlsStarted() without STLS');
    this.#buffer = new Uint8Array(0);
    this.#isDiscardingLine = false;
    this.#isTlsActive = true;
    this.#state = { phase: 'authorization', username: null };
  }

  /** The autologout timer fired (RFC 1939 §3): close without UPDATE. */
  timedOut(): void {
    if (this.#state.phase === 'closed') return;
    this.#reply(pop3Replies.idleTimeout);
    this.#close('timeout');
  }

  shutdown(): void {
    if (this.#state.phase === 'closed') return;
    this.#reply(pop3Replies.shuttingDown);
    this.#close('shutdown');
  }

  #handle(line: string): void {
    if (this.#state.phase === 'sasl') {
      this.#handleSaslResponse(line);
      return;
    }
    const parsed = parsePop3Command(line);
    if (!parsed.ok) {
      this.#reject(line, parsed.reply);
      return;
    }
    const { command } = parsed;
    // Commands every state answers.
    if (command.keyword === 'CAPA') {
      this.#sendCapabilities();
      return;
    }
    if (command.keyword === 'QUIT') {
      this.#quit();
      return;
    }
    if (this.#state.phase === 'authorization') {
      this.#handleAuthorization(line, command);
      return;
    }
    if (this.#state.phase === 'transaction') {
      this.#handleTransaction(line, command);
      return;
    }
  }

  #handleAuthorization(line: string, command: Pop3Command): void {
    const isAuthAllowed = this.#isTlsActive || this.#options.isPlaintextAuthAllowed;
    switch (command.keyword) {
      case 'USER':
        if (!isAuthAllowed) {
          this.#reply(pop3Replies.plaintextDisallowed);
          return;
        }
        this.#state = { phase: 'authorization', username: command.username };
        this.#reply(pop3Replies.userAccepted);
        return;
      case 'PASS': {
        // RFC 1939 §7: PASS is valid only right after a successful USER.
        const username = this.#state.phase === 'authorization' ? this.#state.username : null;
        if (username === null) {
          this.#reject(line, 'passWithoutUser');
          return;
        }
        this.#state = { phase: 'authorization', username: null };
        this.#ask({ type: 'login', mechanism: 'USER', username, password: command.password });
        return;
      }
      case 'AUTH':
        this.#startAuth(command.mechanism, command.initialResponse, isAuthAllowed);
        return;
      case 'STLS':
        if (this.#isTlsActive) {
          this.#reject(line, 'tlsActive');
          return;
        }
        if (!this.#options.isTlsAvailable) {
          this.#reject(line, 'tlsUnavailable');
          return;
        }
        this.#state = { phase: 'tls-handshake' };
        this.#reply(pop3Replies.beginTls);
        this.#events.push({ type: 'tls-ready' });
        return;
      default:
        this.#reject(line, 'wrongState');
        return;
    }
  }

  #handleTransaction(line: string, command: Pop3Command): void {
    switch (command.keyword) {
      case 'STAT': {
        const { count, sizeBytes } = this.#totals();
        this.#reply(pop3Replies.noop, `${count} ${sizeBytes}`);
        return;
      }
      case 'NOOP':
        this.#reply(pop3Replies.noop);
        return;
      case 'RSET':
        // RFC 1939 §5: unmark every message marked as deleted.
        this.#deleted.clear();
        this.#reply(pop3Replies.noop, this.#describeMaildrop());
        return;
      case 'LIST':
      case 'UIDL': {
        const describe = (index: number, entry: MaildropEntry) =>
          `${index + 1} ${command.keyword === 'LIST' ? entry.sizeBytes : entry.id}`;
        if (command.messageNumber !== null) {
          const found = this.#find(line, command.messageNumber);
          if (found !== null) this.#reply(pop3Replies.noop, describe(found.index, found.entry));
          return;
        }
        const lines = this.#maildrop.flatMap((entry, index) =>
          this.#deleted.has(index) ? [] : [describe(index, entry)],
        );
        const { count, sizeBytes } = this.#totals();
        const heading = command.keyword === 'LIST' ? `${count} messages (${sizeBytes} octets)` : '';
        this.#multiLine(pop3Replies.noop, heading, lines);
        return;
      }
      case 'DELE': {
        const found = this.#find(line, command.messageNumber);
        if (found === null) return;
        this.#deleted.add(found.index);
        this.#reply(pop3Replies.noop, `Message ${command.messageNumber} deleted`);
        return;
      }
      case 'RETR':
      case 'TOP': {
        const found = this.#find(line, command.messageNumber);
        if (found === null) return;
        const bodyLineLimit = command.keyword === 'TOP' ? command.lineCount : null;
        this.#message = {
          encoder: new MessageEncoder({ bodyLineLimit }),
          heading: bodyLineLimit === null ? `${found.entry.sizeBytes} octets` : '',
          hasStarted: false,
        };
        this.#ask({
          type: 'message-request',
          id: found.entry.id,
          messageNumber: command.messageNumber,
          bodyLineLimit,
        });
        return;
      }
      default:
        this.#reject(line, 'wrongState');
        return;
    }
  }

  /** RFC 5034 §4: AUTH [mechanism [initial-response]]; AUTH alone lists the mechanisms. */
  #startAuth(mechanism: string | null, initialResponse: string | null, isAuthAllowed: boolean): void {
    if (mechanism === null) {
      this.#multiLine(pop3Replies.mechanisms, undefined, isAuthAllowed ? ['PLAIN'] : []);
      return;
    }
    if (mechanism !== 'PLAIN') {
      this.#reject(`AUTH ${mechanism}`, 'unsupportedMechanism');
      return;
    }
    if (!isAuthAllowed) {
      this.#reply(pop3Replies.plaintextDisallowed);
      return;
    }
    let response: Uint8Array | null = null;
    if (initialResponse !== null) {
      // "=" is an empty initial response (RFC 5034 §4).
      response = initialResponse === '=' ? new Uint8Array(0) : decodeBase64(initialResponse);
      if (response === null) {
        this.#reply(pop3Replies.saslMalformed);
        return;
      }
    }
    this.#sasl = createSaslServer('PLAIN', { hostname: 'localhost', random: noRandom });
    this.#saslStep(this.#sasl.start(response));
  }

  #handleSaslResponse(line: string): void {
    const sasl = this.#sasl;
    if (sasl === null) throw new Error('sasl phase without a SASL exchange');
    if (line === '*') {
      this.#endSasl();
      this.#reply(pop3Replies.saslCancelled);
      return;
    }
    const response = decodeBase64(line);
    if (response === null) {
      this.#endSasl();
      this.#reply(pop3Replies.saslMalformed);
      return;
    }
    this.#saslStep(sasl.respond(response));
  }

  #saslStep(step: SaslServerStep): void {
    if (step.type === 'challenge') {
      this.#state = { phase: 'sasl' };
      this.#output.push(encoder.encode(`+ ${encodeBase64(step.challenge)}\r\n`));
      return;
    }
    this.#endSasl();
    if (step.type !== 'verify' || step.credentials.mechanism !== 'PLAIN') {
      this.#reply(pop3Replies.saslMalformed);
      return;
    }
    const { username, password, authorizationId } = step.credentials;
    if (authorizationId !== null && authorizationId !== username) {
      this.#reply(pop3Replies.authorizationDenied);
      return;
    }
    this.#ask({ type: 'login', mechanism: 'PLAIN', username, password });
  }

  #endSasl(): void {
    this.#sasl = null;
    this.#state = { phase: 'authorization', username: null };
  }

  /**
   * RFC 2449 §5: the same list in AUTHORIZATION and TRANSACTION (what the first announces, the second
   * must too); USER and SASL only where a password may be sent, STLS until TLS is on.
   */
  #sendCapabilities(): void {
    const isAuthAllowed = this.#isTlsActive || this.#options.isPlaintextAuthAllowed;
    const capabilities = ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE'];
    if (isAuthAllowed) capabilities.push('USER', 'SASL PLAIN');
    if (this.#options.isTlsAvailable && !this.#isTlsActive) capabilities.push('STLS');
    capabilities.push(`IMPLEMENTATION ${this.#options.implementation}`);
    this.#multiLine(pop3Replies.capabilities, undefined, capabilities);
  }

  #quit(): void {
    if (this.#state.phase !== 'transaction') {
      this.#reply(pop3Replies.bye);
      this.#close('quit');
      return;
    }
    // RFC 1939 §6: QUIT from TRANSACTION enters UPDATE, where the marked messages are removed.
    const deletedIds = [...this.#deleted]
      .sort((a, b) => a - b)
      .flatMap((index) => {
        const entry = this.#maildrop[index];
        return entry === undefined ? [] : [entry.id];
      });
    if (deletedIds.length === 0) {
      this.#reply(pop3Replies.bye);
      this.#close('quit');
      return;
    }
    this.#state = { phase: 'update' };
    this.#pending = { type: 'update', deletedIds };
    this.#events.push(this.#pending);
  }

  /** A message number of the snapshot that is not marked deleted; otherwise answers -ERR. */
  #find(line: string, messageNumber: number): { index: number; entry: MaildropEntry } | null {
    const index = messageNumber - 1;
    const entry = this.#maildrop[index];
    if (entry === undefined || messageNumber < 1) {
      this.#reject(line, 'noSuchMessage');
      return null;
    }
    if (this.#deleted.has(index)) {
      this.#reject(line, 'messageDeleted');
      return null;
    }
    return { index, entry };
  }

  #totals(): { count: number; sizeBytes: number } {
    let count = 0;
    let sizeBytes = 0;
    this.#maildrop.forEach((entry, index) => {
      if (this.#deleted.has(index)) return;
      count += 1;
      sizeBytes += entry.sizeBytes;
    });
    return { count, sizeBytes };
  }

  #describeMaildrop(): string {
    const { count, sizeBytes } = this.#totals();
    return `${count} messages (${sizeBytes} octets)`;
  }

  #startMessage(): MessageInProgress {
    const message = this.#message;
    if (message === null || this.#pending?.type !== 'message-request') {
      throw new Error('no message was requested');
    }
    if (!message.hasStarted) {
      message.hasStarted = true;
      this.#reply(pop3Replies.noop, message.heading);
    }
    return message;
  }

  /** An event that waits for the I/O layer's answer. */
  #ask(event: Pop3Event): void {
    this.#pending = event;
    this.#events.push(event);
  }

  #takePending(type: Pop3Event['type']): void {
    if (this.#pending?.type !== type) throw new Error(`no pending ${type} to answer`);
    this.#pending = null;
  }

  #reject(line: string, name: Pop3ReplyName, text?: string): void {
    const reply = pop3Replies[name];
    this.#reply(reply, text);
    // Passwords never reach the log through a rejected line.
    const shown = /^(PASS|AUTH)\b/i.test(line) || this.#state.phase === 'sasl' ? line.slice(0, 4) : line;
    this.#events.push({ type: 'command-rejected', line: shown, reply: name });
    this.#badCommands += 1;
    if (this.#badCommands >= this.#options.maxBadCommands) {
      this.#reply(pop3Replies.tooManyErrors);
      this.#close('too-many-errors');
    }
  }

  #reply(reply: Pop3Reply, text?: string): void {
    this.#output.push(encoder.encode(serializePop3Reply(reply, text)));
  }

  /** A multi-line response (RFC 1939 §3): status line, lines, ".". Our lines never start with ".". */
  #multiLine(reply: Pop3Reply, heading: string | undefined, lines: readonly string[]): void {
    const body = lines.map((line) => `${line}\r\n`).join('');
    this.#output.push(encoder.encode(`${serializePop3Reply(reply, heading)}${body}.\r\n`));
  }

  #close(reason: Pop3CloseReason): void {
    this.#state = { phase: 'closed', reason };
    this.#pending = null;
    this.#buffer = new Uint8Array(0);
    this.#events.push({ type: 'close', reason });
  }

  /** The next line without its line ending; 'too-long' once per line over the limit; null: need more. */
  #nextLine(): string | 'too-long' | null {
    const lineFeedAt = this.#buffer.indexOf(lineFeed);
    if (lineFeedAt === -1) {
      if (this.#buffer.length >= this.#options.maxLineBytes) {
        // Keep nothing of it: the rest is dropped up to its line feed, then answered once.
        this.#buffer = new Uint8Array(0);
        this.#isDiscardingLine = true;
      }
      return null;
    }
    const lineBytes = this.#buffer.subarray(0, lineFeedAt);
    this.#buffer = this.#buffer.subarray(lineFeedAt + 1);
    if (this.#isDiscardingLine || lineFeedAt + 1 > this.#options.maxLineBytes) {
      this.#isDiscardingLine = false;
      return 'too-long';
    }
    // CRLF is the line ending; a bare LF is taken as one too (lenient, as most servers are).
    const end = lineBytes[lineBytes.length - 1] === 0x0d ? lineBytes.length - 1 : lineBytes.length;
    return lineDecoder.decode(lineBytes.subarray(0, end));
  }
}
