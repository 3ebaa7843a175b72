import type { Domain, ReversePath } from '../address/mailbox.js';
import { decodeBase64, encodeBase64 } from '../bytes/base64.js';
import { decodeLatin1 } from '../bytes/utf8.js';
import type { Command, MailParameters } from '../command/command.js';
import { parseCommand } from '../command/parse-command.js';
import { SmtpReplyError, SmtpUsageError } from '../errors.js';
import { BdatReader } from '../message/bdat.js';
import { DotDecoder } from '../message/dot-decoder.js';
import { hasEightBit } from '../message/eight-bit.js';
import { parseXclientAttributes } from '../proxy/xclient.js';
import type { Capabilities } from '../reply/capabilities.js';
import type { Reply, ReplyInit } from '../reply/reply.js';
import { type ReplyName, replies } from '../reply/reply-catalog.js';
import { createSaslServer } from '../sasl/create-sasl-server.js';
import type { SaslMechanismName } from '../sasl/sasl-mechanism.js';
import type { SaslSecret, SaslServer, SaslServerStep } from '../sasl/sasl-server.js';
import type {
  AuthenticatedIdentity,
  CloseReason,
  Envelope,
  MessageAbortReason,
  PendingServerEvent,
  Recipient,
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
import { buildReply, catalogueBytes, encodeChallenge, encodeReply } from './server-replies.js';
import {
  type CommandPhase,
  findTransition,
  isServerAction,
  type TransitionContext,
  type verbExtensions,
} from './server-transitions.js';

/** No transaction yet. Frozen: recipients are only ever added to the array MAIL's acceptance creates. */
const noRecipients: Recipient[] = Object.freeze([]) as unknown as Recipient[];

/** Which reader consumes input now; chosen by phase (house guide §2.3). */
type Reader =
  | 'command' // command lines (phase greeting, ready or transaction)
  | 'data' // DATA content through the DotDecoder
  | 'bdat' // the octets of an accepted BDAT chunk
  | 'skip' // the octets of a refused BDAT chunk, then its reply
  | 'auth' // AUTH continuation lines after a 334
  | 'tls' // between 220 and tlsStarted(): input is dropped (RFC 3207 §4.2)
  | 'closed';

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

/**
 * The SMTP/LMTP server side as a sans-I/O state machine (house guide §2.3): receive() bytes, pull
 * events with nextEvent(), answer pending ones with accept()/reject(), write takeOutput().
 *
 * Input is parsed lazily inside nextEvent(), one command at a time, and never past a pending event:
 * pipelined commands (RFC 2920) wait unparsed in the buffer, so replies leave strictly in command
 * order. Peer input never throws; misuse of this API throws SmtpUsageError.
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
  #reader: Reader = 'command';
  #phase: CommandPhase = 'greeting';
  #closeReason: CloseReason | null = null;
  /** An exchange whose proof the core checks against a secret it was given: its failure is reported. */
  #coreVerified: { readonly username: string; readonly mechanism: SaslMechanismName } | null = null;
  #isGreeted = false;
  #isRefused = false;
  #isTlsActive: boolean;
  #client: Domain | null = null;
  #authenticated: AuthenticatedIdentity | null = null;
  #errorCount = 0;

  // transaction (phase 'transaction')
  #from: ReversePath = null;
  #mailParameters: MailParameters | null = null;
  #recipients: Recipient[] = noRecipients; // a fresh array once MAIL is accepted
  #hasRcptAttempt = false;
  #messageSize = 0;
  #isMessageOpen = false; // message-start emitted, no end/abort yet
  #isBdatUsed = false;
  #abortReason: MessageAbortReason | null = null;
  #checkEightBit = false;

  // readers
  #dotDecoder: DotDecoder | null = null;
  #bdatReader: BdatReader | null = null;
  #isBdatLast = false;
  #skipBytes = 0;
  #skipReply: Reply | null = null;
  #skipLine = '';
  #isSkipLast = false;

  // AUTH
  #sasl: SaslServer | null = null;
  /** Set while a failure challenge (334) awaits the client's line: the reply that follows it. */
  #authFailureReply: Reply | null = null;

  constructor(options: ServerSessionOptions) {
    this.#profile = serverProfile(options);
    this.#isTlsActive = this.#profile.implicitTls;
  }

  // ---- getters ------------------------------------------------------------------------------------

  get state(): ServerState {
    if (this.#closeReason !== null) return { phase: 'closed', reason: this.#closeReason };
    if (this.#reader === 'tls') return { phase: 'tls-handshake' };
    if (this.#reader === 'auth' || (this.#pending?.type === 'auth' && this.#sasl !== null)) {
      return { phase: 'auth', mechanism: (this.#sasl as SaslServer).mechanism };
    }
    const client = this.#client as Domain;
    if (this.#phase === 'transaction') {
      const envelope = this.envelope as Envelope;
      if (this.#isMessageOpen || this.#reader !== 'command') {
        return { phase: 'message', client, envelope, size: this.#messageSize };
      }
      return { phase: 'transaction', client, envelope };
    }
    return this.#phase === 'ready' ? { phase: 'ready', client } : { phase: 'greeting' };
  }

  /** The event waiting for accept()/reject(), or null. */
  get pending(): PendingServerEvent | null {
    return this.#pending;
  }

  get timeout(): ServerTimeout {
    switch (this.#reader) {
      case 'tls':
        return 'tls-handshake';
      case 'auth':
        return 'auth';
      case 'data':
      case 'bdat':
      case 'skip':
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
    return this.#closeReason !== null;
  }

  get isTlsActive(): boolean {
    return this.#isTlsActive;
  }

  get authenticated(): AuthenticatedIdentity | null {
    return this.#authenticated;
  }

  get envelope(): Envelope | null {
    if (this.#phase !== 'transaction' || this.#mailParameters === null) return null;
    return { from: this.#from, parameters: this.#mailParameters, recipients: this.#recipients.slice() };
  }

  // TransitionContext
  get isLmtp(): boolean {
    return this.#profile.isLmtp;
  }
  get isRefused(): boolean {
    return this.#isRefused;
  }
  get isTlsMissing(): boolean {
    return this.#profile.requireTls && !this.#isTlsActive;
  }
  isVerbAvailable(verb: keyof typeof verbExtensions): boolean {
    const profile = this.#profile;
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

  // ---- input ---------------------------------------------------------------------------------------

  /**
   * Sends the greeting (server-greeting.ts): 220 by default; 554 refuses the session, which then
   * answers 503 to everything but QUIT (RFC 5321 §3.1); 421 closes it.
   */
  greet(reply?: ReplyInit): void {
    if (this.#isGreeted) throw new SmtpUsageError('greet() was already called');
    this.#write(greetingBytes(this.#profile, reply));
    this.#isGreeted = true;
    if (reply?.code === 554) this.#isRefused = true;
    if (reply?.code === 421) this.#close('shutdown');
  }

  /** Bytes from the peer. Kept as views: do not mutate the chunk afterwards. */
  receive(chunk: Uint8Array): void {
    if (this.#inputEnded) throw new SmtpUsageError('receive() after receiveEnd()');
    // RFC 3207 §4.2 / CVE-2011-0411: nothing sent before the handshake may be acted on after it.
    if (chunk.length === 0 || this.#reader === 'closed' || this.#reader === 'tls') return;
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
      if (this.#pending !== null || !this.#isGreeted || !this.#step()) return null;
    }
  }

  /** Advances by one unit of input. False when nothing more can happen without input. */
  #step(): boolean {
    let progressed: boolean;
    switch (this.#reader) {
      case 'command':
        progressed = this.#readCommand();
        break;
      case 'data':
        progressed = this.#readData();
        break;
      case 'bdat':
        progressed = this.#readBdat();
        break;
      case 'skip':
        progressed = this.#readSkip();
        break;
      case 'auth':
        progressed = this.#readAuthLine();
        break;
      case 'tls':
        this.#input.drop();
        progressed = false;
        break;
      default:
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

  #readCommand(): boolean {
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
      ? this.#mailParameters?.smtpUtf8 === true
      : profile.smtpUtf8;
    const result = parseCommand(line, allowsUtf8 ? profile.syntaxUtf8 : profile.syntaxAscii);
    if (!result.ok) {
      this.#refuse(describeLine(line), result.reply, isHelloLine(line));
      return true;
    }
    const command = result.value;
    const transition = findTransition(this.#phase, command.verb, this);
    if (!isServerAction(transition)) {
      this.#refuseCommand(command, line, replies[transition]);
      return true;
    }
    switch (transition) {
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
      this.#skipBytes = command.size;
      this.#skipReply = buildReply(reply, this.#profile.enhancedStatusCodes);
      this.#skipLine = describeLine(line);
      this.#isSkipLast = command.last;
      this.#reader = 'skip';
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
    if (code < 500 || this.#closeReason !== null) return;
    this.#errorCount += 1;
    const { maxErrors } = this.#profile;
    if (maxErrors > 0 && this.#errorCount >= maxErrors) {
      this.#writeCatalogue(replies.tooManyErrors);
      this.#close('too-many-errors');
    }
  }

  #onHello(command: Extract<Command, { verb: 'EHLO' | 'HELO' | 'LHLO' }>): void {
    // RFC 5321 §4.1.4: HELO/EHLO in a transaction clears it, like RSET.
    if (this.#phase === 'transaction') this.#resetTransaction('hello', true);
    this.#raise({ type: 'hello', verb: command.verb, client: command.client });
  }

  #onMail(command: Extract<Command, { verb: 'MAIL' }>, line: Uint8Array): void {
    const profile = this.#profile;
    const { parameters } = command;
    let refusal: ReplyInit | null = null;
    if (profile.authRequired && this.#authenticated === null) refusal = replies.authRequired;
    else if (parameters.unknown.length > 0 || !this.#areMailParametersOffered(parameters)) {
      refusal = replies.unknownParameter;
    } else if (parameters.requireTls === true && !this.#isTlsActive) refusal = replies.requireTlsWithoutTls;
    else if (
      parameters.size !== undefined &&
      profile.maxMessageBytes > 0 &&
      parameters.size > profile.maxMessageBytes
    ) {
      refusal = replies.declaredSizeTooBig; // RFC 1870 §6
    }
    if (refusal !== null) {
      this.#refuse(describeLine(line), refusal, false);
      return;
    }
    this.#raise({ type: 'mail', from: command.from, parameters });
  }

  /** A parameter of an extension we do not offer is as unknown as any other (RFC 5321 §4.1.1.11: 555). */
  #areMailParametersOffered(parameters: MailParameters): boolean {
    const profile = this.#profile;
    if (parameters.size !== undefined && !profile.size) return false;
    if (parameters.body === '8BITMIME' && !profile.eightBitMime) return false;
    if (parameters.body === 'BINARYMIME' && !profile.binaryMime) return false;
    if (parameters.smtpUtf8 === true && !profile.smtpUtf8) return false;
    if ((parameters.ret !== undefined || parameters.envid !== undefined) && !profile.dsn) return false;
    if (parameters.auth !== undefined && profile.authMechanisms.length === 0) return false;
    if (parameters.by !== undefined) return false; // DELIVERBY is never offered
    if (parameters.requireTls === true && !profile.requireTlsExtension) return false;
    return true;
  }

  #onRcpt(command: Extract<Command, { verb: 'RCPT' }>, line: Uint8Array): void {
    const { parameters } = command;
    this.#hasRcptAttempt = true;
    let refusal: ReplyInit | null = null;
    if (
      parameters.unknown.length > 0 ||
      ((parameters.notify !== undefined || parameters.orcpt !== undefined) && !this.#profile.dsn)
    ) {
      refusal = replies.unknownParameter;
    } else if (this.#recipients.length >= this.#profile.maxRecipients) {
      refusal = replies.tooManyRecipients; // RFC 5321 §4.5.3.1.10: 452, the client retries later
    }
    if (refusal !== null) {
      this.#refuse(describeLine(line), refusal, false);
      return;
    }
    this.#raise({ type: 'rcpt', to: command.to, parameters });
  }

  /** What refuses DATA/BDAT before any content: no recipients (RFC 2920 §3.1: 554 when all were refused). */
  #messageRefusal(): ReplyInit | null {
    if (this.#recipients.length > 0) return null;
    return this.#hasRcptAttempt ? replies.noValidRecipients : replies.rcptFirst;
  }

  #onData(line: Uint8Array): void {
    const body = this.#mailParameters?.body;
    const refusal =
      this.#messageRefusal() ??
      (body === 'BINARYMIME'
        ? replies.binaryRequiresBdat
        : this.#isBdatUsed
          ? replies.bdatMixedWithData
          : null);
    if (refusal !== null) {
      this.#refuse(describeLine(line), refusal, false);
      return;
    }
    const profile = this.#profile;
    this.#dotDecoder = new DotDecoder({
      bareLineEndings: profile.bareLineEndings,
      maxLineBytes: profile.maxTextLineBytes,
    });
    this.#openMessage('DATA');
    this.#writeCatalogue(replies.startMailInput);
    this.#reader = 'data';
  }

  #openMessage(transfer: 'DATA' | 'BDAT'): void {
    const body = this.#mailParameters?.body;
    this.#checkEightBit = this.#profile.rejectEightBit && body !== '8BITMIME' && body !== 'BINARYMIME';
    this.#messageSize = 0;
    this.#abortReason = null;
    this.#isMessageOpen = true;
    this.#emit({ type: 'message-start', transfer });
  }

  /** Message-chunk events for content, unless the message is already given up; size and 8-bit accounting. */
  #deliverChunk(bytes: Uint8Array): void {
    if (this.#abortReason !== null || bytes.length === 0) return;
    this.#messageSize += bytes.length;
    const { maxMessageBytes } = this.#profile;
    if (maxMessageBytes > 0 && this.#messageSize > maxMessageBytes) this.#abortMessage('too-large');
    else if (this.#checkEightBit && hasEightBit(bytes)) this.#abortMessage('eight-bit');
    else this.#emit({ type: 'message-chunk', bytes });
  }

  #abortMessage(reason: MessageAbortReason): void {
    if (this.#abortReason === null) {
      this.#abortReason = reason;
      if (this.#isMessageOpen) this.#emit({ type: 'message-abort', reason });
    }
    this.#isMessageOpen = false;
  }

  #readData(): boolean {
    const decoder = this.#dotDecoder as DotDecoder;
    const unread = this.#input.peek();
    if (unread === null) return false;
    const result = decoder.decode(unread);
    this.#input.consume(result.consumedBytes);
    // A violation anywhere in this piece gives the message up before any of it is delivered.
    if (result.violation !== null) this.#abortMessage(result.violation);
    for (const piece of result.output) this.#deliverChunk(piece);
    if (result.ended) {
      this.#dotDecoder = null;
      this.#reader = 'command';
      this.#endMessage(true);
    }
    return true;
  }

  /** The end of the content: message-end (pending), or the refusal of an aborted message. */
  #endMessage(isLast: boolean): void {
    const reason = this.#abortReason;
    if (reason === null) {
      if (isLast) {
        this.#isMessageOpen = false;
        this.#raise({ type: 'message-end', size: this.#messageSize });
      }
      return;
    }
    const name = abortReplies[reason as keyof typeof abortReplies] ?? 'transactionFailed';
    const reply = buildReply(replies[name], this.#profile.enhancedStatusCodes);
    this.#writeFinal(encodeReply(reply), reply.code, isLast);
    this.#clearTransaction();
  }

  /** The reply after the content: once, or (LMTP, RFC 2033 §4.2) once per accepted recipient. */
  #writeFinal(bytes: Uint8Array, code: number, isLast: boolean): void {
    const count = this.#profile.isLmtp && isLast && this.#recipients.length > 0 ? this.#recipients.length : 1;
    for (let index = 0; index < count; index++) this.#write(bytes);
    this.#countError(code);
  }

  #onBdat(command: Extract<Command, { verb: 'BDAT' }>, line: Uint8Array): void {
    const refusal = this.#messageRefusal();
    if (refusal !== null) {
      this.#refuseCommand(command, line, refusal);
      return;
    }
    const { maxMessageBytes } = this.#profile;
    if (!this.#isBdatUsed) {
      this.#isBdatUsed = true;
      this.#openMessage('BDAT');
    }
    // The declared chunk size already tells whether the message fits: no need to read it first.
    if (maxMessageBytes > 0 && this.#messageSize + command.size > maxMessageBytes)
      this.#abortMessage('too-large');
    this.#bdatReader = new BdatReader(command.size);
    this.#isBdatLast = command.last;
    this.#reader = 'bdat';
  }

  #readBdat(): boolean {
    const reader = this.#bdatReader as BdatReader;
    if (reader.remainingBytes > 0) {
      const unread = this.#input.peek();
      if (unread === null) return false;
      const result = reader.read(unread);
      this.#input.consume(result.consumedBytes);
      if (result.output !== null) this.#deliverChunk(result.output);
      if (!result.done) return true;
    }
    this.#bdatReader = null;
    this.#reader = 'command';
    if (this.#abortReason !== null) {
      // RFC 3030 §2: the transaction has failed; BDATs already pipelined are read and refused (503).
      this.#endMessage(this.#isBdatLast);
    } else if (this.#isBdatLast) {
      this.#endMessage(true);
    } else {
      this.#writeCatalogue(replies.bdatOk); // RFC 3030 §2: each chunk answered after its octets
    }
    return true;
  }

  #readSkip(): boolean {
    if (this.#skipBytes > 0) {
      const available = this.#input.size;
      if (available === 0) return false;
      const count = Math.min(available, this.#skipBytes);
      this.#input.consume(count);
      this.#skipBytes -= count;
      if (this.#skipBytes > 0) return true;
    }
    this.#reader = 'command';
    const reply = this.#skipReply as Reply;
    this.#skipReply = null;
    this.#emit({ type: 'command-rejected', line: this.#skipLine, reply });
    this.#writeFinal(encodeReply(reply), reply.code, this.#isSkipLast && this.#phase === 'transaction');
    return true;
  }

  // ---- transaction state ----------------------------------------------------------------------------

  /** Ends the transaction (RSET, HELO, XCLIENT, TLS); an open message is given up first. */
  #resetTransaction(cause: 'rset' | 'hello' | 'tls' | 'xclient', emitReset: boolean): void {
    if (this.#isMessageOpen) this.#abortMessage('reset');
    this.#clearTransaction();
    if (emitReset) this.#emit({ type: 'reset', cause });
  }

  #clearTransaction(): void {
    if (this.#phase === 'transaction') this.#phase = 'ready';
    this.#from = null;
    this.#mailParameters = null;
    this.#recipients = noRecipients;
    this.#hasRcptAttempt = false;
    this.#isBdatUsed = false;
    this.#isMessageOpen = false;
    this.#abortReason = null;
    this.#messageSize = 0;
  }

  /** Back to "need EHLO" without a new greeting (STARTTLS, RFC 3207 §4.2) or with one (XCLIENT). */
  #resetSession(cause: 'tls' | 'xclient'): void {
    this.#resetTransaction(cause, true);
    this.#phase = 'greeting';
    this.#client = null;
    this.#authenticated = null;
    this.#sasl = null;
  }

  #close(reason: CloseReason): void {
    if (this.#closeReason !== null) return;
    this.#reportCoreVerifiedFailure('incomplete');
    if (this.#isMessageOpen) this.#abortMessage(closeAbortReasons[reason]);
    this.#closeReason = reason;
    this.#reader = 'closed';
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
    this.#sasl = sasl;
    this.#authFailureReply = null;
    this.#onSaslStep(sasl.start(command.initialResponse));
  }

  #onSaslStep(step: SaslServerStep): void {
    const sasl = this.#sasl as SaslServer;
    switch (step.type) {
      case 'challenge':
        this.#write(encodeChallenge(encodeBase64(step.challenge)));
        this.#reader = 'auth';
        return;
      case 'verify':
      case 'lookup':
        this.#reader = 'command';
        this.#raise({ type: 'auth', mechanism: sasl.mechanism, step });
        return;
      case 'success':
        this.#authSucceeded(step.username, step.authorizationId);
        return;
      case 'failure':
        this.#onSaslFailure(step, step.reason === 'malformed' ? replies.authMalformed : replies.authFailed);
        return;
    }
  }

  /**
   * A failed exchange. XOAUTH2/OAUTHBEARER first send their error as a 334 challenge (RFC 7628 §3.2.2);
   * the reply follows the client's answer to it.
   */
  #onSaslFailure(step: Extract<SaslServerStep, { type: 'failure' }>, init: ReplyInit | Reply): void {
    if (step.challenge !== undefined && this.#authFailureReply === null) {
      this.#authFailureReply = buildReply(init, this.#profile.enhancedStatusCodes);
      this.#write(encodeChallenge(encodeBase64(step.challenge)));
      this.#reader = 'auth';
      return;
    }
    this.#authFailed(init);
  }

  #reportCoreVerifiedFailure(reason: 'invalid-credentials' | 'incomplete'): void {
    const exchange = this.#coreVerified;
    if (exchange === null) return;
    this.#coreVerified = null;
    this.#emit({ type: 'auth-failed', ...exchange, reason });
  }

  #authSucceeded(username: string, authorizationId: string | null): void {
    const mechanism = (this.#sasl as SaslServer).mechanism;
    this.#sasl = null;
    this.#reader = 'command';
    this.#coreVerified = null;
    this.#authenticated = { username, authorizationId, mechanism };
    this.#writeCatalogue(replies.authSucceeded);
    this.#emit({ type: 'authenticated', username, authorizationId, mechanism });
  }

  #authFailed(init: ReplyInit | Reply): void {
    this.#reportCoreVerifiedFailure('invalid-credentials');
    this.#sasl = null;
    this.#reader = 'command';
    this.#authFailureReply = null;
    const reply = buildReply(init, this.#profile.enhancedStatusCodes);
    this.#write(encodeReply(reply));
    this.#countError(reply.code);
  }

  #readAuthLine(): boolean {
    const line = this.#input.takeLine(this.#profile.maxAuthLineBytes);
    if (line === null) return false;
    if (line === overlongLine) {
      this.#authFailed(replies.lineTooLong);
      return true;
    }
    const text = decodeLatin1(line);
    if (text === '*') {
      this.#authFailed(replies.authCancelled); // RFC 4954 §4
      return true;
    }
    if (this.#authFailureReply !== null) {
      this.#authFailed(this.#authFailureReply);
      return true;
    }
    const response = decodeBase64(text);
    if (response === null) {
      this.#authFailed(replies.authMalformed);
      return true;
    }
    this.#onSaslStep((this.#sasl as SaslServer).respond(response));
    return true;
  }

  // ---- STARTTLS (RFC 3207) and XCLIENT --------------------------------------------------------------

  #onStartTls(): void {
    this.#writeCatalogue(replies.readyToStartTls);
    this.#reader = 'tls';
    this.#input.drop(); // pipelined bytes after STARTTLS are an injection attempt (CVE-2011-0411)
    this.#emit({ type: 'tls-ready' });
  }

  /** The handshake succeeded: input so far is dropped and the session starts over without a greeting. */
  tlsStarted(): void {
    if (this.#closeReason !== null) return;
    if (this.#reader !== 'tls') throw new SmtpUsageError('tlsStarted() without a tls-ready event');
    this.#isTlsActive = true;
    this.#input.drop(true);
    this.#reader = 'command';
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
    switch (event.type) {
      case 'hello':
        this.#acceptHello(event.verb, event.client, text);
        return;
      case 'mail':
        this.#phase = 'transaction';
        this.#from = event.from;
        this.#mailParameters = event.parameters;
        this.#recipients = [];
        this.#hasRcptAttempt = false;
        this.#writeAccept(replies.senderOk, text);
        return;
      case 'rcpt':
        this.#recipients.push({ to: event.to, parameters: event.parameters });
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
        const { step } = event;
        if (step.type === 'verify') {
          this.#authSucceeded(step.credentials.username, step.credentials.authorizationId);
          return;
        }
        if (options?.secret === undefined) {
          this.#pending = event;
          throw new SmtpUsageError("accept() of an 'auth' lookup step needs { secret }");
        }
        const sasl = this.#sasl as SaslServer;
        this.#coreVerified = { username: step.username, mechanism: sasl.mechanism };
        this.#onSaslStep(sasl.provideSecret(options.secret));
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
        const step = (this.#sasl as SaslServer).reject();
        if (step.type === 'failure') this.#onSaslFailure(step, built);
        else this.#authFailed(built);
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
    if (replyList.length !== this.#recipients.length) {
      throw new SmtpUsageError(
        `acceptEach() needs ${this.#recipients.length} replies, got ${replyList.length}`,
      );
    }
    const built = replyList.map((init) => buildReply(init, this.#profile.enhancedStatusCodes));
    this.#pending = null;
    for (const reply of built) this.#write(encodeReply(reply));
    this.#clearTransaction();
  }

  #peekPending(): PendingServerEvent | null {
    const event = this.#pending;
    if (event !== null) return event;
    if (this.#closeReason !== null) return null; // a hook finishing after close: nothing to answer
    throw new SmtpUsageError('No event is pending');
  }

  #takePending(): PendingServerEvent | null {
    const event = this.#peekPending();
    this.#pending = null;
    return event;
  }

  #acceptHello(verb: 'EHLO' | 'HELO' | 'LHLO', client: Domain, text: string | undefined): void {
    this.#phase = 'ready';
    this.#client = client;
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
    if (this.#closeReason !== null) return;
    if (this.#reader !== 'tls') this.#writeCatalogue(replies.timedOut);
    this.#close('timeout');
  }

  /** The server is going down: 421 4.3.2 and close. */
  shutdown(): void {
    if (this.#closeReason !== null) return;
    if (this.#reader !== 'tls') this.#writeCatalogue(replies.shuttingDown);
    this.#close('shutdown');
  }

  /** The capabilities the next EHLO reply advertises (for logs and tests). */
  get capabilities(): Capabilities {
    return serverCapabilities(this.#profile, this.#isTlsActive);
  }
}
