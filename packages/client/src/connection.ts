import { isIP, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { createSecureContext, type SecureContext, type TLSSocket, connect as tlsConnect } from 'node:tls';
import {
  type Capabilities,
  type ClientEvent,
  ClientSession,
  type EnvelopeInit,
  type Reply,
  type SaslClient,
  SmtpProtocolError,
  SmtpReplyError,
  type TransactionResult,
} from '@smtp/protocol';
import { abortReason } from './abort.js';
import { dial, type LocalAddresses } from './dial.js';
import { SmtpConnectionError, SmtpTimeoutError, SmtpTlsError } from './errors.js';
import { messageChunks, type OpenedMessage } from './message-source.js';
import type { TlsOptions } from './options.js';
import { StepTimer } from './step-timer.js';
import { type ResolvedTimeouts, timeoutForKind } from './timeouts.js';
import { describeTlsSocket, type TlsDetails } from './tls-details.js';
import type { TranscriptRecorder } from './transcript.js';

export interface ConnectionInit {
  readonly host?: string;
  /** Pre-resolved addresses to race (direct delivery); `host` then only names the server for TLS. */
  readonly addresses?: readonly string[];
  readonly port: number;
  readonly path?: string;
  readonly secure: boolean;
  readonly tls: TlsOptions;
  readonly timeouts: ResolvedTimeouts;
  readonly name?: string;
  readonly lmtp: boolean;
  readonly pipelining: boolean;
  readonly chunking: boolean;
  readonly localAddress?: string;
  /** With `addresses`: the source address per family (dial.ts). */
  readonly localAddresses?: LocalAddresses;
  readonly transcript?: TranscriptRecorder;
}

/** How long QUIT waits for the server's 221 and close before the socket is simply destroyed. */
const quitTimeoutMs = 5_000;
/** Output at least this large, in at most this many parts, is written vectored instead of copied. */
const vectoredWriteMinBytes = 64 * 1024;
const vectoredWriteMaxParts = 64;

type Waiter = { resolve: (event: ClientEvent) => void; reject: (error: unknown) => void };

/** What one mail transaction needs while it runs; see Connection#transaction. */
export interface TransactionOptions {
  readonly signal?: AbortSignal | undefined;
  /** Sees every chunk before it is written (8-bit detection); throwing aborts the send and drops the connection. */
  readonly onChunk?: ((chunk: Uint8Array) => void) | undefined;
  readonly onRecipient?: ((event: Extract<ClientEvent, { type: 'recipient-result' }>) => void) | undefined;
  /**
   * Called once the end of data ("." or BDAT LAST) is queued, before it is written: the next transaction
   * (or QUIT) started from here leaves in the same write (RFC 2920 §3.1).
   */
  readonly onBodyEnd?: (() => void) | undefined;
}

export interface TransactionOutcomeRaw {
  readonly result: TransactionResult;
  readonly messageBytes: number;
}

/** A transaction in progress. With pipelining several can be alive: older ones awaiting their final reply, the newest. */
interface Run {
  readonly message: OpenedMessage;
  readonly options: TransactionOptions;
  readonly resolve: (value: TransactionOutcomeRaw) => void;
  readonly reject: (error: unknown) => void;
  onAbort: (() => void) | null;
  messageBytes: number;
  isBodyStarted: boolean;
  isSettled: boolean;
}

/**
 * One SMTP connection: the pump between a socket and the sans-I/O ClientSession (GUIDE §2.3). It moves
 * bytes both ways (one socket write per takeOutput()), turns the session's `timeout` kind into one re-armed
 * timer, upgrades to TLS when the session says `tls-ready`, and exposes each protocol step as an async
 * method. It never looks inside a reply: every protocol decision is the session's.
 *
 * Mail transactions are driven from the data handler itself: the replies to MAIL/RCPT/DATA and the final
 * reply settle one promise per transaction, and a message held in memory is written in the same turn
 * as the 354 arrives, so a transaction costs no event-loop hops between its steps.
 */
export class Connection {
  readonly #session: ClientSession;
  readonly #init: ConnectionInit;
  readonly #transcript: TranscriptRecorder | null;
  readonly #timer: StepTimer;
  #socket: Socket;
  /** The TCP socket under #socket (the same socket in plaintext). */
  readonly #tcpSocket: Socket;
  readonly #events: ClientEvent[] = [];
  readonly #runs: Run[] = [];
  #waiter: Waiter | null = null;
  /** Why the connection is unusable; built lazily (an Error's stack trace costs) when nobody waits. */
  #failure: Error | null = null;
  #failureFactory: (() => Error) | null = null;
  #greeting: Reply | null = null;
  #hello: Reply | null = null;
  #writingBody = false;
  /** How the message being written goes out, for the transcript. */
  #bodyTransfer: 'DATA' | 'BDAT' = 'DATA';
  #isPumping = false;
  #isPumpAgain = false;
  #isQuitSent = false;
  /** Set when the socket is TLS (implicit or after STARTTLS); details are read from the socket on demand. */
  #tlsHandshakeMs: number | null = null;
  #tlsDetails: TlsDetails | null = null;
  /** Number of transactions that ended with a final reply on this connection. */
  messagesSent = 0;

  private constructor(
    socket: Socket,
    tcpSocket: Socket,
    init: ConnectionInit,
    tlsHandshakeMs: number | null,
  ) {
    this.#socket = socket;
    this.#tcpSocket = tcpSocket;
    this.#tlsHandshakeMs = tlsHandshakeMs;
    this.#init = init;
    this.#transcript = init.transcript ?? null;
    this.#timer = new StepTimer((kind, timeoutMs) => {
      this.#fail(
        new SmtpTimeoutError(kind, timeoutMs, {
          message:
            kind === 'data-block'
              ? `The server did not read the message data within ${timeoutMs} ms`
              : `No reply from the server within ${timeoutMs} ms (${kind})`,
        }),
      );
      this.#socket.destroy();
    });
    this.#session = new ClientSession({
      name: init.name ?? defaultName(socket),
      mode: init.lmtp ? 'lmtp' : 'smtp',
      pipelining: init.pipelining,
      chunking: init.chunking,
    });
    this.#attach(socket);
  }

  /** Connects (TCP, then TLS for implicit TLS) and waits for the greeting. Does not send EHLO. */
  static async open(init: ConnectionInit, signal?: AbortSignal): Promise<Connection> {
    const tcpSocket: Socket = await dial({
      ...(init.host !== undefined ? { host: init.host } : {}),
      ...(init.addresses !== undefined ? { addresses: init.addresses } : {}),
      port: init.port,
      ...(init.path !== undefined ? { path: init.path } : {}),
      ...(init.localAddress !== undefined ? { localAddress: init.localAddress } : {}),
      ...(init.localAddresses !== undefined ? { localAddresses: init.localAddresses } : {}),
      connectMs: init.timeouts.connectMs,
      signal,
    });
    let socket = tcpSocket;
    let tlsHandshakeMs: number | null = null;
    if (init.secure) {
      const started = performance.now();
      const secureSocket = await upgradeSocket(socket, init, signal);
      socket = secureSocket;
      tlsHandshakeMs = performance.now() - started;
      init.transcript?.tls(describeTlsSocket(secureSocket, tlsHandshakeMs));
    }
    const connection = new Connection(socket, tcpSocket, init, tlsHandshakeMs);
    try {
      const event = await connection.#expect(['greeting'], signal, 'greeting');
      connection.#greeting = event.reply;
    } catch (error) {
      connection.destroy();
      throw error;
    }
    return connection;
  }

  get capabilities(): Capabilities | null {
    return this.#session.capabilities;
  }
  get greeting(): Reply | null {
    return this.#greeting;
  }
  /** The last EHLO/LHLO/HELO reply. */
  get helloReply(): Reply | null {
    return this.#hello;
  }
  get isTlsActive(): boolean {
    // Implicit TLS (secure: true) is TLS from the first byte; the core only learns of STARTTLS.
    return this.#tlsHandshakeMs !== null || this.#session.isTlsActive;
  }
  get isClosed(): boolean {
    return this.#isFailed || this.#session.isClosed;
  }
  get isIdle(): boolean {
    return !this.isClosed && this.#session.isIdle && this.#events.length === 0 && this.#runs.length === 0;
  }

  /** Whether another transaction may start now, pipelined behind the current one's final reply (the core decides). */
  get canStartTransaction(): boolean {
    return !this.#isFailed && this.#session.canStartTransaction;
  }
  /**
   * Protocol, cipher, certificate and verification of the TLS layer; null without TLS. Read from the
   * socket on first use (pooled connections never pay for it) and kept, so it survives the close.
   */
  get tlsDetails(): TlsDetails | null {
    if (this.#tlsHandshakeMs === null) return null;
    this.#tlsDetails ??= describeTlsSocket(this.#socket as TLSSocket, this.#tlsHandshakeMs);
    return this.#tlsDetails;
  }
  get remoteAddress(): string | null {
    return this.#socket.remoteAddress ?? null;
  }

  /** EHLO (LHLO in LMTP), falling back to HELO (RFC 5321 §3.2): the core decides. */
  async hello(signal?: AbortSignal): Promise<Capabilities> {
    this.#session.hello();
    const event = await this.#expect(['hello'], signal, 'EHLO');
    this.#hello = event.reply;
    return event.capabilities;
  }

  /** STARTTLS, the handshake, and the EHLO the core sends again afterwards (RFC 3207 §4.2). */
  async startTls(signal?: AbortSignal): Promise<Capabilities> {
    this.#session.startTls();
    try {
      await this.#expect(['tls-ready'], signal, 'STARTTLS');
    } catch (error) {
      // The core closed the session: bytes came after the 220 (RFC 3207 §4.2). Never fall back to
      // plaintext on this connection.
      if (error instanceof SmtpProtocolError && this.#session.isClosed) {
        const tlsError = new SmtpTlsError(`STARTTLS aborted: ${error.message}`, { cause: error });
        this.destroy(tlsError);
        throw tlsError;
      }
      throw error;
    }
    const plain = this.#socket;
    this.#detach(plain);
    try {
      const started = performance.now();
      this.#socket = await upgradeSocket(plain, this.#init, signal);
      this.#tlsHandshakeMs = performance.now() - started;
    } catch (error) {
      this.#fail(error instanceof Error ? error : new SmtpTlsError(String(error)));
      throw error;
    }
    if (this.#transcript) this.#transcript.tls(this.tlsDetails ?? undefined);
    this.#attach(this.#socket);
    this.#session.tlsStarted();
    this.#pump();
    const event = await this.#expect(['hello'], signal, 'EHLO');
    this.#hello = event.reply;
    return event.capabilities;
  }

  /** AUTH with the given SASL client; resolves with the success reply, throws SmtpReplyError otherwise. */
  async authenticate(client: SaslClient, signal?: AbortSignal): Promise<Reply> {
    this.#transcript?.setMasking(true);
    try {
      this.#session.authenticate(client);
      // The core reports only success as auth-end (235, or any 2xx from lenient peers); refusals are errors.
      const event = await this.#expect(['auth-end'], signal, `AUTH ${client.mechanism}`);
      return event.reply;
    } finally {
      this.#transcript?.setMasking(false);
    }
  }

  /**
   * One mail transaction: MAIL, RCPTs, DATA or BDAT, the message, and the final reply(ies). A message
   * held in memory is written as soon as the server is ready for data; a stream is read only then, and
   * only as fast as the socket drains. `onChunk` throwing aborts the send and drops the connection before
   * the end of data, so the server discards what it got. With PIPELINING the next transaction may be
   * started from `onBodyEnd`, before this one's final reply.
   */
  transaction(
    envelope: EnvelopeInit,
    message: OpenedMessage,
    options: TransactionOptions = {},
  ): Promise<TransactionOutcomeRaw> {
    const { signal } = options;
    if (this.#isFailed) return Promise.reject(this.#error());
    if (signal?.aborted) return Promise.reject(this.#abort(signal));
    return new Promise<TransactionOutcomeRaw>((resolve, reject) => {
      try {
        this.#session.startTransaction(envelope);
      } catch (error) {
        // SmtpCapabilityError and friends: nothing was written.
        reject(error);
        return;
      }
      const run: Run = {
        message,
        options,
        resolve,
        reject,
        onAbort: null,
        messageBytes: 0,
        isBodyStarted: false,
        isSettled: false,
      };
      if (signal) {
        run.onAbort = () => {
          this.#settleRun(run);
          run.reject(this.#abort(signal));
        };
        signal.addEventListener('abort', run.onAbort, { once: true });
      }
      this.#runs.push(run);
      this.#pump();
    });
  }

  /** RSET (RFC 5321 §4.1.1.5). */
  async reset(signal?: AbortSignal): Promise<void> {
    this.#session.reset();
    this.#pump();
    await this.#waitIdle(signal, 'RSET');
  }

  /** A raw command line (no CRLF) for tools such as a probe; resolves with the server's reply. */
  async command(line: string, signal?: AbortSignal): Promise<Reply> {
    this.#session.command(line);
    const event = await this.#expect(['reply'], signal, line);
    return event.reply;
  }

  /**
   * The message after a raw `DATA` the server answered with 354 (see command()): dot-stuffed and ended by
   * the core, summarised in the transcript; resolves with the server's reply to the end of data.
   */
  async commandData(message: Uint8Array, signal?: AbortSignal): Promise<Reply> {
    this.#session.commandData(message);
    this.#writingBody = true;
    this.#bodyTransfer = 'DATA';
    try {
      this.#flush();
    } finally {
      this.#writingBody = false;
    }
    this.#transcript?.bodyEnd();
    const event = await this.#expect(['reply'], signal, '.');
    return event.reply;
  }

  /**
   * Queues QUIT without waiting for anything. Called from `onBodyEnd` on a connection that will not be
   * reused, QUIT leaves with the end of data (RFC 2920 §3.1 lets it end the group); quit() then only
   * waits for the close. Returns false when QUIT cannot be sent now.
   */
  sendQuit(): boolean {
    if (this.#isQuitSent) return true;
    if (this.isClosed) return false;
    try {
      this.#session.quit();
    } catch {
      return false;
    }
    this.#isQuitSent = true;
    this.#pump();
    return true;
  }

  /** QUIT and wait for the server to answer and close, within the command timeout. Never throws. */
  async quit(signal?: AbortSignal): Promise<void> {
    if (this.isClosed) return this.destroy();
    try {
      if (!this.sendQuit()) return;
      // Waiting long for a goodbye helps nobody: #armTimer bounds it however long the command timeout is.
      await this.#expect(['close'], signal, 'QUIT');
    } catch {
      // A server that drops the connection instead of answering QUIT is fine.
    } finally {
      this.destroy();
    }
  }

  /**
   * Whether this connection's socket keeps the process running. The pool lets go of idle connections, so
   * a script that never calls close() still exits after its last send; a busy one holds the process.
   */
  keepProcessAlive(isWanted: boolean): void {
    // A TLS socket wraps the TCP one: release (or hold) both handles.
    for (const socket of [this.#socket, this.#tcpSocket]) {
      if (isWanted) socket.ref();
      else socket.unref();
    }
  }

  /** Closes the socket at once. Pending operations reject with `error` (default: a connection error). */
  destroy(error?: Error): void {
    this.#fail(error ?? (() => new SmtpConnectionError('Connection closed')));
    this.#socket.destroy();
  }

  // --- the pump -------------------------------------------------------------------------------------

  readonly #onData = (chunk: Buffer): void => {
    this.#transcript?.server(chunk);
    this.#session.receive(chunk);
    this.#pump();
  };

  readonly #onEnd = (): void => {
    if (this.#isFailed) return;
    this.#timer.stop();
    this.#session.receiveEnd();
    // The core reports replies still owed as a protocol error; to the caller this is a dropped connection.
    let cause: unknown;
    for (let event = this.#session.nextEvent(); event !== null; event = this.#session.nextEvent()) {
      if (event.type === 'error') cause = event.error;
      else this.#events.push(event);
    }
    this.#fail(
      () =>
        new SmtpConnectionError(
          cause === undefined
            ? 'The server closed the connection'
            : 'The server closed the connection with replies outstanding',
          { cause, address: this.#describe() },
        ),
    );
  };

  readonly #onError = (error: Error): void => {
    this.#fail(
      new SmtpConnectionError(`Connection error: ${error.message}`, {
        cause: error,
        address: this.#describe(),
      }),
    );
  };

  #attach(socket: Socket): void {
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onEnd);
    socket.on('error', this.#onError);
  }

  #detach(socket: Socket): void {
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.off('close', this.#onEnd);
    socket.off('error', this.#onError);
  }

  /**
   * Hands the session's events to the running transaction (or queues them for #expect), writes what the
   * session queued in one socket write, re-arms the timer and wakes the waiting operation. Re-entrant
   * calls (a transaction started from onBodyEnd) only ask the outer call to go round again, so everything
   * a turn produces leaves in a single write.
   */
  #pump(): void {
    if (this.#isPumping) {
      this.#isPumpAgain = true;
      return;
    }
    this.#isPumping = true;
    try {
      do {
        this.#isPumpAgain = false;
        for (let event = this.#session.nextEvent(); event !== null; event = this.#session.nextEvent()) {
          if (this.#runs.length > 0) this.#route(event);
          else this.#events.push(event);
        }
      } while (this.#isPumpAgain);
      this.#flush();
    } finally {
      this.#isPumping = false;
    }
    this.#armTimer();
    this.#wake();
  }

  /** One event for the oldest running transaction (replies arrive in order: RFC 2920 §3.1). */
  #route(event: ClientEvent): void {
    const run = this.#runs[0]!;
    switch (event.type) {
      case 'recipient-result':
        run.options.onRecipient?.(event);
        return;
      case 'body-ready':
        if (run.isBodyStarted) return;
        run.isBodyStarted = true;
        this.#bodyTransfer = event.transfer;
        if (run.message.complete) this.#writeWholeBody(run);
        else void this.#streamBody(run);
        return;
      case 'transaction-end':
        this.#settleRun(run);
        run.resolve({ result: event.result, messageBytes: run.messageBytes });
        return;
      case 'error':
        this.#failRuns(withCommand(event.error, 'MAIL FROM'));
        return;
      case 'close':
        this.#failRuns(
          (this.#isFailed ? this.#error() : null) ??
            new SmtpConnectionError('The server closed the connection (during MAIL FROM)', {
              address: this.#describe(),
            }),
        );
        return;
      default:
      // Informational for a transaction (e.g. a late greeting).
    }
  }

  #settleRun(run: Run): void {
    if (run.isSettled) return;
    run.isSettled = true;
    const index = this.#runs.indexOf(run);
    if (index >= 0) this.#runs.splice(index, 1);
    if (run.onAbort) run.options.signal?.removeEventListener('abort', run.onAbort);
  }

  #failRuns(error: unknown): void {
    for (const run of this.#runs.splice(0)) {
      this.#settleRun(run);
      run.reject(error);
    }
  }

  /** The whole message is in memory: queue it and its end now, in this turn. */
  #writeWholeBody(run: Run): void {
    const chunks = run.message.head;
    const { onChunk } = run.options;
    const lastIndex = chunks.length - 1;
    try {
      for (let index = 0; index < lastIndex; index++) {
        const chunk = chunks[index]!;
        onChunk?.(chunk);
        run.messageBytes += chunk.byteLength;
        this.#session.writeBody(chunk);
      }
      const last = chunks[lastIndex];
      if (last !== undefined) {
        onChunk?.(last);
        run.messageBytes += last.byteLength;
      }
      this.#endBody(run, last);
    } catch (error) {
      this.#dropMidBody(run, error);
    }
  }

  /** A stream: read it as the socket drains, one chunk held back to travel with the end (BDAT n LAST). */
  async #streamBody(run: Run): Promise<void> {
    const { onChunk, signal } = run.options;
    let held: Uint8Array | undefined;
    this.#writingBody = true;
    this.#timer.disarm();
    try {
      for await (const chunk of messageChunks(run.message)) {
        if (this.#isFailed) throw this.#error();
        if (signal?.aborted) throw abortReason(signal);
        // With BDAT the server answers each chunk; a refusal ends the transaction early.
        if (run.isSettled) break;
        onChunk?.(chunk);
        run.messageBytes += chunk.byteLength;
        if (held !== undefined) {
          this.#session.writeBody(held);
          if (!this.#flush()) await this.#drain(signal);
        }
        held = chunk;
      }
      if (!run.isSettled) this.#endBody(run, held);
    } catch (error) {
      this.#dropMidBody(run, error);
    } finally {
      this.#writingBody = false;
    }
    // Write what the end of data (and anything pipelined from onBodyEnd) queued, and re-arm the timer.
    this.#pump();
  }

  #endBody(run: Run, last: Uint8Array | undefined): void {
    // The last chunk and the terminator ("." or BDAT … LAST) are still message data for the transcript.
    this.#writingBody = true;
    this.#session.endBody(last);
    if (this.#transcript) {
      this.#flush();
      this.#transcript.bodyEnd();
    }
    this.#writingBody = false;
    run.options.onBodyEnd?.();
  }

  /** Dropping the connection before the end of data makes the server discard the message (RFC 5321 §4.1.1.4). */
  #dropMidBody(run: Run, error: unknown): void {
    this.#writingBody = false;
    this.#settleRun(run);
    run.reject(error);
    this.destroy(error instanceof Error ? error : undefined);
  }

  /** Everything the session queued, in one socket write (a vectored one for large bodies). */
  #flush(): boolean {
    const parts = this.#session.takeOutputChunks();
    if (parts.length === 0 || this.#isFailed) return true;
    let totalBytes = 0;
    for (const part of parts) totalBytes += part.byteLength;
    if (this.#transcript) {
      if (this.#writingBody && this.#bodyTransfer === 'BDAT') this.#transcript.bdat(parts);
      else if (this.#writingBody) this.#transcript.body(totalBytes);
      else this.#transcript.client(Buffer.concat(parts, totalBytes));
    }
    if (parts.length === 1) return this.#socket.write(parts[0]!);
    if (totalBytes < vectoredWriteMinBytes || parts.length > vectoredWriteMaxParts) {
      // Commands and small messages: one copy into one buffer beats a writev of many small pieces.
      return this.#socket.write(Buffer.concat(parts, totalBytes));
    }
    // A large body: hand the views to one writev instead of copying megabytes.
    const socket = this.#socket;
    socket.cork();
    let isDrained = true;
    for (const part of parts) isDrained = socket.write(part);
    socket.uncork();
    return isDrained;
  }

  #armTimer(): void {
    // While a stream is written, #streamBody owns the timer (disarmed, or data-block while draining).
    if (this.#writingBody) return;
    if (this.#isFailed || this.#session.isClosed || this.#session.isIdle) {
      this.#timer.disarm();
      return;
    }
    const kind = this.#session.timeout;
    const timeoutMs = timeoutForKind(this.#init.timeouts, kind);
    this.#timer.arm(kind, this.#isQuitSent ? Math.min(timeoutMs, quitTimeoutMs) : timeoutMs);
  }

  #wake(): void {
    const waiter = this.#waiter;
    if (!waiter) return;
    const event = this.#events.shift();
    if (event !== undefined) {
      this.#waiter = null;
      waiter.resolve(event);
    } else if (this.#isFailed) {
      this.#waiter = null;
      waiter.reject(this.#error());
    }
  }

  get #isFailed(): boolean {
    return this.#failure !== null || this.#failureFactory !== null;
  }

  #error(): Error {
    if (this.#failure === null) {
      this.#failure = this.#failureFactory?.() ?? new SmtpConnectionError('Connection closed');
      this.#failureFactory = null;
    }
    return this.#failure;
  }

  #fail(error: Error | (() => Error)): void {
    if (this.#isFailed) return;
    if (typeof error === 'function') this.#failureFactory = error;
    else this.#failure = error;
    this.#timer.stop();
    if (this.#runs.length > 0) this.#failRuns(this.#error());
    this.#wake();
  }

  #nextEvent(signal?: AbortSignal): Promise<ClientEvent> {
    const event = this.#events.shift();
    if (event !== undefined) return Promise.resolve(event);
    if (this.#isFailed) return Promise.reject(this.#error());
    if (signal?.aborted) return Promise.reject(this.#abort(signal));
    return new Promise<ClientEvent>((resolve, reject) => {
      if (!signal) {
        this.#waiter = { resolve, reject };
        return;
      }
      const onAbort = () => {
        this.#waiter = null;
        reject(this.#abort(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiter = {
        resolve: (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        reject: (error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
    });
  }

  /** An aborted operation leaves the session mid-command: the connection cannot be reused. */
  #abort(signal: AbortSignal): unknown {
    const reason = abortReason(signal);
    this.destroy(reason instanceof Error ? reason : new SmtpConnectionError('Aborted', { cause: reason }));
    return reason;
  }

  /**
   * Flushes, then waits for one of `types`. An `error` event becomes a thrown SmtpReplyError/…;
   * `close` becomes SmtpConnectionError unless it was awaited.
   */
  async #expect<T extends ClientEvent['type']>(
    types: readonly T[],
    signal: AbortSignal | undefined,
    command: string,
  ): Promise<Extract<ClientEvent, { type: T }>> {
    this.#pump();
    for (;;) {
      const event = await this.#nextEvent(signal);
      if ((types as readonly string[]).includes(event.type))
        return event as Extract<ClientEvent, { type: T }>;
      if (event.type === 'error') throw withCommand(event.error, command);
      if (event.type === 'close') {
        throw (
          (this.#isFailed ? this.#error() : null) ??
          new SmtpConnectionError(`The server closed the connection (during ${command})`, {
            address: this.#describe(),
          })
        );
      }
      // Anything else is informational for this step (e.g. a late greeting); keep waiting.
    }
  }

  async #waitIdle(signal: AbortSignal | undefined, command: string): Promise<void> {
    while (!this.#session.isIdle) {
      const event = await this.#nextEvent(signal);
      if (event.type === 'error') throw event.error;
      if (event.type === 'close')
        throw new SmtpConnectionError(`The server closed the connection (during ${command})`);
    }
  }

  /** Waits until the socket drains, bounded by the data-block timeout (RFC 5321 §4.5.3.2.5). */
  #drain(signal: AbortSignal | undefined): Promise<void> {
    const socket = this.#socket;
    this.#timer.arm('data-block', this.#init.timeouts.dataBlockMs);
    return new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        this.#timer.disarm();
        socket.off('drain', onDrain);
        socket.off('close', onClose);
        signal?.removeEventListener('abort', onAbort);
      };
      const onDrain = () => {
        cleanup();
        resolve();
      };
      const onClose = () => {
        cleanup();
        reject(
          this.#isFailed
            ? this.#error()
            : new SmtpConnectionError('The server closed the connection during the data'),
        );
      };
      const onAbort = () => {
        cleanup();
        reject(abortReason(signal!));
      };
      socket.once('drain', onDrain);
      socket.once('close', onClose);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #describe(): string {
    return this.#init.path ?? `${this.#init.host ?? this.#socket.remoteAddress}:${this.#init.port}`;
  }
}

/** A reply error from the core does not know which of our steps it ended; name the step. */
function withCommand(error: Error, command: string): Error {
  if (error instanceof SmtpReplyError && error.command === undefined) {
    return new SmtpReplyError(error.reply, { command, cause: error });
  }
  return error;
}

/** Wraps a connected socket in TLS (implicit TLS or after STARTTLS) and waits for the handshake. */
function upgradeSocket(
  socket: Socket,
  init: ConnectionInit,
  signal: AbortSignal | undefined,
): Promise<TLSSocket> {
  const host = init.host;
  const servername = init.tls.servername ?? (host !== undefined && isIP(host) === 0 ? host : undefined);
  const timeoutMs = init.timeouts.tlsHandshakeMs;
  const reuse = tlsReuseFor(init.tls);
  const sessionKey = `${servername ?? host ?? init.path ?? ''}:${init.port}`;
  const session = reuse.sessions.get(sessionKey);
  return new Promise<TLSSocket>((resolve, reject) => {
    const secure = tlsConnect({
      ...init.tls,
      secureContext: reuse.context,
      socket,
      ...(servername !== undefined ? { servername } : {}),
      ...(session !== undefined ? { session } : {}),
    });
    // Resumption (RFC 8446 §2.2) skips the certificate exchange and most of the handshake's CPU.
    secure.on('session', (ticket: Buffer) => rememberSession(reuse.sessions, sessionKey, ticket));
    const cleanup = () => {
      clearTimeout(timer);
      secure.off('secureConnect', onSecure);
      secure.off('error', onError);
      secure.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (error: unknown) => {
      cleanup();
      // A session that led to a failed handshake is not offered again.
      reuse.sessions.delete(sessionKey);
      secure.destroy();
      socket.destroy();
      reject(error);
    };
    const onSecure = () => {
      cleanup();
      resolve(secure);
    };
    const onError = (error: Error) =>
      fail(
        new SmtpTlsError(
          `TLS handshake with ${servername ?? host ?? socket.remoteAddress} failed: ${error.message}${certificateHint(error)}`,
          { cause: error },
        ),
      );
    const onClose = () => fail(new SmtpTlsError('The server closed the connection during the TLS handshake'));
    const onAbort = () => fail(abortReason(signal!));
    const timer = setTimeout(() => fail(new SmtpTimeoutError('tls-handshake', timeoutMs)), timeoutMs);
    secure.once('secureConnect', onSecure);
    secure.once('error', onError);
    secure.once('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Node's codes for a certificate that did not verify (as opposed to a broken handshake). */
const certificateErrorCodes = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** What to set when the server's certificate does not verify (test servers often use a self-signed one). */
function certificateHint(error: Error): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !certificateErrorCodes.has(code)) return '';
  return code === 'ERR_TLS_CERT_ALTNAME_INVALID'
    ? ' (set tls.servername to the name on the certificate, or connect by that name)'
    : ' (set tls.ca to trust the certificate, tls.rejectUnauthorized: false for a test server, or starttls: "never" to skip STARTTLS)';
}

interface TlsReuse {
  /** Built once per options object: loading the CA store per connection costs milliseconds. */
  readonly context: SecureContext;
  /** The latest session ticket per server, for resumption. */
  readonly sessions: Map<string, Buffer>;
}

const tlsReuse = new WeakMap<TlsOptions, TlsReuse>();
const maxRememberedSessions = 100;

function tlsReuseFor(options: TlsOptions): TlsReuse {
  let reuse = tlsReuse.get(options);
  if (reuse === undefined) {
    reuse = { context: options.secureContext ?? createSecureContext(options), sessions: new Map() };
    tlsReuse.set(options, reuse);
  }
  return reuse;
}

function rememberSession(sessions: Map<string, Buffer>, key: string, ticket: Buffer): void {
  sessions.delete(key);
  sessions.set(key, ticket);
  if (sessions.size > maxRememberedSessions) {
    const oldest = sessions.keys().next().value;
    if (oldest !== undefined) sessions.delete(oldest);
  }
}

let localHostname: string | undefined;

/**
 * RFC 5321 §4.1.4: EHLO carries the client's primary host name, or an address literal when it has none.
 * A name without a dot is not a usable FQDN, so the local address is sent instead.
 */
export function defaultName(socket: Socket): string {
  localHostname ??= hostname();
  const name = localHostname;
  if (name.includes('.') && !name.endsWith('.local')) return name;
  const local = socket.localAddress;
  if (local === undefined) return 'localhost';
  if (isIP(local) === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(local);
    return mapped ? `[${mapped[1]}]` : `[IPv6:${local}]`;
  }
  return isIP(local) === 4 ? `[${local}]` : 'localhost';
}
