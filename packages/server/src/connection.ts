import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import {
  type ReplyInit,
  replies,
  type SaslMechanismName,
  type SaslSecret,
  type ServerEvent,
  ServerSession,
  type ServerSessionOptions,
  SmtpError,
  type SmtpReplyError,
} from '@smtp/protocol';
import { authenticatedUser, provenIdentity, proxyRequestOf } from './authorization.js';
import { describeCommand, splitReplies } from './debug-records.js';
import type {
  AcceptText,
  AuthenticatedUser,
  AuthorizationRequest,
  AuthVerdict,
  LmtpDataResult,
  ServerHooks,
  SessionEnvelope,
  SmtpSession,
} from './hooks.js';
import type { IdleSweeper } from './idle-sweeper.js';
import { type AddressMatcher, type AuthThrottle, normalizeAddress } from './limits.js';
import type { LogEvent, Logger } from './logging.js';
import { MessageAbortedError, MessageStream } from './message-stream.js';
import type { ServerMetrics } from './metrics.js';
import type { RecordClock, RecordDeadlines } from './record-deadlines.js';
import { type TarpitPolicy, tarpitDelayMs } from './tarpit.js';
import type { TimeoutKind } from './timeouts.js';
import { describeTls, type TlsContextStore, type TlsInfo } from './tls-context.js';

/** Options for the sessions of one kind of connection, and the greeting such a session sends. */
export interface SessionKind {
  readonly options: ServerSessionOptions;
  /** What `greet()` writes by default (encodeGreeting): sent as is to every connection of this kind. */
  readonly greeting: Uint8Array;
}

/** What every connection of one server shares. Built once by createServer. */
export interface ConnectionContext {
  /**
   * Session options for this kind of connection, and its default greeting. The same object for the
   * same arguments, so the core's per-options profile (EHLO bytes, greeting, limits) is built once,
   * not per connection.
   */
  sessionKindFor(offerStartTls: boolean, isXclientPeer: boolean, isTlsActive: boolean): SessionKind;
  readonly hooks: ServerHooks;
  readonly logger: Logger;
  readonly isDebug: boolean;
  /** Whether info records are wanted: when not, none is built (a silent logger costs nothing per message). */
  readonly isInfo: boolean;
  readonly metrics: ServerMetrics;
  readonly sweeper: IdleSweeper;
  /** Total-time deadlines per command line and per message. */
  readonly deadlines: RecordDeadlines;
  /** Idle timeouts in sweeper ticks. */
  readonly timeoutTicks: Readonly<Record<TimeoutKind | 'close', number>>;
  readonly tlsStore: TlsContextStore | null;
  readonly authThrottle: AuthThrottle;
  readonly xclientPeers: AddressMatcher;
  /** Unconsumed input the core may hold while a handler runs before we stop reading the socket. */
  readonly maxBufferedBytes: number;
  readonly messageHighWaterMark: number;
  readonly earlyTalkerDelayMs: number;
  /** Null: no tarpitting (the default). */
  readonly tarpit: TarpitPolicy | null;
  readonly greeting: ReplyInit | undefined;
}

/** What #handle returns when the callback that applies a handler's outcome runs the pump again itself. */
const pumpResumesItself = Symbol('pump-resumes-itself');
/** Nothing: go on with the next event. A promise: run the pump again once it settles. */
type PumpWait = Promise<void> | typeof pumpResumesItself | undefined;

// Why the socket is paused; reading resumes when no reason is left.
const pausedForStream = 1;
const pausedForWrite = 2;
const pausedForInput = 4;

const connectionKey = Symbol('smtp.connection');
type OwnedSocket = Socket & { [connectionKey]?: Connection };

// Shared listeners (one function per server, not per connection) keep idle connections small.
function onSocketData(this: OwnedSocket, chunk: Buffer): void {
  this[connectionKey]?.receive(chunk);
}
function onSocketEnd(this: OwnedSocket): void {
  this[connectionKey]?.receiveEnd();
}
function onSocketDrain(this: OwnedSocket): void {
  this[connectionKey]?.drained();
}
function onSocketError(this: OwnedSocket, error: Error): void {
  this[connectionKey]?.socketError(error);
}
function onSocketClose(this: OwnedSocket): void {
  this[connectionKey]?.closed();
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

function isReplyError(error: unknown): error is SmtpReplyError {
  return SmtpError.isInstance(error) && 'reply' in error;
}

function toReplyInit(error: SmtpReplyError): ReplyInit {
  const reply = error.reply;
  return reply.enhanced
    ? { code: reply.code, enhanced: reply.enhanced, text: reply.lines }
    : { code: reply.code, text: reply.lines };
}

let connectionCounter = 0;
const idPrefix = Date.now().toString(36);

/** Connection-level facts decided before the session starts (PROXY header, listener). */
export interface ConnectionPeer {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
}

/**
 * The pump (GUIDE §2.3): bytes from the socket go into the ServerSession; its events go to the
 * hooks; their decisions go back as accept()/reject(); its output goes to the socket. No protocol
 * decision is made here.
 */
export class Connection implements SmtpSession, RecordClock {
  // Lazy: an idle connection should hold as little as possible (issue #3: memory per idle connection).
  readonly #serial = connectionCounter++;
  #id: string | null = null;
  #data: Record<string, unknown> | null = null;
  // SweptConnection: the idle timeout (one shared interval for all connections, see IdleSweeper).
  activeTick = 0;
  timeoutTicks = 0;
  // RecordClock: the deadline of the command line or message being received (see RecordDeadlines).
  recordStartTick = 0;
  recordDeadlineTicks = 0;
  isLineRecord = false;
  recordConsumedBytes = 0;
  #inputBytes = 0;
  readonly #context: ConnectionContext;
  readonly #onEnd: (connection: Connection) => void;
  readonly #socketAddress: string;
  #remoteAddress: string;
  #remotePort: number;
  // Read from the socket when first needed (Node caches an object per socket once asked).
  #localAddress: string | null = null;
  #localPort = 0;
  #socket: Socket;
  #isStarted = false;
  #session: ServerSession | null = null;
  /** Set when the greeting went out without a session: the session to create on first input. */
  #sessionKind: SessionKind | null = null;
  #tls: TlsInfo | null = null;
  #helloVerb: SmtpSession['helloVerb'] = null;
  #clientHostname: SmtpSession['clientHostname'] = null;
  /** Set as an exchange is accepted; valid while the core says the session is authenticated. */
  #user: AuthenticatedUser | null = null;
  #messageCount = 0;
  #isPumping = false;
  #pausedFor = 0;
  #timeoutKind: TimeoutKind | 'close' | null = null;
  #stream: MessageStream | null = null;
  #dataOutcome: Promise<AcceptText | LmtpDataResult> | null = null;
  #isDataSettled = false;
  #isClosed = false;
  #isShutdownRequested = false;
  #messageStartedAt = 0;
  /** Refusals sent so far (core and handlers, 4xx and 5xx), and how many the tarpit has delayed. */
  #errorCount = 0;
  #tarpittedErrorCount = 0;

  /**
   * Owns the socket from the moment it is accepted: `onEnd` (shared by all connections of a server)
   * runs once when it closes, whether or not the session ever started.
   */
  constructor(
    socket: Socket,
    socketAddress: string,
    context: ConnectionContext,
    onEnd: (connection: Connection) => void,
  ) {
    this.#socket = socket;
    this.#socketAddress = socketAddress;
    this.#remoteAddress = socketAddress;
    this.#remotePort = socket.remotePort ?? 0;
    this.#context = context;
    this.#onEnd = onEnd;
    (socket as OwnedSocket)[connectionKey] = this;
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
  }

  /** What a trusted PROXY header says about the real client and the address it connected to. */
  setPeer(peer: ConnectionPeer): void {
    this.#remoteAddress = normalizeAddress(peer.remoteAddress);
    this.#remotePort = peer.remotePort;
    this.#localAddress = normalizeAddress(peer.localAddress);
    this.#localPort = peer.localPort;
  }

  // --- SmtpSession, the handlers' view ---
  get id(): string {
    this.#id ??= `${idPrefix}${this.#serial.toString(36)}`;
    return this.#id;
  }
  get data(): Record<string, unknown> {
    this.#data ??= {};
    return this.#data;
  }
  get remoteAddress(): string {
    return this.#remoteAddress;
  }
  get remotePort(): number {
    return this.#remotePort;
  }
  get localAddress(): string {
    return this.#localAddress ?? this.#readLocalAddress();
  }
  get localPort(): number {
    if (this.#localAddress === null) this.#readLocalAddress();
    return this.#localPort;
  }
  /**
   * Not read at accept time: a connection that never says anything does not need it. It is read
   * before the first handler runs (onConnect, or the first input), while the socket is open.
   */
  #readLocalAddress(): string {
    const socket = this.#socket;
    this.#localAddress = normalizeAddress(socket.localAddress ?? '');
    this.#localPort = socket.localPort ?? 0;
    return this.#localAddress;
  }
  get socketAddress(): string {
    return this.#socketAddress;
  }
  get clientHostname(): SmtpSession['clientHostname'] {
    return this.#clientHostname;
  }
  get helloVerb(): SmtpSession['helloVerb'] {
    return this.#helloVerb;
  }
  get tls(): TlsInfo | null {
    return this.#tls;
  }
  /** The core knows whether AUTH succeeded (and forgets it on STARTTLS/XCLIENT); we know as whom. */
  get user(): AuthenticatedUser | null {
    return this.#session?.authenticated ? this.#user : null;
  }
  get envelope(): SessionEnvelope | null {
    return this.#session?.envelope ?? null;
  }
  get messageCount(): number {
    return this.#messageCount;
  }
  /** Whether the socket is gone. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /**
   * Starts the session on a socket that is ready for SMTP (PROXY header read, implicit TLS done).
   * `socket` is the accepted one, or the TLSSocket over it (implicit TLS); `pending` holds bytes
   * already read past the PROXY header.
   */
  async start(
    socket: OwnedSocket,
    tls: TlsInfo | null,
    pending: Uint8Array | null,
    offerStartTls: boolean,
  ): Promise<void> {
    const context = this.#context;
    this.#isStarted = true;
    this.#tls = tls;
    if (socket !== this.#socket) {
      // Implicit TLS: the TLS socket is the one we talk over. The accepted socket keeps its
      // listeners: whichever closes first ends the connection (closed() runs once).
      this.#readLocalAddress(); // from the TCP socket
      this.#socket = socket;
      socket[connectionKey] = this;
      socket.on('error', onSocketError);
      socket.on('close', onSocketClose);
    }
    context.sweeper.add(this);
    if (context.isInfo) this.#log('info', 'connect', { tls: tls !== null });

    let greeting: ReplyInit | SmtpReplyError | undefined = context.greeting;
    let isRefusedOnConnect = false;
    const onConnect = context.hooks.onConnect;
    if (onConnect) {
      this.#readLocalAddress();
      try {
        await onConnect(this);
      } catch (error) {
        greeting = this.#replyFor(error, 'onConnect');
        isRefusedOnConnect = true;
      }
      if (this.#isClosed) return;
    }
    let isEarlyTalker = false;
    // A custom greetingText is a greeting too: the pause applies unless onConnect refused.
    if (context.earlyTalkerDelayMs > 0 && !isRefusedOnConnect) {
      // Opt-in (RFC 5321 §4.3.1 lets a server delay the greeting): a client that talks before it
      // is greeted does not follow the protocol; spam engines often do.
      const talkedEarly = await detectEarlyTalker(socket, context.earlyTalkerDelayMs, pending);
      if (this.#isClosed) return;
      if (talkedEarly) {
        this.#log('info', 'connection-refused', { reason: 'early-talker' });
        greeting = replies.serviceRefused;
        isEarlyTalker = true;
      }
    }

    const isXclientPeer = context.xclientPeers.matches(this.#socketAddress);
    const kind = context.sessionKindFor(offerStartTls, isXclientPeer, tls !== null);
    if (greeting === undefined && (pending === null || pending.byteLength === 0)) {
      // The default greeting is the same bytes for every connection of this kind: it goes out
      // without a session, which is created when the client first sends something. A connection
      // that only sits there holds no session (issue #3: memory per idle connection).
      this.#sessionKind = kind;
      this.#listen(socket);
      this.#send(kind.greeting);
      this.#armTimer('command');
      if (this.#isShutdownRequested) this.#shutdownIfIdle();
      return;
    }
    const session = new ServerSession(kind.options);
    this.#session = session;
    const opening = greeting === undefined || !isReplyError(greeting) ? greeting : toReplyInit(greeting);
    // The core's greeting policy decides what follows: after 554 it answers 503 to everything but
    // QUIT (RFC 5321 §3.1 says wait for QUIT, do not hang up); after 421 it closes.
    session.greet(opening);
    if (opening !== undefined && opening.code >= 400) context.metrics.values.connectionsRefused += 1;

    this.#listen(socket);
    // An early talker's bytes are dropped, not answered: it is refused for having sent them.
    if (pending && pending.byteLength > 0 && !isEarlyTalker) session.receive(pending);
    this.#pump();
  }

  #listen(socket: Socket): void {
    socket.on('data', onSocketData);
    socket.on('end', onSocketEnd);
    socket.on('drain', onSocketDrain);
    if (socket.isPaused()) socket.resume();
  }

  /** The session; created now if the greeting went out without one. Null before start(). */
  #currentSession(): ServerSession | null {
    const session = this.#session;
    const kind = this.#sessionKind;
    if (session !== null || kind === null) return session;
    if (this.#localAddress === null) this.#readLocalAddress();
    const created = new ServerSession(kind.options);
    created.greet();
    created.takeOutput(); // the greeting, already sent (the same bytes)
    this.#session = created;
    this.#sessionKind = null;
    return created;
  }

  // --- socket events ---

  receive(chunk: Uint8Array): void {
    const session = this.#currentSession();
    if (!session) return;
    // The peer is active (RFC 5321 §4.5.3.2 timeouts are idle times) unless we are closing: a peer
    // that keeps sending but never reads must not hold the socket open.
    if (this.#timeoutKind !== 'close') this.activeTick = this.#context.sweeper.tick;
    this.#inputBytes += chunk.byteLength;
    session.receive(chunk);
    if (this.#isPumping) {
      // A handler is running: the core keeps the input; stop reading before it holds too much.
      if (session.bufferedBytes > this.#context.maxBufferedBytes) this.#pause(pausedForInput);
      return;
    }
    this.#pump();
  }

  receiveEnd(): void {
    const session = this.#currentSession();
    if (!session || session.isClosed) return;
    session.receiveEnd();
    if (!this.#isPumping) this.#pump();
  }

  drained(): void {
    this.#resume(pausedForWrite);
  }

  /** The peer was silent too long, or took too long over a line or message (called by the IdleSweeper). */
  expire(reason: 'idle' | 'deadline'): void {
    const session = this.#currentSession();
    const kind = this.#timeoutKind;
    if (!session || session.isClosed || kind === 'close' || kind === 'tls-handshake') {
      // Closing and the peer does not read, or a handshake that never completes: stop waiting.
      this.#socket.destroy();
      return;
    }
    this.#context.metrics.values.timeouts += 1;
    if (this.#context.isInfo) this.#log('info', 'timeout', { waitingFor: kind, reason });
    session.timedOut();
    if (this.#isPumping) {
      // A handler is still running; the 421 must not wait for it.
      this.#flush();
      this.#endSocket();
    } else {
      this.#pump();
    }
  }

  socketError(error: Error): void {
    this.#log('debug', 'socket-error', { error: error.message });
  }

  closed(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.timeoutTicks = 0;
    if (!this.#isStarted) {
      // Closed before the session started (bad PROXY header, failed implicit-TLS handshake).
      this.#onEnd(this);
      return;
    }
    this.#context.sweeper.delete(this);
    if (this.#stream) {
      this.#stream.destroy(new MessageAbortedError('peer-closed'));
      this.#stream = null;
    }
    if (this.#context.isInfo) this.#log('info', 'close', { messages: this.#messageCount });
    this.#onEnd(this);
    const onClose = this.#context.hooks.onClose;
    if (onClose) {
      try {
        const result = onClose(this);
        if (isPromiseLike(result))
          result.then(undefined, (error: unknown) => this.#logHandlerError('onClose', error));
      } catch (error) {
        this.#logHandlerError('onClose', error);
      }
    }
  }

  // --- graceful shutdown ---

  /** Ends the session at the next point where no transaction would be lost (immediately if idle). */
  requestShutdown(): void {
    this.#isShutdownRequested = true;
    if (!this.#isPumping) this.#shutdownIfIdle();
  }

  /** The deadline passed: 421 now, whatever the session is doing. */
  forceShutdown(): void {
    if (this.#isClosed) return;
    const session = this.#currentSession();
    if (!session || session.isClosed) {
      this.#socket.destroy();
      return;
    }
    session.shutdown();
    this.#flush();
    this.#endSocket();
  }

  #shutdownIfIdle(): void {
    const session = this.#currentSession();
    if (!session || session.isClosed) return;
    const phase = session.state.phase;
    if (phase === 'greeting' || phase === 'ready') {
      session.shutdown();
      this.#pump();
    }
  }

  // --- the pump ---

  #pump(): void {
    if (this.#isPumping || this.#isClosed) return;
    this.#isPumping = true;
    this.#run();
  }

  #run(): void {
    const session = this.#session!;
    for (;;) {
      if (this.#isClosed) {
        this.#isPumping = false;
        return;
      }
      if (this.#errorCount > this.#tarpittedErrorCount && this.#tarpit()) return;
      const event = session.nextEvent();
      if (event === null) break;
      this.#context.deadlines.eventTaken(this, event.type);
      if (this.#context.isDebug) this.#logCommand(event);
      const wait = this.#handle(event);
      if (wait !== undefined) {
        // Replies the client is waiting for leave now; if more pipelined input is queued, they
        // wait to leave together with the replies still to come (RFC 2920 §3.2).
        if (session.bufferedBytes === 0) this.#flush();
        if (wait !== pumpResumesItself)
          wait.then(
            () => this.#run(),
            (error: unknown) => this.#failPump(error),
          );
        return;
      }
    }
    this.#isPumping = false;
    this.#resume(pausedForInput);
    this.#flush();
    if (this.#isShutdownRequested) this.#shutdownIfIdle();
    if (!this.#isClosed && !session.isClosed) {
      const kind = session.timeout;
      this.#armTimer(kind);
      const buffered = session.bufferedBytes;
      this.#context.deadlines.waiting(this, kind, this.#inputBytes - buffered, buffered);
    }
  }

  /** Our own bug while applying a decision: logged, and the connection ends. */
  #failPump(error: unknown): void {
    this.#logHandlerError('pump', error);
    this.#socket.destroy();
  }

  /** Applies a handler's outcome, then goes on with the input (one microtask, not two, after it settles). */
  #resumeWith<Value>(apply: (value: Value) => void, value: Value): void {
    try {
      apply(value);
      this.#run();
    } catch (error) {
      this.#failPump(error);
    }
  }

  /**
   * Holds the replies queued so far (a refusal among them) for the tarpit's delay, then runs the
   * pump again; input meanwhile waits in the core (reading pauses at maxBufferedBytes). True when
   * it is waiting.
   */
  #tarpit(): boolean {
    const policy = this.#context.tarpit;
    this.#tarpittedErrorCount = this.#errorCount;
    if (policy === null) return false;
    const delayMs = tarpitDelayMs(policy, this.#errorCount);
    if (delayMs === 0) return false;
    if (this.#context.isDebug) this.#log('debug', 'tarpit', { errors: this.#errorCount, delayMs });
    const timer = setTimeout(() => this.#run(), delayMs);
    timer.unref();
    return true;
  }

  #logCommand(event: ServerEvent): void {
    let fields: Record<string, unknown> | null;
    try {
      fields = describeCommand(event);
    } catch {
      fields = { type: event.type }; // a debug record must never break the session
    }
    if (fields !== null) this.#log('debug', 'command', fields);
  }

  #handle(event: ServerEvent): PumpWait {
    const session = this.#session!;
    const hooks = this.#context.hooks;
    switch (event.type) {
      case 'hello': {
        const hook = event.verb === 'HELO' ? hooks.onHelo : hooks.onEhlo;
        if (!hook) {
          // No handler: no closures, no promise (the common case on the hot path).
          this.#helloVerb = event.verb;
          this.#clientHostname = event.client;
          session.accept();
          return undefined;
        }
        return this.#decide(
          () => hook(event.client, this),
          'hello',
          (text) => {
            this.#helloVerb = event.verb;
            this.#clientHostname = event.client;
            session.accept(text === undefined ? undefined : { text });
          },
        );
      }
      case 'mail': {
        const hook = hooks.onMailFrom;
        if (!hook) {
          session.accept();
          return undefined;
        }
        return this.#decide(
          () => hook(event.from, event.parameters, this),
          'onMailFrom',
          (text) => session.accept(text === undefined ? undefined : { text }),
        );
      }
      case 'rcpt': {
        const hook = hooks.onRcptTo;
        const metrics = this.#context.metrics.values;
        if (!hook) {
          metrics.recipientsAccepted += 1;
          session.accept();
          return undefined;
        }
        return this.#decide(
          () => hook(event.to, event.parameters, this),
          'onRcptTo',
          (text) => {
            metrics.recipientsAccepted += 1;
            session.accept(text === undefined ? undefined : { text });
          },
          () => {
            metrics.recipientsRejected += 1;
          },
        );
      }
      case 'auth':
        return this.#authenticate(event);
      case 'auth-failed':
        // The core rejected a proof it checked itself (CRAM-MD5, SCRAM-SHA-256).
        this.#recordAuthFailure(event.mechanism, event.username, event.reason);
        return undefined;
      case 'authenticated':
        this.#context.metrics.values.authSucceeded += 1;
        if (this.#context.isInfo) {
          const user = this.user;
          this.#log('info', 'auth-ok', {
            username: user?.username ?? event.username,
            mechanism: event.mechanism,
            ...(user?.authorizationId ? { authorizationId: user.authorizationId } : {}),
          });
        }
        return undefined;
      case 'message-start':
        // The 354 (DATA) is ready and the client waits for it before it sends the content: it
        // leaves before onData runs, so the handler's set-up overlaps the round trip.
        if (session.bufferedBytes === 0) this.#flush();
        this.#startMessage();
        return undefined;
      case 'message-chunk': {
        this.#context.metrics.values.messageBytesReceived += event.bytes.byteLength;
        const stream = this.#stream;
        if (stream && !this.#isDataSettled && !stream.destroyed) {
          if (!stream.write(event.bytes)) {
            this.#pause(pausedForStream);
            stream.onDemand = () => this.#resume(pausedForStream);
          }
        }
        return undefined;
      }
      case 'message-end':
        return this.#endMessage(event.size);
      case 'message-abort':
        this.#abortMessage(event.reason);
        return undefined;
      case 'tls-ready':
        return this.#upgradeToTls();
      case 'reset':
        if (event.cause === 'tls') {
          this.#helloVerb = null;
          this.#clientHostname = null;
        }
        this.#abortMessage('reset');
        return this.#notify(hooks.onReset, 'onReset');
      case 'xclient':
        // Only trusted peers are offered XCLIENT (see start()); the core parsed and validated it.
        if (event.peer.address !== undefined) this.#remoteAddress = event.peer.address;
        if (event.peer.port !== undefined) this.#remotePort = event.peer.port;
        if (this.#context.isInfo) this.#log('info', 'xclient', { peer: event.peer });
        session.accept();
        return undefined;
      case 'command-rejected':
        this.#errorCount += 1;
        this.#context.metrics.values.commandsRejected += 1;
        if (this.#context.isDebug)
          this.#log('debug', 'command', { rejected: event.line, code: event.reply.code });
        return undefined;
      case 'close':
        this.#abortMessage('peer-closed');
        this.#flush();
        this.#endSocket();
        return undefined;
      default:
        return undefined;
    }
  }

  /**
   * Runs a handler and turns its outcome into accept()/reject(). Synchronous handlers (or none)
   * take no detour through the microtask queue.
   */
  #decide(
    run: (() => unknown) | undefined,
    hookName: string,
    accept: (text: string | undefined) => void,
    onReject?: () => void,
  ): Promise<void> | undefined {
    return this.#invoke(
      run,
      (value) => accept(typeof value === 'string' ? value : undefined),
      (error) => {
        onReject?.();
        this.#reject(this.#replyFor(error, hookName));
      },
    );
  }

  /**
   * Runs a handler (or nothing) and hands its value or exception on; skipped once the session is
   * closed. A handler that returns synchronously takes no detour through the microtask queue.
   */
  #invoke(
    run: (() => unknown) | undefined,
    settle: (value: unknown) => Promise<void> | undefined | void,
    fail: (error: unknown) => void,
  ): Promise<void> | undefined {
    const session = this.#session!;
    // `settle` may run a further handler (AUTH: onAuthorize after onAuth); its promise is waited for.
    const onValue = (value: unknown): Promise<void> | undefined => {
      if (session.isClosed) return undefined;
      return settle(value) ?? undefined;
    };
    const onError = (error: unknown): void => {
      if (!session.isClosed) fail(error);
    };
    let result: unknown;
    try {
      result = run?.();
    } catch (error) {
      onError(error);
      return undefined;
    }
    if (isPromiseLike(result)) return Promise.resolve(result).then(onValue, onError);
    return onValue(result);
  }

  #notify(
    hook: ((session: SmtpSession) => unknown) | undefined,
    hookName: string,
  ): Promise<void> | undefined {
    if (!hook) return undefined;
    try {
      const result = hook(this);
      if (isPromiseLike(result)) {
        return Promise.resolve(result).then(
          () => undefined,
          (error: unknown) => this.#logHandlerError(hookName, error),
        );
      }
    } catch (error) {
      this.#logHandlerError(hookName, error);
    }
    return undefined;
  }

  /** A thrown SmtpReplyError is the reply; anything else is our user's bug: 451 4.3.0, logged. */
  #replyFor(error: unknown, hookName: string): ReplyInit | SmtpReplyError {
    if (isReplyError(error)) return error;
    this.#logHandlerError(hookName, error);
    return replies.localError;
  }

  #reject(reply: ReplyInit | SmtpReplyError): void {
    const session = this.#session!;
    this.#errorCount += 1;
    try {
      session.reject(reply);
    } catch (error) {
      // e.g. a handler threw an SmtpReplyError with a 2xx code: our user's bug, not the client's.
      this.#logHandlerError('reject', error);
      session.reject(replies.localError);
    }
  }

  #logHandlerError(hookName: string, error: unknown): void {
    this.#context.metrics.values.handlerErrors += 1;
    this.#context.logger.error(
      { event: 'handler-error' satisfies LogEvent, sessionId: this.id, hook: hookName, err: error },
      `${hookName} failed`,
    );
  }

  // --- AUTH ---

  /** A failed AUTH, whoever judged it: counts toward the per-address throttle. */
  #recordAuthFailure(mechanism: SaslMechanismName, username: string, reason: string): void {
    this.#context.metrics.values.authFailed += 1;
    this.#context.authThrottle.recordFailure(this.#remoteAddress);
    this.#log('warn', 'auth-failed', { mechanism, username, reason });
  }

  #authenticate(event: Extract<ServerEvent, { type: 'auth' }>): Promise<void> | undefined {
    const context = this.#context;
    const address = this.#remoteAddress;
    const metrics = context.metrics.values;
    if (context.authThrottle.isThrottled(address)) {
      metrics.authThrottled += 1;
      this.#log('warn', 'auth-failed', { mechanism: event.mechanism, reason: 'throttled' });
      this.#reject(replies.authThrottled);
      return undefined;
    }
    const failed = (reason: string, username: string): void =>
      this.#recordAuthFailure(event.mechanism, username, reason);
    const step = event.step;
    const session = this.#session!;
    if (step.type === 'verify') {
      const hook = context.hooks.onAuth;
      const { credentials } = step;
      return this.#invoke(
        hook && (() => hook(credentials, this)),
        (verdict) => {
          if (verdict === false || !hook) {
            failed('invalid-credentials', credentials.username);
            this.#reject(replies.authFailed);
            return undefined;
          }
          const username = provenIdentity(verdict as AuthVerdict, credentials.username);
          if (username === '') {
            // OAUTHBEARER without a=: only onAuth can say whom the token names, and it named no one.
            failed('no-identity', username);
            this.#reject(replies.authFailed);
            return undefined;
          }
          return this.#authorize(event.mechanism, username, credentials.authorizationId, () =>
            session.accept(),
          );
        },
        (error) => {
          failed('handler-rejected', credentials.username);
          this.#reject(this.#replyFor(error, 'onAuth'));
        },
      );
    }
    const hook = context.hooks.onAuthSecret;
    const request = {
      mechanism: event.mechanism,
      username: step.username,
      authorizationId: step.authorizationId,
    };
    return this.#invoke(
      hook && (() => hook(request, this)),
      (secret) => {
        if (secret === null || secret === undefined) {
          failed('unknown-user', step.username);
          this.#reject(replies.authFailed);
          return undefined;
        }
        // SCRAM's authzid comes before the proof: decided now, in effect only if the proof verifies.
        // The core checks the proof; a failure comes back as an 'auth-failed' event.
        return this.#authorize(event.mechanism, step.username, step.authorizationId, () =>
          session.accept({ secret: secret as SaslSecret }),
        );
      },
      (error) => {
        failed('handler-rejected', step.username);
        this.#reject(this.#replyFor(error, 'onAuthSecret'));
      },
    );
  }

  /**
   * RFC 4616 §2: the credentials must permit acting as the authzid. An authzid other than the proven
   * identity needs a grant from onAuthorize; without one the exchange fails with 535 5.7.8 and counts
   * toward the throttle like a wrong password. `proceed` accepts the exchange.
   */
  #authorize(
    mechanism: SaslMechanismName,
    username: string,
    authorizationId: string | null,
    proceed: () => void,
  ): Promise<void> | undefined {
    const request = proxyRequestOf(mechanism, username, authorizationId);
    const grant = (granted: AuthorizationRequest | null): void => {
      this.#user = authenticatedUser(mechanism, username, granted);
      proceed();
    };
    if (request === null) {
      grant(null);
      return undefined;
    }
    const hook = this.#context.hooks.onAuthorize;
    return this.#invoke(
      hook && (() => hook(request, this)),
      (isGranted) => {
        if (isGranted === true) {
          grant(request);
          return;
        }
        this.#recordAuthFailure(mechanism, username, 'authorization-denied');
        this.#reject(replies.authFailed);
      },
      (error) => {
        this.#recordAuthFailure(mechanism, username, 'handler-rejected');
        this.#reject(this.#replyFor(error, 'onAuthorize'));
      },
    );
  }

  // --- message ---

  #startMessage(): void {
    if (this.#context.isInfo) this.#messageStartedAt = performance.now();
    const hook = this.#context.hooks.onData;
    this.#isDataSettled = false;
    if (!hook) {
      this.#stream = null;
      this.#dataOutcome = null;
      return;
    }
    const stream = new MessageStream(this.#context.messageHighWaterMark);
    this.#stream = stream;
    let outcome: Promise<AcceptText | LmtpDataResult>;
    try {
      outcome = Promise.resolve(hook(stream, this));
    } catch (error) {
      outcome = Promise.reject(error);
    }
    // Once the handler has settled it reads no more: the rest of the message is discarded.
    const settled = (): void => {
      if (this.#stream === stream) this.#isDataSettled = true;
      this.#resume(pausedForStream);
    };
    outcome.then(settled, settled);
    this.#dataOutcome = outcome;
  }

  #endMessage(size: number): PumpWait {
    const session = this.#session!;
    const stream = this.#stream;
    const outcome = this.#dataOutcome;
    this.#stream = null;
    this.#dataOutcome = null;
    if (stream && !stream.destroyed) stream.push(null);
    const context = this.#context;
    const accept = (value: AcceptText | LmtpDataResult): void => {
      if (session.isClosed) return;
      this.#messageCount += 1;
      context.metrics.values.messagesAccepted += 1;
      if (context.isInfo) {
        const elapsedMs = Math.round(performance.now() - this.#messageStartedAt);
        this.#log('info', 'message-accepted', { size, elapsedMs });
      }
      if (typeof value === 'object' && value !== null && 'recipients' in value) {
        try {
          session.acceptEach(value.recipients.map((outcome) => this.#lmtpReply(outcome)));
        } catch (error) {
          // e.g. not one outcome per recipient: our user's bug.
          this.#logHandlerError('onData', error);
          this.#reject(replies.localError);
        }
      } else {
        session.accept(typeof value === 'string' ? { text: value } : undefined);
      }
    };
    const reject = (error: unknown): void => {
      if (session.isClosed) return;
      const reply = this.#replyFor(error, 'onData');
      this.#context.metrics.values.messagesRejected += 1;
      if (this.#context.isInfo)
        this.#log('info', 'message-rejected', { size, code: 'code' in reply ? reply.code : undefined });
      this.#reject(reply);
    };
    if (!outcome) {
      accept(undefined);
      return undefined;
    }
    // The 250 is on the critical path of every message: it goes out in the same microtask as the
    // handler's outcome is applied (issue 15: one message at a time).
    outcome.then(
      (value) => this.#resumeWith(accept, value),
      (error: unknown) => this.#resumeWith(reject, error),
    );
    return pumpResumesItself;
  }

  #lmtpReply(outcome: string | undefined | SmtpReplyError | ReplyInit): ReplyInit {
    if (outcome === undefined || typeof outcome === 'string') {
      return outcome === undefined ? replies.messageAccepted : { ...replies.messageAccepted, text: outcome };
    }
    if (isReplyError(outcome)) return toReplyInit(outcome);
    return outcome;
  }

  #abortMessage(reason: string): void {
    const stream = this.#stream;
    this.#stream = null;
    if (this.#dataOutcome) {
      this.#context.metrics.values.messagesRejected += 1;
      if (this.#context.isInfo) this.#log('info', 'message-rejected', { reason });
    }
    this.#dataOutcome = null;
    this.#resume(pausedForStream);
    if (stream && !stream.destroyed) stream.destroy(new MessageAbortedError(reason));
  }

  // --- STARTTLS ---

  #upgradeToTls(): Promise<void> | undefined {
    const store = this.#context.tlsStore;
    const session = this.#session!;
    if (!store) {
      // Cannot happen: STARTTLS is only offered with TLS options.
      this.#socket.destroy();
      return undefined;
    }
    const raw = this.#socket as OwnedSocket;
    const output = session.takeOutput();
    // The 220 leaves in plaintext; nothing after it is read as plaintext (RFC 3207 §4.2).
    raw.off('data', onSocketData);
    raw.off('end', onSocketEnd);
    raw.off('drain', onSocketDrain);
    raw.pause();
    return new Promise<void>((resolve) => {
      const upgrade = (): void => {
        if (this.#isClosed || raw.destroyed) {
          this.closed();
          resolve();
          return;
        }
        const tlsOptions = store.options;
        const secure = new TLSSocket(raw, {
          isServer: true,
          secureContext: store.defaultContext,
          SNICallback: store.sniCallback,
          ...(tlsOptions.requestCert !== undefined ? { requestCert: tlsOptions.requestCert } : {}),
          ...(tlsOptions.rejectUnauthorized !== undefined
            ? { rejectUnauthorized: tlsOptions.rejectUnauthorized }
            : {}),
        }) as TLSSocket & OwnedSocket;
        // The plain socket keeps its 'close' listener: whichever closes first ends the connection.
        secure[connectionKey] = this;
        this.#socket = secure;
        secure.on('close', onSocketClose);
        secure.on('error', onSocketError);
        // The whole handshake must finish in time: its bytes do not count as activity (expire() destroys).
        this.#armTimer('tls-handshake');
        const onFailure = (error: Error): void => {
          this.#context.metrics.values.tlsFailures += 1;
          this.#log('info', 'tls-failed', { error: error.message });
          secure.destroy();
          resolve();
        };
        secure.once('_tlsError', onFailure);
        secure.once('secure', () => {
          secure.off('_tlsError', onFailure);
          if (this.#isClosed) return resolve();
          if (tlsOptions.rejectUnauthorized && tlsOptions.requestCert && !secure.authorized) {
            onFailure(new Error(`client certificate rejected: ${String(secure.authorizationError)}`));
            return;
          }
          this.#tls = describeTls(secure, false);
          this.#context.metrics.values.tlsHandshakes += 1;
          if (this.#context.isInfo)
            this.#log('info', 'tls', {
              protocol: this.#tls.protocol,
              cipher: this.#tls.cipher,
              servername: this.#tls.servername,
            });
          secure.on('data', onSocketData);
          secure.on('end', onSocketEnd);
          secure.on('drain', onSocketDrain);
          session.tlsStarted();
          resolve();
        });
      };
      if (output) raw.write(output, upgrade);
      else upgrade();
    });
  }

  // --- output, flow control, timers ---

  #flush(): void {
    const output = this.#session?.takeOutput();
    if (output) this.#send(output);
  }

  #send(output: Uint8Array): void {
    const socket = this.#socket;
    if (socket.destroyed || !socket.writable) return;
    if (this.#context.isDebug) {
      for (const reply of splitReplies(output)) this.#log('debug', 'reply', reply);
    }
    // A client that does not read its replies stops getting its commands read (bounded memory).
    if (!socket.write(output)) this.#pause(pausedForWrite);
  }

  #endSocket(): void {
    const socket = this.#socket;
    if (!socket.destroyed) socket.end();
    // From now on input does not count as activity: the socket is destroyed `closeMs` after this.
    this.#armTimer('close');
  }

  /** What the peer owes us now; its timeout counts from now and restarts with every read. */
  #armTimer(kind: TimeoutKind | 'close'): void {
    if (kind === this.#timeoutKind) return;
    this.#timeoutKind = kind;
    const context = this.#context;
    this.activeTick = context.sweeper.tick;
    this.timeoutTicks = context.timeoutTicks[kind];
  }

  #pause(reason: number): void {
    if (this.#pausedFor === 0) this.#socket.pause();
    this.#pausedFor |= reason;
  }

  #resume(reason: number): void {
    if ((this.#pausedFor & reason) === 0) return;
    this.#pausedFor &= ~reason;
    if (this.#pausedFor === 0 && !this.#isClosed) this.#socket.resume();
  }

  #log(level: 'debug' | 'info' | 'warn', event: LogEvent, fields: Record<string, unknown>): void {
    if (level === 'debug' && !this.#context.isDebug) return;
    this.#context.logger[level](
      { event, sessionId: this.id, remoteAddress: this.#remoteAddress, ...fields },
      event,
    );
  }
}

/** Waits `delayMs`; true if the client sent anything in that time (the bytes are dropped: it is refused). */
function detectEarlyTalker(socket: Socket, delayMs: number, pending: Uint8Array | null): Promise<boolean> {
  if ((pending && pending.byteLength > 0) || socket.readableLength > 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onData = (): void => {
      clearTimeout(timer);
      socket.pause();
      resolve(true);
    };
    const timer = setTimeout(() => {
      socket.off('data', onData);
      resolve(false);
    }, delayMs);
    socket.once('data', onData);
  });
}
