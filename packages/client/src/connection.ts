import { isIP, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import {
  type Capabilities,
  type ClientEvent,
  ClientSession,
  type EnvelopeInit,
  type Reply,
  type SaslClient,
  SmtpReplyError,
  type TransactionResult,
} from '@smtp/protocol';
import { abortReason } from './abort.js';
import { dial } from './dial.js';
import { SmtpConnectionError, SmtpTimeoutError, SmtpTlsError } from './errors.js';
import type { TlsOptions } from './options.js';
import { type ResolvedTimeouts, timeoutForKind } from './timeouts.js';
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
  readonly transcript?: TranscriptRecorder;
}

/** How long QUIT waits for the server's 221 and close before the socket is simply destroyed. */
const quitTimeoutMs = 5_000;

type Waiter = { resolve: (event: ClientEvent) => void; reject: (error: unknown) => void };

/**
 * One SMTP connection: the pump between a socket and the sans-I/O ClientSession (GUIDE §2.3). It moves
 * bytes both ways, turns the session's `timeout` kind into a timer, upgrades to TLS when the session says
 * `tls-ready`, and exposes each protocol step as an async method. It never looks inside a reply: every
 * protocol decision is the session's.
 */
export class Connection {
  readonly #session: ClientSession;
  readonly #init: ConnectionInit;
  readonly #transcript: TranscriptRecorder | null;
  #socket: Socket;
  readonly #events: ClientEvent[] = [];
  #waiter: Waiter | null = null;
  #failure: Error | null = null;
  #timer: NodeJS.Timeout | undefined;
  #greeting: Reply | null = null;
  #hello: Reply | null = null;
  #writingBody = false;
  /** Number of transactions that ended with a final reply on this connection. */
  messagesSent = 0;

  private constructor(socket: Socket, init: ConnectionInit) {
    this.#socket = socket;
    this.#init = init;
    this.#transcript = init.transcript ?? null;
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
    let socket: Socket = await dial({
      ...(init.host !== undefined ? { host: init.host } : {}),
      ...(init.addresses !== undefined ? { addresses: init.addresses } : {}),
      port: init.port,
      ...(init.path !== undefined ? { path: init.path } : {}),
      ...(init.localAddress !== undefined ? { localAddress: init.localAddress } : {}),
      connectMs: init.timeouts.connectMs,
      signal,
    });
    if (init.secure) {
      socket = await upgradeSocket(socket, init, signal);
      init.transcript?.tls();
    }
    socket.setNoDelay(true);
    const connection = new Connection(socket, init);
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
    return this.#session.isTlsActive;
  }
  get isClosed(): boolean {
    return this.#failure !== null || this.#session.isClosed;
  }
  get isIdle(): boolean {
    return !this.isClosed && this.#session.isIdle && this.#events.length === 0;
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
    await this.#expect(['tls-ready'], signal, 'STARTTLS');
    const plain = this.#socket;
    this.#detach(plain);
    try {
      this.#socket = await upgradeSocket(plain, this.#init, signal);
    } catch (error) {
      this.#fail(error instanceof Error ? error : new SmtpTlsError(String(error)));
      throw error;
    }
    this.#transcript?.tls();
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
   * One mail transaction: MAIL, RCPTs, DATA or BDAT, the message, and the final reply(ies). `chunks` is
   * read only after the server is ready for data, and only as fast as the socket drains. `onChunk` sees
   * every chunk before it is written (8-bit detection); throwing from it aborts the send and drops the
   * connection before the end of data, so the server discards what it got.
   */
  async transaction(
    envelope: EnvelopeInit,
    chunks: AsyncIterable<Uint8Array>,
    options: {
      signal?: AbortSignal | undefined;
      onChunk?: (chunk: Uint8Array) => void;
      onRecipient?: (event: ClientEvent) => void;
    } = {},
  ): Promise<{ result: TransactionResult; messageBytes: number }> {
    const { signal } = options;
    this.#session.startTransaction(envelope);
    let messageBytes = 0;
    let isBodyWritten = false;
    for (;;) {
      const event = await this.#expect(
        ['body-ready', 'transaction-end', 'recipient-result'],
        signal,
        'MAIL FROM',
      );
      if (event.type === 'recipient-result') {
        options.onRecipient?.(event);
        continue;
      }
      if (event.type === 'transaction-end') return { result: event.result, messageBytes };
      // body-ready: stream the message.
      if (isBodyWritten) continue;
      isBodyWritten = true;
      const written = await this.#writeBody(chunks, options.onChunk, signal);
      messageBytes = written.messageBytes;
      // The last chunk and the terminator ("." or BDAT … LAST) are still message data for the transcript.
      this.#writingBody = true;
      this.#session.endBody(written.last);
      this.#flush();
      this.#writingBody = false;
      this.#transcript?.bodyEnd();
      this.#pump();
    }
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

  /** QUIT and wait for the server to answer and close, within the command timeout. Never throws. */
  async quit(signal?: AbortSignal): Promise<void> {
    if (this.isClosed) return this.destroy();
    try {
      this.#session.quit();
      this.#pump();
      // Waiting long for a goodbye helps nobody: bound it however long the command timeout is.
      await this.#expect(['close'], signal ?? AbortSignal.timeout(quitTimeoutMs), 'QUIT');
    } catch {
      // A server that drops the connection instead of answering QUIT is fine.
    } finally {
      this.destroy();
    }
  }

  /** Closes the socket at once. Pending operations reject with `error` (default: a connection error). */
  destroy(error?: Error): void {
    this.#fail(error ?? new SmtpConnectionError('Connection closed'));
    this.#socket.destroy();
  }

  // --- the pump -------------------------------------------------------------------------------------

  readonly #onData = (chunk: Buffer): void => {
    this.#transcript?.server(chunk);
    this.#session.receive(chunk);
    this.#pump();
  };

  readonly #onEnd = (): void => {
    if (this.#failure) return;
    clearTimeout(this.#timer);
    this.#session.receiveEnd();
    // The core reports replies still owed as a protocol error; to the caller this is a dropped connection.
    let cause: unknown;
    for (let event = this.#session.nextEvent(); event !== null; event = this.#session.nextEvent()) {
      if (event.type === 'error') cause = event.error;
      else this.#events.push(event);
    }
    this.#fail(
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

  /** Collect events, write what the session queued, re-arm the timer, wake the waiting operation. */
  #pump(): void {
    for (let event = this.#session.nextEvent(); event !== null; event = this.#session.nextEvent()) {
      this.#events.push(event);
    }
    this.#flush();
    this.#armTimer();
    this.#wake();
  }

  #flush(): boolean {
    const output = this.#session.takeOutput();
    if (output === null || this.#failure) return true;
    if (this.#transcript) {
      if (this.#writingBody) this.#transcript.body(output.byteLength);
      else this.#transcript.client(output);
    }
    return this.#socket.write(output);
  }

  #armTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#failure || this.#session.isClosed || this.#session.isIdle || this.#writingBody) return;
    const kind = this.#session.timeout;
    const timeoutMs = timeoutForKind(this.#init.timeouts, kind);
    this.#timer = setTimeout(() => {
      this.#fail(
        new SmtpTimeoutError(kind, timeoutMs, {
          message: `No reply from the server within ${timeoutMs} ms (${kind})`,
        }),
      );
      this.#socket.destroy();
    }, timeoutMs);
  }

  #wake(): void {
    const waiter = this.#waiter;
    if (!waiter) return;
    const event = this.#events.shift();
    if (event !== undefined) {
      this.#waiter = null;
      waiter.resolve(event);
    } else if (this.#failure) {
      this.#waiter = null;
      waiter.reject(this.#failure);
    }
  }

  #fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    clearTimeout(this.#timer);
    this.#wake();
  }

  #nextEvent(signal?: AbortSignal): Promise<ClientEvent> {
    const event = this.#events.shift();
    if (event !== undefined) return Promise.resolve(event);
    if (this.#failure) return Promise.reject(this.#failure);
    if (signal?.aborted) return Promise.reject(this.#abort(signal));
    return new Promise<ClientEvent>((resolve, reject) => {
      const onAbort = () => {
        this.#waiter = null;
        reject(this.#abort(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiter = {
        resolve: (value) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(value);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
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
      if (event.type === 'error') {
        const error = event.error;
        if (error instanceof SmtpReplyError && error.command === undefined) {
          throw new SmtpReplyError(error.reply, { command, cause: error });
        }
        throw error;
      }
      if (event.type === 'close') {
        throw (
          this.#failure ??
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

  async #writeBody(
    chunks: AsyncIterable<Uint8Array>,
    onChunk: ((chunk: Uint8Array) => void) | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ messageBytes: number; last: Uint8Array | undefined }> {
    let messageBytes = 0;
    // One chunk is held back so the last one can travel with the end of the body (BDAT n LAST, RFC 3030).
    let held: Uint8Array | undefined;
    this.#writingBody = true;
    clearTimeout(this.#timer);
    try {
      for await (const chunk of chunks) {
        if (this.#failure) throw this.#failure;
        if (signal?.aborted) throw this.#abort(signal);
        onChunk?.(chunk);
        messageBytes += chunk.byteLength;
        if (held !== undefined) {
          this.#session.writeBody(held);
          if (!this.#flush()) await this.#drain(signal);
        }
        held = chunk;
        // With BDAT the server answers each chunk; a refusal ends the transaction early.
        if (this.#events.length > 0) break;
      }
    } catch (error) {
      // Dropping the connection before the end of data makes the server discard the message (RFC 5321 §4.1.1.4).
      this.destroy(error instanceof Error ? error : undefined);
      throw error;
    } finally {
      this.#writingBody = false;
    }
    return { messageBytes, last: held };
  }

  /** Waits until the socket drains, bounded by the data-block timeout (RFC 5321 §4.5.3.2.5). */
  #drain(signal: AbortSignal | undefined): Promise<void> {
    const socket = this.#socket;
    const timeoutMs = this.#init.timeouts.dataBlockMs;
    return new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
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
        reject(this.#failure ?? new SmtpConnectionError('The server closed the connection during the data'));
      };
      const onAbort = () => {
        cleanup();
        reject(abortReason(signal!));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new SmtpTimeoutError('data-block', timeoutMs, {
            message: `The server did not read the message data within ${timeoutMs} ms`,
          }),
        );
      }, timeoutMs);
      socket.once('drain', onDrain);
      socket.once('close', onClose);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #describe(): string {
    return this.#init.path ?? `${this.#init.host ?? this.#socket.remoteAddress}:${this.#init.port}`;
  }
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
  return new Promise<TLSSocket>((resolve, reject) => {
    const secure = tlsConnect({
      ...init.tls,
      socket,
      ...(servername !== undefined ? { servername } : {}),
    });
    const cleanup = () => {
      clearTimeout(timer);
      secure.off('secureConnect', onSecure);
      secure.off('error', onError);
      secure.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (error: unknown) => {
      cleanup();
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
          `TLS handshake with ${servername ?? host ?? socket.remoteAddress} failed: ${error.message}`,
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

/**
 * RFC 5321 §4.1.4: EHLO carries the client's primary host name, or an address literal when it has none.
 * A name without a dot is not a usable FQDN, so the local address is sent instead.
 */
export function defaultName(socket: Socket): string {
  const name = hostname();
  if (name.includes('.') && !name.endsWith('.local')) return name;
  const local = socket.localAddress;
  if (local === undefined) return 'localhost';
  if (isIP(local) === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(local);
    return mapped ? `[${mapped[1]}]` : `[IPv6:${local}]`;
  }
  return isIP(local) === 4 ? `[${local}]` : 'localhost';
}
