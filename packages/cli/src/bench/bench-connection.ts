import { isIP, type Socket, connect as tcpConnect } from 'node:net';
import { hostname } from 'node:os';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import {
  type ClientEvent,
  ClientSession,
  type EnvelopeInit,
  type PreparedMessage,
  SmtpCapabilityError,
  SmtpReplyError,
  type TransactionResult,
} from '@smtp/protocol';
import type { BenchTimeoutKind } from './bench-timeouts.js';
import { LatencyHistogram } from './latency-histogram.js';

const sharedReadBuffer = Buffer.allocUnsafe(64 * 1024);

/** A batch smaller than this is copied into one buffer; a larger one is written vectored, uncopied. */
const copyBelowBytes = 16 * 1024;

/** Where and how every bench connection talks, decided once per run. */
export interface BenchTarget {
  readonly host: string;
  readonly port: number;
  /** Implicit TLS from the first byte (RFC 8314). */
  readonly secure: boolean;
  readonly starttls: 'required' | 'opportunistic' | 'never';
  readonly tls: ConnectionOptions;
  /** EHLO/LHLO name; undefined: this host's dotted name, else the local address literal. */
  readonly name: string | undefined;
  readonly lmtp: boolean;
  readonly pipelining: boolean;
  readonly envelope: EnvelopeInit;
  /** The whole message, composed and dot-stuffed once, sent by every transaction as it is (never copied). */
  readonly message: PreparedMessage;
  /** How long a reply may take, by what the session waits for (RFC 5321 §4.5.3.2 kinds). */
  readonly timeoutMs: (kind: BenchTimeoutKind) => number;
}

/** What the connections share: the message budget and the failure counts. */
export interface BenchLoad {
  /** Takes one message from the budget; false when the count or the duration is used up. */
  claim(): boolean;
  /** A message that failed, by reply code ("450") or kind ("network", "timeout", "tls", "protocol"). */
  failure(key: string): void;
}

/** One connection's successes, handed to BenchStatistics when it ends. */
export interface BenchConnectionOutcome {
  readonly latencies: LatencyHistogram;
  readonly acceptedBytes: number;
  /** Messages this connection started (successful or not). */
  readonly started: number;
}

/**
 * One bench connection driven straight from the socket's data handler: the replies of a turn go into
 * the ClientSession, the transactions they finish start the next ones, and what the session queued
 * leaves in one corked write. With PIPELINING the next MAIL/RCPT/DATA follow the previous message's
 * "." in the same write (RFC 2920 §3.1), so a message costs one round trip; without it every command
 * waits for its reply, like Postfix's smtp-source. Every protocol decision is the session's.
 */
export class BenchConnection {
  readonly #target: BenchTarget;
  readonly #load: BenchLoad;
  readonly #latencies = new LatencyHistogram();
  readonly #resolve: (outcome: BenchConnectionOutcome) => void;
  #session: ClientSession | null = null;
  #socket: Socket;
  #isTlsActive = false;
  /** Start times of the transactions in flight, oldest first (two at most, with PIPELINING). */
  readonly #startedAt: number[] = [];
  #started = 0;
  #acceptedBytes = 0;
  #isEnded = false;
  /** The server closed its side: the session's complaint about missing replies is a network failure. */
  #isPeerClosed = false;
  /** Connecting, or waiting for the TLS handshake: the session owes nothing yet. */
  #phase: 'connect' | 'tls-handshake' | 'session' = 'connect';
  /** When the peer last sent something or we last wrote: the reply timer runs from here. */
  #lastActivityAt = performance.now();

  private constructor(
    target: BenchTarget,
    load: BenchLoad,
    resolve: (outcome: BenchConnectionOutcome) => void,
  ) {
    this.#target = target;
    this.#load = load;
    this.#resolve = resolve;
    const options = { host: target.host, port: target.port };
    // Plain TCP reads into one buffer shared by every connection (Node's `onread`): no 64 KB buffer
    // allocated per read, no stream machinery. Safe because ClientSession.receive() keeps nothing of
    // a chunk once it returns (an unfinished line is copied), and reads are handled one at a time.
    const socket = target.secure
      ? tlsConnect({ ...target.tls, ...options, ...servernameFor(target) })
      : tcpConnect({
          ...options,
          onread: {
            buffer: sharedReadBuffer,
            callback: (bytesRead: number, buffer: Uint8Array) => {
              this.#receive(buffer.subarray(0, bytesRead));
              return true;
            },
          },
        });
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.once(target.secure ? 'secureConnect' : 'connect', () => {
      this.#isTlsActive = target.secure;
      this.#open();
    });
    this.#listen(socket);
  }

  /** Runs one connection until the budget is used up or the connection fails; never rejects. */
  static run(
    target: BenchTarget,
    load: BenchLoad,
    track: (connection: BenchConnection) => void,
  ): Promise<BenchConnectionOutcome> {
    return new Promise((resolve) => track(new BenchConnection(target, load, resolve)));
  }

  /** Called by the run's one interval timer: ends the connection when the server is late. */
  checkTimeout(now: number): void {
    if (this.#isEnded) return;
    const session = this.#session;
    let kind: BenchTimeoutKind;
    if (this.#phase !== 'session') kind = this.#phase;
    else if (session === null || session.isIdle) return;
    else kind = session.timeout;
    if (now - this.#lastActivityAt > this.#target.timeoutMs(kind)) this.#end('timeout');
  }

  /** Ctrl-C: close now; the messages in flight are neither successes nor failures. */
  abandon(): void {
    this.#startedAt.length = 0;
    this.#end(null);
  }

  #listen(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('end', () => {
      this.#isPeerClosed = true;
      this.#session?.receiveEnd();
      this.#drain();
    });
    socket.on('error', (error: Error) => this.#end(isTlsError(error) ? 'tls' : 'network'));
    socket.on('close', () => {
      if (this.#session !== null) this.#drain();
      this.#end('network');
    });
  }

  #open(): void {
    this.#phase = 'session';
    const socket = this.#socket;
    this.#session = new ClientSession({
      name: this.#target.name ?? defaultName(socket),
      mode: this.#target.lmtp ? 'lmtp' : 'smtp',
      pipelining: this.#target.pipelining,
      chunking: false,
    });
    this.#lastActivityAt = performance.now();
  }

  #receive(chunk: Uint8Array): void {
    const session = this.#session;
    if (session === null || this.#isEnded) return;
    this.#lastActivityAt = performance.now();
    session.receive(chunk);
    this.#drain();
  }

  /** Handles every event the session has, then writes what they queued in one go. */
  #drain(): void {
    const session = this.#session;
    if (session === null) return;
    for (let event = session.nextEvent(); event !== null; event = session.nextEvent()) {
      this.#handle(session, event);
      if (this.#isEnded) return;
    }
    this.#flush(session);
  }

  #handle(session: ClientSession, event: ClientEvent): void {
    switch (event.type) {
      case 'greeting':
        session.hello();
        return;
      case 'hello':
        if (!this.#isTlsActive && this.#target.starttls !== 'never' && event.capabilities.startTls) {
          session.startTls();
        } else if (!this.#isTlsActive && this.#target.starttls === 'required') {
          this.#end('tls');
        } else {
          this.#startNext(session);
        }
        return;
      case 'tls-ready':
        this.#startTls(session);
        return;
      case 'body-ready':
        session.endBody(this.#target.message);
        // RFC 2920 §3.1: MAIL may follow the end of data in the same group.
        if (this.#target.pipelining && session.capabilities?.pipelining === true) this.#startNext(session);
        return;
      case 'transaction-end':
        this.#finish(event.result);
        if (session.canStartTransaction && this.#startedAt.length === 0) this.#startNext(session);
        return;
      case 'error':
        if (event.error instanceof SmtpReplyError) this.#end(String(event.error.code));
        else this.#end(this.#isPeerClosed ? 'network' : 'protocol');
        return;
      case 'close':
        this.#end(this.#startedAt.length === 0 && this.#started > 0 ? null : 'network');
        return;
      default:
        return; // recipient-result, reply (RSET), auth-end: nothing to do
    }
  }

  #startNext(session: ClientSession): void {
    if (!this.#load.claim()) {
      if (this.#startedAt.length === 0) session.quit();
      return;
    }
    this.#started += 1;
    this.#startedAt.push(performance.now());
    try {
      session.startTransaction(this.#target.envelope);
    } catch (error) {
      // SmtpCapabilityError: the server cannot take this message (SIZE, SMTPUTF8 …), so none is sent.
      this.#end(error instanceof SmtpCapabilityError ? 'capability' : 'internal');
    }
  }

  #finish(result: TransactionResult): void {
    const startedAt = this.#startedAt.shift() ?? performance.now();
    const failure = failureCode(result);
    if (failure !== null) {
      this.#load.failure(failure);
      return;
    }
    this.#latencies.record(performance.now() - startedAt);
    this.#acceptedBytes += this.#target.message.bytes.byteLength;
  }

  /**
   * What the session queued, in one write. Small batches (commands, small messages) are copied into
   * one buffer, cheaper than a writev of eight pieces; a large message goes as views in one writev.
   */
  #flush(session: ClientSession): void {
    const parts = session.takeOutputChunks();
    if (parts.length === 0) return;
    this.#lastActivityAt = performance.now();
    const socket = this.#socket;
    if (parts.length === 1) {
      socket.write(parts[0] as Uint8Array);
      return;
    }
    let totalBytes = 0;
    for (const part of parts) totalBytes += part.byteLength;
    if (totalBytes < copyBelowBytes) {
      socket.write(Buffer.concat(parts, totalBytes));
      return;
    }
    socket.cork();
    for (const part of parts) socket.write(part);
    socket.uncork();
  }

  #startTls(session: ClientSession): void {
    this.#phase = 'tls-handshake';
    this.#lastActivityAt = performance.now();
    const plain = this.#socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('end');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    plain.on('error', () => {}); // reported by the TLS socket
    const secure = tlsConnect({ ...this.#target.tls, socket: plain, ...servernameFor(this.#target) });
    this.#socket = secure;
    this.#listen(secure);
    secure.once('secureConnect', () => {
      this.#isTlsActive = true;
      this.#phase = 'session';
      this.#lastActivityAt = performance.now();
      session.tlsStarted();
      this.#drain();
    });
  }

  /**
   * Ends the connection once. The transactions in flight fail with `key`; a connection that ends
   * before it started any message fails one from the budget, so a server that refuses every
   * connection still ends the run (with its errors counted) instead of spinning. null: a clean end.
   */
  #end(key: string | null): void {
    if (this.#isEnded) return;
    this.#isEnded = true;
    if (key !== null) {
      for (let index = 0; index < this.#startedAt.length; index += 1) this.#load.failure(key);
      if (this.#started === 0 && this.#load.claim()) {
        this.#started = 1;
        this.#load.failure(key);
      }
    }
    this.#startedAt.length = 0;
    this.#socket.destroy();
    this.#resolve({ latencies: this.#latencies, acceptedBytes: this.#acceptedBytes, started: this.#started });
  }
}

/** The failure key of a transaction, or null when it was delivered to every recipient. */
function failureCode(result: TransactionResult): string | null {
  if (result.lmtpReplies !== undefined) {
    const refused = result.lmtpReplies.find((entry) => entry.reply.code >= 300);
    return refused === undefined && result.rejected.length === 0
      ? null
      : String(refused?.reply.code ?? result.rejected[0]?.reply.code ?? 'rejected');
  }
  const reply = result.reply;
  if (reply !== null && reply.code < 300 && result.rejected.length === 0) return null;
  if (reply !== null && reply.code >= 300) return String(reply.code);
  return String(result.rejected[0]?.reply.code ?? 'rejected');
}

function servernameFor(target: BenchTarget): { servername?: string } {
  if (target.tls.servername !== undefined) return { servername: target.tls.servername };
  return isIP(target.host) === 0 ? { servername: target.host } : {};
}

function isTlsError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    typeof code === 'string' &&
    (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || /CERT|SELF_SIGNED/.test(code))
  );
}

let localHostname: string | undefined;

/**
 * RFC 5321 §4.1.4: EHLO carries the client's primary host name, or an address literal when it has
 * none (a name without a dot is not a usable FQDN).
 */
function defaultName(socket: Socket): string {
  localHostname ??= hostname();
  if (localHostname.includes('.') && !localHostname.endsWith('.local')) return localHostname;
  const local = socket.localAddress;
  if (local === undefined) return 'localhost';
  if (isIP(local) === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(local);
    return mapped ? `[${mapped[1]}]` : `[IPv6:${local}]`;
  }
  return isIP(local) === 4 ? `[${local}]` : 'localhost';
}
