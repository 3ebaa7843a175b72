import type { Domain } from '../address/mailbox.js';
import { encodeBase64 } from '../bytes/base64.js';
import type { Command } from '../command/command.js';
import { parseCommand } from '../command/parse-command.js';
import { SmtpReplyError, SmtpUsageError } from '../errors.js';
import {
  areRcptParametersOffered,
  checkMailParameters,
  grantMailParameters,
} from '../extension/check-parameters.js';
import { parseXclientAttributes } from '../proxy/xclient.js';
import type { Capabilities } from '../reply/capabilities.js';
import type { Reply, ReplyInit } from '../reply/reply.js';
import { type ReplyName, replies } from '../reply/reply-catalog.js';
import { createSaslServer } from '../sasl/create-sasl-server.js';
import type { SaslMechanismName } from '../sasl/sasl-mechanism.js';
import type { SaslSecret, SaslServerStep } from '../sasl/sasl-server.js';
import { IncomingMessage } from './incoming-message.js';
import { SaslExchange } from './sasl-exchange.js';
import type {
  AuthenticatedIdentity,
  CloseReason,
  Envelope,
  MessageAbortReason,
  PendingServerEvent,
  ServerEvent,
  ServerState,
  ServerTimeout,
} from './server-events.js';
import { greetingBytes } from './server-greeting.js';
import { overlongLine, ServerInput } from './server-input.js';
import { describeLine, isHelloLine, startsWithVerb } from './server-lines.js';
import type { ServerSessionOptions } from './server-options.js';
import { EventQueue, ServerOutput } from './server-output.js';
import {
  isMechanismOffered,
  type ServerProfile,
  serverCapabilities,
  serverProfile,
} from './server-profile.js';
import { BdatChunkReader, DataReader, RefusedChunkReader } from './server-readers.js';
import { buildReply, catalogueBytes, encodeChallenge, encodeReply } from './server-replies.js';
import {
  type CommandPhase,
  findTransition,
  isServerStep,
  type TransitionContext,
  type TransitionTable,
  transitionTable,
  type verbExtensions,
} from './server-transitions.js';
import {
  type CommandState,
  envelopeOf,
  messageOf,
  type SessionState,
  type Transaction,
  transactionOf,
  viewState,
} from './session-state.js';

const abortReplies = {
  'too-large': 'messageTooBig',
  'bare-line-ending': 'bareLineEnding',
  'line-too-long': 'messageLineTooLong',
  'eight-bit': 'eightBitWithoutEightBitMime',
} as const satisfies Partial<Record<MessageAbortReason, ReplyName>>;

const closeAbortReasons = {
  quit: 'peer-closed',
  'too-many-errors': 'reset',
  timeout: 'timeout',
  shutdown: 'shutdown',
  'peer-closed': 'peer-closed',
} as const satisfies Record<CloseReason, MessageAbortReason>;

const greeted: SessionState = { phase: 'greeting', greeting: 'sent' };

/** Per profile: the transition tables of a session that was not refused, [without TLS, with TLS]. */
const transitionTables = new WeakMap<ServerProfile, [TransitionTable | null, TransitionTable | null]>();

/** The guards depend on the options and on TLS only, once a session is not refused (see #readCommand). */
function transitionTableFor(profile: ServerProfile, isTlsActive: boolean): TransitionTable {
  let tables = transitionTables.get(profile);
  if (tables === undefined) {
    tables = [null, null];
    transitionTables.set(profile, tables);
  }
  const index = isTlsActive ? 1 : 0;
  let table = tables[index];
  if (table === null) {
    table = transitionTable({
      isLmtp: profile.isLmtp,
      isRefused: false,
      isTlsMissing: profile.requireTls && !isTlsActive,
      isTlsActive,
      isVerbAvailable: (verb) => isVerbAvailable(profile, verb),
    });
    tables[index] = table;
  }
  return table;
}

/** Whether the option the verb needs is on (verbExtensions). */
function isVerbAvailable(profile: ServerProfile, verb: keyof typeof verbExtensions): boolean {
  switch (verb) {
    case 'STARTTLS':
      return profile.startTls;
    case 'AUTH':
      return profile.authMechanisms.length > 0;
    case 'BDAT':
      return profile.chunking;
    case 'ETRN':
      return profile.etrn;
    case 'XCLIENT':
      return profile.xclient;
    default:
      return profile.vrfy;
  }
}

type AuthState = Extract<SessionState, { phase: 'auth' }>;
type MessageState = Extract<SessionState, { phase: 'message' }>;

/**
 * The SMTP/LMTP server side as a sans-I/O state machine (house guide §2.3): receive() bytes, pull
 * events with nextEvent(), answer pending ones with accept()/reject(), write takeOutput().
 *
 * Input is parsed lazily inside nextEvent(), one command at a time, and never past a pending event:
 * pipelined commands (RFC 2920) wait unparsed in the buffer, so replies leave strictly in command
 * order. Peer input never throws; misuse of this API throws SmtpUsageError.
 *
 * The state is one value of the SessionState union (session-state.ts); which command does what, and
 * where it leads, is the table in server-transitions.ts.
 *
 * Chunks passed to receive() are kept as views (message-chunk events point into them): do not reuse
 * or mutate a chunk after passing it in.
 */
export class ServerSession implements TransitionContext {
  readonly #profile: ServerProfile;

  // input, events, output
  readonly #input = new ServerInput();
  #inputEnded = false;
  readonly #events = new EventQueue<ServerEvent>();
  #pending: PendingServerEvent | null = null;
  readonly #output = new ServerOutput();

  // session
  #state: SessionState = { phase: 'greeting', greeting: 'pending' };
  #isTlsActive: boolean;
  /** findTransition's answers while the session is not refused; changes with TLS. */
  #transitions: TransitionTable;
  #authenticated: AuthenticatedIdentity | null = null;
  #errorCount = 0;

  constructor(options: ServerSessionOptions) {
    this.#profile = serverProfile(options);
    this.#isTlsActive = this.#profile.implicitTls;
    this.#transitions = transitionTableFor(this.#profile, this.#isTlsActive);
  }

  // ---- getters ------------------------------------------------------------------------------------

  get state(): ServerState {
    return viewState(this.#state);
  }

  /** The event waiting for accept()/reject(), or null. */
  get pending(): PendingServerEvent | null {
    return this.#pending;
  }

  get timeout(): ServerTimeout {
    const state = this.#state;
    switch (state.phase) {
      case 'tls-handshake':
        return 'tls-handshake';
      case 'auth':
        return state.exchange.isAwaitingResponse ? 'auth' : 'command';
      case 'message':
        return state.reader === null ? 'command' : 'data';
      case 'chunk-refused':
        return 'data';
      default:
        return 'command';
    }
  }

  /** Input received and not consumed yet: at most the current line limit plus one chunk while no event is pending. */
  get bufferedBytes(): number {
    return this.#input.size;
  }

  get isClosed(): boolean {
    return this.#state.phase === 'closed';
  }

  get isTlsActive(): boolean {
    return this.#isTlsActive;
  }

  get authenticated(): AuthenticatedIdentity | null {
    return this.#authenticated;
  }

  get envelope(): Envelope | null {
    const transaction = transactionOf(this.#state);
    return transaction === null ? null : envelopeOf(transaction);
  }

  // TransitionContext
  get isLmtp(): boolean {
    return this.#profile.isLmtp;
  }
  get isRefused(): boolean {
    const state = this.#state;
    return state.phase === 'greeting' && state.greeting === 'refused';
  }
  get isTlsMissing(): boolean {
    return this.#profile.requireTls && !this.#isTlsActive;
  }
  isVerbAvailable(verb: keyof typeof verbExtensions): boolean {
    return isVerbAvailable(this.#profile, verb);
  }

  // ---- input ---------------------------------------------------------------------------------------

  /**
   * Sends the greeting (server-greeting.ts): 220 by default; 554 refuses the session, which then
   * answers 503 to everything but QUIT (RFC 5321 §3.1); 421 closes it.
   */
  greet(reply?: ReplyInit): void {
    const state = this.#state;
    if (state.phase === 'closed') return; // shut down or timed out before it was greeted
    if (state.phase !== 'greeting' || state.greeting !== 'pending') {
      throw new SmtpUsageError('greet() was already called');
    }
    this.#write(greetingBytes(this.#profile, reply));
    this.#state = reply?.code === 554 ? { phase: 'greeting', greeting: 'refused' } : greeted;
    if (reply?.code === 421) this.#close('shutdown');
  }

  /** Bytes from the peer. Kept as views: do not mutate the chunk afterwards. */
  receive(chunk: Uint8Array): void {
    if (this.#inputEnded) throw new SmtpUsageError('receive() after receiveEnd()');
    const phase = this.#state.phase;
    // RFC 3207 §4.2 / CVE-2011-0411: nothing sent before the handshake may be acted on after it.
    if (chunk.length === 0 || phase === 'closed' || phase === 'tls-handshake') return;
    this.#input.append(chunk);
  }

  /** The peer closed its side. Buffered commands are still processed, then the session closes. */
  receiveEnd(): void {
    this.#inputEnded = true;
  }

  /** The next event, or null when more input is needed or `pending` is unanswered. */
  nextEvent(): ServerEvent | null {
    for (;;) {
      const event = this.#events.shift();
      if (event !== undefined) return event;
      if (this.#pending !== null || !this.#step()) return null;
    }
  }

  /** Advances by one unit of input, with the reader of the current phase. False when nothing more can happen without input. */
  #step(): boolean {
    const state = this.#state;
    let progressed: boolean;
    switch (state.phase) {
      case 'greeting':
        if (state.greeting === 'pending') return false; // nothing is read before greet()
        progressed = this.#readCommand('greeting');
        break;
      case 'ready':
      case 'transaction':
        progressed = this.#readCommand(state.phase);
        break;
      case 'message':
        progressed = state.reader === null ? this.#readCommand('transaction') : this.#readContent(state);
        break;
      case 'chunk-refused':
        progressed = this.#readRefusedChunk(state.reader, state.resume);
        break;
      case 'auth':
        progressed = this.#readAuthLine(state);
        break;
      case 'tls-handshake':
        this.#input.drop();
        progressed = false;
        break;
      case 'closed':
        return false;
    }
    if (progressed || !this.#inputEnded || this.#pending !== null) return progressed;
    // Input is exhausted and the peer has gone: whatever partial line is left is dropped.
    this.#input.drop();
    this.#close('peer-closed');
    return true;
  }

  // ---- output --------------------------------------------------------------------------------------

  /**
   * Everything queued since the last call, in command order, as one buffer; null when nothing is queued.
   * The buffer is the caller's: it never aliases bytes this or another session sends later.
   */
  takeOutput(): Uint8Array | null {
    return this.#output.take();
  }

  #write(bytes: Uint8Array): void {
    this.#output.write(bytes);
  }

  #writeCatalogue(init: ReplyInit): void {
    this.#write(catalogueBytes(init, this.#profile.enhancedStatusCodes));
  }

  #emit(event: ServerEvent): void {
    this.#events.push(event);
  }

  #raise(event: PendingServerEvent): void {
    this.#emit(event);
    this.#pending = event;
  }

  // ---- commands ------------------------------------------------------------------------------------

  #readCommand(phase: CommandPhase): boolean {
    const line = this.#input.takeLine(this.#profile.maxCommandLineBytes);
    if (line === null) return false;
    if (line === overlongLine) {
      this.#refuse(`${this.#input.overlongPreview}…`, replies.lineTooLong, false);
      return true;
    }
    const profile = this.#profile;
    // RFC 5321 §2.3.8: lines end with CRLF. Strict mode refuses bare LF (Postfix smtpd_forbid_bare_newline).
    if (this.#input.isBareLineFeed && !profile.isLenient) {
      this.#refuse(describeLine(line), replies.bareLineFeedInCommand, isHelloLine(line));
      return true;
    }
    // RFC 6531 §3.4: UTF-8 in MAIL needs the offer (the parser checks the SMTPUTF8 parameter); in RCPT,
    // an SMTPUTF8 transaction.
    const allowsUtf8 = startsWithVerb(line, 'rcpt')
      ? transactionOf(this.#state)?.parameters.smtpUtf8 === true
      : profile.smtpUtf8;
    const result = parseCommand(line, allowsUtf8 ? profile.syntaxUtf8 : profile.syntaxAscii);
    if (!result.ok) {
      this.#refuse(describeLine(line), result.reply, isHelloLine(line));
      return true;
    }
    const command = result.value;
    // After a 554 greeting the guards decide (only QUIT is in sequence); otherwise the table holds their answers.
    const transition = this.isRefused
      ? findTransition(phase, command.verb, this)
      : this.#transitions[phase][command.verb];
    if (!isServerStep(transition)) {
      this.#refuseCommand(command, line, replies[transition]);
      return true;
    }
    switch (transition.action) {
      case 'hello':
        this.#onHello(command as Extract<Command, { verb: 'EHLO' | 'HELO' | 'LHLO' }>);
        break;
      case 'mail':
        this.#onMail(command as Extract<Command, { verb: 'MAIL' }>, line);
        break;
      case 'rcpt':
        this.#onRcpt(command as Extract<Command, { verb: 'RCPT' }>, line);
        break;
      case 'data':
        this.#onData(line);
        break;
      case 'bdat':
        this.#onBdat(command as Extract<Command, { verb: 'BDAT' }>, line);
        break;
      case 'rset':
        this.#resetTransaction('rset', true);
        this.#writeCatalogue(replies.resetOk);
        break;
      case 'noop':
        this.#writeCatalogue(replies.noopOk);
        break;
      case 'help':
        this.#writeCatalogue(replies.help);
        break;
      case 'vrfy':
        this.#writeCatalogue(replies.cannotVerify); // RFC 5321 §3.5.3: 252 when we will not verify
        break;
      case 'expn':
        this.#writeCatalogue(replies.cannotExpand);
        break;
      case 'etrn':
        this.#writeCatalogue(replies.etrnQueued);
        break;
      case 'quit':
        this.#writeCatalogue(replies.closing);
        this.#close('quit');
        break;
      case 'auth':
        this.#onAuth(command as Extract<Command, { verb: 'AUTH' }>, line);
        break;
      case 'starttls':
        this.#onStartTls();
        break;
      case 'xclient':
        this.#onXclient(command as Extract<Command, { verb: 'XCLIENT' }>, line);
        break;
    }
    return true;
  }

  /** The core refuses a parsed command; a refused BDAT still has its octets read and dropped first. */
  #refuseCommand(command: Command, line: Uint8Array, reply: ReplyInit): void {
    if (command.verb === 'BDAT') {
      const reader = new RefusedChunkReader({
        size: command.size,
        reply: buildReply(reply, this.#profile.enhancedStatusCodes),
        line: describeLine(line),
        isLast: command.last,
      });
      this.#state = { phase: 'chunk-refused', reader, resume: this.#state as CommandState };
      return;
    }
    const isHello = command.verb === 'EHLO' || command.verb === 'HELO' || command.verb === 'LHLO';
    this.#refuse(describeLine(line), reply, isHello);
  }

  /** A core rejection: the reply, a command-rejected event, and the error count. */
  #refuse(line: string, init: ReplyInit | Reply, isHello: boolean): void {
    const reply = buildReply(init, this.#profile.enhancedStatusCodes && !isHello);
    this.#write(encodeReply(reply));
    this.#emit({ type: 'command-rejected', line, reply });
    this.#countError(reply.code);
  }

  /** Permanent errors count towards limits.maxErrors; 4xx (e.g. 452 too many recipients) do not. */
  #countError(code: number): void {
    if (code < 500 || this.#state.phase === 'closed') return;
    this.#errorCount += 1;
    const { maxErrors } = this.#profile;
    if (maxErrors > 0 && this.#errorCount >= maxErrors) {
      this.#writeCatalogue(replies.tooManyErrors);
      this.#close('too-many-errors');
    }
  }

  #onHello(command: Extract<Command, { verb: 'EHLO' | 'HELO' | 'LHLO' }>): void {
    // RFC 5321 §4.1.4: HELO/EHLO in a transaction clears it, like RSET.
    if (transactionOf(this.#state) !== null) this.#resetTransaction('hello', true);
    this.#raise({ type: 'hello', verb: command.verb, client: command.client });
  }

  #onMail(command: Extract<Command, { verb: 'MAIL' }>, line: Uint8Array): void {
    const profile = this.#profile;
    const { parameters } = command;
    const refusal =
      profile.authRequired && this.#authenticated === null
        ? replies.authRequired
        : checkMailParameters(parameters, { options: profile, isTlsActive: this.#isTlsActive });
    if (refusal !== null) {
      this.#refuse(describeLine(line), refusal, false);
      return;
    }
    this.#raise({ type: 'mail', from: command.from, parameters: grantMailParameters(parameters, profile) });
  }

  #onRcpt(command: Extract<Command, { verb: 'RCPT' }>, line: Uint8Array): void {
    const { parameters } = command;
    const transaction = transactionOf(this.#state) as Transaction;
    transaction.hasRcptAttempt = true;
    let refusal: ReplyInit | null = null;
    if (!areRcptParametersOffered(parameters, this.#profile)) {
      refusal = replies.unknownParameter;
    } else if (transaction.recipients.length >= this.#profile.maxRecipients) {
      refusal = replies.tooManyRecipients; // RFC 5321 §4.5.3.1.10: 452, the client retries later
    }
    if (refusal !== null) {
      this.#refuse(describeLine(line), refusal, false);
      return;
    }
    this.#raise({ type: 'rcpt', to: command.to, parameters });
  }

  /** What refuses DATA/BDAT before any content: no recipients (RFC 2920 §3.1: 554 when all were refused). */
  #messageRefusal(transaction: Transaction): ReplyInit | null {
    if (transaction.recipients.length > 0) return null;
    return transaction.hasRcptAttempt ? replies.noValidRecipients : replies.rcptFirst;
  }

  #onData(line: Uint8Array): void {
    const state = this.#state as Extract<SessionState, { phase: 'transaction' | 'message' }>;
    const { transaction } = state;
    const refusal =
      this.#messageRefusal(transaction) ??
      (transaction.parameters.body === 'BINARYMIME'
        ? replies.binaryRequiresBdat
        : state.phase === 'message' // BDAT chunks came before
          ? replies.bdatMixedWithData
          : null);
    if (refusal !== null) {
      this.#refuse(describeLine(line), refusal, false);
      return;
    }
    const profile = this.#profile;
    const reader = new DataReader({
      bareLineEndings: profile.bareLineEndings,
      maxLineBytes: profile.maxTextLineBytes,
    });
    const message = this.#openMessage('DATA', transaction);
    this.#writeCatalogue(replies.startMailInput);
    this.#state = { phase: 'message', client: state.client, transaction, message, reader };
  }

  #openMessage(transfer: 'DATA' | 'BDAT', transaction: Transaction): IncomingMessage {
    const body = transaction.parameters.body;
    const limits = {
      maxMessageBytes: this.#profile.maxMessageBytes,
      rejectEightBit: this.#profile.rejectEightBit && body !== '8BITMIME' && body !== 'BINARYMIME',
    };
    return new IncomingMessage(transfer, limits, this.#events);
  }

  #onBdat(command: Extract<Command, { verb: 'BDAT' }>, line: Uint8Array): void {
    const current = this.#state as Extract<SessionState, { phase: 'transaction' | 'message' }>;
    const refusal = this.#messageRefusal(current.transaction);
    if (refusal !== null) {
      this.#refuseCommand(command, line, refusal);
      return;
    }
    let state: MessageState;
    if (current.phase === 'message') {
      state = current;
    } else {
      const message = this.#openMessage('BDAT', current.transaction);
      state = { ...current, phase: 'message', message, reader: null };
      this.#state = state;
    }
    // The declared chunk size already tells whether the message fits: no need to read it first.
    const { maxMessageBytes } = this.#profile;
    if (maxMessageBytes > 0 && state.message.size + command.size > maxMessageBytes)
      state.message.abort('too-large');
    state.reader = new BdatChunkReader(command.size, command.last);
  }

  /** Message content: DATA up to its end, or one BDAT chunk. */
  #readContent(state: MessageState): boolean {
    const reader = state.reader as DataReader | BdatChunkReader;
    const outcome = reader.read(this.#input, state.message);
    if (outcome !== 'ended') return outcome === 'read';
    state.reader = null;
    const isLast = reader instanceof DataReader || reader.isLast;
    if (state.message.abortReason === null && !isLast) {
      this.#writeCatalogue(replies.bdatOk); // RFC 3030 §2: each chunk answered after its octets
      return true;
    }
    // RFC 3030 §2: after an abort the transaction has failed; BDATs already pipelined are read and refused (503).
    this.#endMessage(state, isLast);
    return true;
  }

  /** The end of the content: message-end (pending), or the refusal of an aborted message. */
  #endMessage(state: MessageState, isLast: boolean): void {
    const { message, transaction } = state;
    const reason = message.abortReason;
    if (reason === null) {
      message.isOpen = false;
      this.#state = { phase: 'transaction', client: state.client, transaction };
      this.#raise({ type: 'message-end', size: message.size });
      return;
    }
    const name = abortReplies[reason as keyof typeof abortReplies] ?? 'transactionFailed';
    const reply = buildReply(replies[name], this.#profile.enhancedStatusCodes);
    this.#writeFinal(encodeReply(reply), reply.code, isLast);
    this.#clearTransaction();
  }

  /** The octets of a refused BDAT chunk are dropped; then its refusal, and back to where it came. */
  #readRefusedChunk(reader: RefusedChunkReader, resume: CommandState): boolean {
    const outcome = reader.read(this.#input);
    if (outcome !== 'ended') return outcome === 'read';
    this.#state = resume;
    const { reply } = reader;
    this.#emit({ type: 'command-rejected', line: reader.line, reply });
    this.#writeFinal(encodeReply(reply), reply.code, reader.isLast && transactionOf(resume) !== null);
    return true;
  }

  /** The reply after the content: once, or (LMTP, RFC 2033 §4.2) once per accepted recipient. */
  #writeFinal(bytes: Uint8Array, code: number, isLast: boolean): void {
    const recipientCount = transactionOf(this.#state)?.recipients.length ?? 0;
    const count = this.#profile.isLmtp && isLast && recipientCount > 0 ? recipientCount : 1;
    for (let index = 0; index < count; index++) this.#write(bytes);
    this.#countError(code);
  }

  // ---- transaction state ----------------------------------------------------------------------------

  /** Ends the transaction (RSET, HELO, XCLIENT, TLS); an open message is given up first. */
  #resetTransaction(cause: 'rset' | 'hello' | 'tls' | 'xclient', emitReset: boolean): void {
    const message = messageOf(this.#state);
    if (message?.isOpen) message.abort('reset');
    this.#clearTransaction();
    if (emitReset) this.#emit({ type: 'reset', cause });
  }

  /** Back to 'ready' from a transaction (a message, if any, is over). */
  #clearTransaction(): void {
    const state = this.#state;
    if (state.phase === 'transaction' || state.phase === 'message') {
      this.#state = { phase: 'ready', client: state.client };
    }
  }

  /** Back to "need EHLO" without a new greeting (STARTTLS, RFC 3207 §4.2) or with one (XCLIENT). */
  #resetSession(cause: 'tls' | 'xclient'): void {
    this.#resetTransaction(cause, true);
    this.#state = greeted;
    this.#authenticated = null;
  }

  #close(reason: CloseReason): void {
    const state = this.#state;
    if (state.phase === 'closed') return;
    if (state.phase === 'auth') this.#reportCoreVerifiedFailure(state, 'incomplete');
    const message = messageOf(state);
    if (message?.isOpen) message.abort(closeAbortReasons[reason]);
    this.#state = { phase: 'closed', reason };
    this.#pending = null;
    this.#input.drop();
    this.#emit({ type: 'close', reason });
  }

  // ---- AUTH (RFC 4954) ----------------------------------------------------------------------------

  #onAuth(command: Extract<Command, { verb: 'AUTH' }>, line: Uint8Array): void {
    const mechanism = command.mechanism.toUpperCase();
    const profile = this.#profile;
    let refusal: ReplyInit | null = null;
    if (this.#authenticated !== null)
      refusal = replies.alreadyAuthenticated; // RFC 4954 §4
    else if (!(profile.authMechanisms as readonly string[]).includes(mechanism))
      refusal = replies.unknownMechanism;
    else if (!isMechanismOffered(profile, mechanism, this.#isTlsActive))
      refusal = replies.encryptionRequiredForAuth;
    if (refusal !== null) {
      this.#refuse(describeLine(line), refusal, false);
      return;
    }
    const sasl = createSaslServer(mechanism as SaslMechanismName, {
      hostname: profile.hostname,
      random: profile.random,
    });
    const state: AuthState = {
      phase: 'auth',
      client: (this.#state as Extract<SessionState, { phase: 'ready' }>).client,
      exchange: new SaslExchange(sasl),
    };
    this.#state = state;
    this.#onSaslStep(state, state.exchange.start(command.initialResponse));
  }

  #onSaslStep(state: AuthState, step: SaslServerStep): void {
    const { exchange } = state;
    switch (step.type) {
      case 'challenge':
        this.#write(encodeChallenge(encodeBase64(step.challenge)));
        exchange.isAwaitingResponse = true;
        return;
      case 'verify':
      case 'lookup':
        exchange.isAwaitingResponse = false;
        this.#raise({ type: 'auth', mechanism: exchange.mechanism, step });
        return;
      case 'success':
        this.#authSucceeded(state, step.username, step.authorizationId);
        return;
      case 'failure':
        this.#onSaslFailure(
          state,
          step,
          step.reason === 'malformed' ? replies.authMalformed : replies.authFailed,
        );
        return;
    }
  }

  /**
   * A failed exchange. XOAUTH2/OAUTHBEARER first send their error as a 334 challenge (RFC 7628 §3.2.2);
   * the reply follows the client's answer to it.
   */
  #onSaslFailure(
    state: AuthState,
    step: Extract<SaslServerStep, { type: 'failure' }>,
    init: ReplyInit | Reply,
  ): void {
    const { exchange } = state;
    if (step.challenge !== undefined && exchange.failureReply === null) {
      exchange.failureReply = buildReply(init, this.#profile.enhancedStatusCodes);
      this.#write(encodeChallenge(encodeBase64(step.challenge)));
      exchange.isAwaitingResponse = true;
      return;
    }
    this.#authFailed(state, init);
  }

  #reportCoreVerifiedFailure(state: AuthState, reason: 'invalid-credentials' | 'incomplete'): void {
    const verified = state.exchange.coreVerified;
    if (verified === null) return;
    state.exchange.coreVerified = null;
    this.#emit({ type: 'auth-failed', ...verified, reason });
  }

  #authSucceeded(state: AuthState, username: string, authorizationId: string | null): void {
    const { mechanism } = state.exchange;
    this.#state = { phase: 'ready', client: state.client };
    this.#authenticated = { username, authorizationId, mechanism };
    this.#writeCatalogue(replies.authSucceeded);
    this.#emit({ type: 'authenticated', username, authorizationId, mechanism });
  }

  #authFailed(state: AuthState, init: ReplyInit | Reply): void {
    this.#reportCoreVerifiedFailure(state, 'invalid-credentials');
    this.#state = { phase: 'ready', client: state.client };
    const reply = buildReply(init, this.#profile.enhancedStatusCodes);
    this.#write(encodeReply(reply));
    this.#countError(reply.code);
  }

  #readAuthLine(state: AuthState): boolean {
    const line = this.#input.takeLine(this.#profile.maxAuthLineBytes);
    if (line === null) return false;
    const outcome = state.exchange.readResponse(line);
    if (outcome.reply !== undefined) this.#authFailed(state, outcome.reply);
    else this.#onSaslStep(state, outcome.step);
    return true;
  }

  // ---- STARTTLS (RFC 3207) and XCLIENT --------------------------------------------------------------

  #onStartTls(): void {
    this.#writeCatalogue(replies.readyToStartTls);
    this.#state = { phase: 'tls-handshake' };
    this.#input.drop(); // pipelined bytes after STARTTLS are an injection attempt (CVE-2011-0411)
    this.#emit({ type: 'tls-ready' });
  }

  /** The handshake succeeded: input so far is dropped and the session starts over without a greeting. */
  tlsStarted(): void {
    const phase = this.#state.phase;
    if (phase === 'closed') return;
    if (phase !== 'tls-handshake') throw new SmtpUsageError('tlsStarted() without a tls-ready event');
    this.#isTlsActive = true;
    this.#transitions = transitionTableFor(this.#profile, true);
    this.#input.drop(true);
    this.#resetSession('tls');
  }

  #onXclient(command: Extract<Command, { verb: 'XCLIENT' }>, line: Uint8Array): void {
    const result = parseXclientAttributes(command.attributes);
    if (!result.ok) {
      this.#refuse(describeLine(line), result.reply, false);
      return;
    }
    this.#raise({ type: 'xclient', peer: result.value });
  }

  // ---- decisions -------------------------------------------------------------------------------------

  /**
   * Accepts the pending event with the catalogue's 2xx (`text` replaces the wording, e.g. a queue id).
   * For an 'auth' lookup step, pass `secret`. After the session closed this does nothing.
   */
  accept(options?: { text?: string; secret?: SaslSecret }): void {
    const event = this.#takePending();
    if (event === null) return;
    const text = options?.text; // no default object: accept() runs several times per message
    const state = this.#state;
    switch (event.type) {
      case 'hello':
        this.#acceptHello(event.verb, event.client, text);
        return;
      case 'mail': {
        const { client } = state as Extract<SessionState, { phase: 'ready' }>;
        const transaction = {
          from: event.from,
          parameters: event.parameters,
          recipients: [],
          hasRcptAttempt: false,
        };
        this.#state = { phase: 'transaction', client, transaction };
        this.#writeAccept(replies.senderOk, text);
        return;
      }
      case 'rcpt':
        (transactionOf(state) as Transaction).recipients.push({ to: event.to, parameters: event.parameters });
        this.#writeAccept(replies.recipientOk, text);
        return;
      case 'message-end': {
        const useEnhanced = this.#profile.enhancedStatusCodes;
        if (text === undefined) {
          this.#writeFinal(catalogueBytes(replies.messageAccepted, useEnhanced), 250, true);
        } else {
          this.#writeFinal(
            encodeReply(buildReply({ ...replies.messageAccepted, text }, useEnhanced)),
            250,
            true,
          );
        }
        this.#clearTransaction();
        return;
      }
      case 'auth': {
        const authState = state as AuthState;
        const { step } = event;
        if (step.type === 'verify') {
          this.#authSucceeded(authState, step.credentials.username, step.credentials.authorizationId);
          return;
        }
        if (options?.secret === undefined) {
          this.#pending = event;
          throw new SmtpUsageError("accept() of an 'auth' lookup step needs { secret }");
        }
        const { exchange } = authState;
        exchange.coreVerified = { username: step.username, mechanism: exchange.mechanism };
        this.#onSaslStep(authState, exchange.provideSecret(options.secret));
        return;
      }
      case 'xclient':
        this.#resetSession('xclient');
        this.#write(this.#profile.greetingBytes);
        return;
    }
  }

  /** Refuses the pending event with a 4xx/5xx reply (no enhanced code given: `x.0.0`). */
  reject(reply: ReplyInit | SmtpReplyError): void {
    const init = reply instanceof SmtpReplyError ? reply.reply : reply;
    if (init.code < 400 || init.code > 599)
      throw new SmtpUsageError(`reject() needs a 4xx or 5xx reply, got ${init.code}`);
    const event = this.#peekPending();
    if (event === null) return;
    const built = buildReply(init, this.#profile.enhancedStatusCodes && event.type !== 'hello');
    this.#pending = null;
    // Permanent refusals by the application count towards maxErrors too (address harvesting).
    switch (event.type) {
      case 'auth': {
        // XOAUTH2/OAUTHBEARER answer a refusal with an error challenge first (RFC 7628 §3.2.2).
        const state = this.#state as AuthState;
        const step = state.exchange.reject();
        if (step.type === 'failure') this.#onSaslFailure(state, step, built);
        else this.#authFailed(state, built);
        return;
      }
      case 'message-end':
        this.#writeFinal(encodeReply(built), built.code, true);
        this.#clearTransaction();
        return;
      default:
        this.#write(encodeReply(built));
        this.#countError(built.code);
    }
  }

  /** LMTP (RFC 2033 §4.2): one reply per accepted recipient, in RCPT order, after message-end. */
  acceptEach(replyList: readonly ReplyInit[]): void {
    const event = this.#peekPending();
    if (event === null) return;
    if (event.type !== 'message-end' || !this.#profile.isLmtp) {
      throw new SmtpUsageError('acceptEach() answers message-end in LMTP mode only');
    }
    const { recipients } = transactionOf(this.#state) as Transaction;
    if (replyList.length !== recipients.length) {
      throw new SmtpUsageError(`acceptEach() needs ${recipients.length} replies, got ${replyList.length}`);
    }
    const built = replyList.map((init) => buildReply(init, this.#profile.enhancedStatusCodes));
    this.#pending = null;
    for (const reply of built) this.#write(encodeReply(reply));
    this.#clearTransaction();
  }

  #peekPending(): PendingServerEvent | null {
    const event = this.#pending;
    if (event !== null) return event;
    if (this.#state.phase === 'closed') return null; // a hook finishing after close: nothing to answer
    throw new SmtpUsageError('No event is pending');
  }

  #takePending(): PendingServerEvent | null {
    const event = this.#peekPending();
    this.#pending = null;
    return event;
  }

  #acceptHello(verb: 'EHLO' | 'HELO' | 'LHLO', client: Domain, text: string | undefined): void {
    this.#state = { phase: 'ready', client };
    const profile = this.#profile;
    const index = this.#isTlsActive ? 1 : 0;
    if (text === undefined) {
      this.#write(verb === 'HELO' ? profile.heloBytes : profile.ehloBytes[index]);
      return;
    }
    const first = `${profile.hostname} ${text}`;
    const lines = verb === 'HELO' ? [first] : [first, ...profile.ehloLines[index].slice(1)];
    this.#write(encodeReply(buildReply({ code: 250, text: lines }, false)));
  }

  #writeAccept(init: ReplyInit, text: string | undefined): void {
    if (text === undefined) this.#writeCatalogue(init);
    else this.#write(encodeReply(buildReply({ ...init, text }, this.#profile.enhancedStatusCodes)));
  }

  // ---- the I/O layer's timers ------------------------------------------------------------------------

  /** The peer owed us input for too long: 421 4.4.2 and close (no reply mid-handshake). */
  timedOut(): void {
    const phase = this.#state.phase;
    if (phase === 'closed') return;
    if (phase !== 'tls-handshake') this.#writeCatalogue(replies.timedOut);
    this.#close('timeout');
  }

  /** The server is going down: 421 4.3.2 and close. */
  shutdown(): void {
    const phase = this.#state.phase;
    if (phase === 'closed') return;
    if (phase !== 'tls-handshake') this.#writeCatalogue(replies.shuttingDown);
    this.#close('shutdown');
  }

  /** The capabilities the next EHLO reply advertises (for logs and tests). */
  get capabilities(): Capabilities {
    return serverCapabilities(this.#profile, this.#isTlsActive);
  }
}
