import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { TLSSocket } from 'node:tls';
import {
  encodeGreeting,
  type ReplyInit,
  replies,
  type SaslMechanismName,
  type ServerSessionOptions,
  SmtpUsageError,
} from '@smtp/protocol';
import { Connection, type ConnectionContext, type SessionKind } from './connection.js';
import type { ServerHooks } from './hooks.js';
import { IdleSweeper } from './idle-sweeper.js';
import {
  AddressMatcher,
  AuthThrottle,
  type AuthThrottleOptions,
  ConnectionLimiter,
  type ConnectionLimitOptions,
  defaultConnectionLimitExemptions,
  normalizeAddress,
  refusalReply,
} from './limits.js';
import {
  closeListener,
  type Listener,
  type ListenerAddress,
  type ListenOptions,
  openListener,
} from './listeners.js';
import { isDebugEnabled, isLevelEnabled, type Logger, silentLogger } from './logging.js';
import { ServerMetrics } from './metrics.js';
import { readProxyHeader } from './proxy-reader.js';
import { RecordDeadlines } from './record-deadlines.js';
import { type TarpitOptions, tarpitPolicy } from './tarpit.js';
import { resolveDeadlines, resolveTimeouts, type TimeoutDurations, type TimeoutOptions } from './timeouts.js';
import { describeTls, TlsContextStore, type TlsInfo, type TlsOptions } from './tls-context.js';

type SessionExtensions = NonNullable<ServerSessionOptions['extensions']>;
type SessionLimits = NonNullable<ServerSessionOptions['limits']>;

export interface ServerLimits extends SessionLimits, ConnectionLimitOptions, AuthThrottleOptions {
  /**
   * Input the core may hold unprocessed while a handler runs (pipelined commands) before the
   * socket is paused. Default 64 KiB.
   */
  readonly maxBufferedBytes?: number;
}

export interface SmtpServerOptions extends ServerHooks {
  /** Our name in the greeting and EHLO reply. Default: os.hostname(). */
  readonly hostname?: string;
  readonly mode?: 'smtp' | 'lmtp';
  /** Text after the hostname in the 220 greeting. */
  readonly greetingText?: string;
  /**
   * Extensions to advertise and enforce. Defaults as in ServerSession (all on except XCLIENT and
   * ETRN). STARTTLS follows `tls`, AUTH follows the auth hooks; set one to false to switch it off.
   */
  readonly extensions?: Omit<SessionExtensions, 'auth' | 'startTls' | 'xclient'> & {
    readonly startTls?: boolean;
  };
  /**
   * Mechanisms to offer, in this order. Default: what the hooks can serve: SCRAM-SHA-256 and CRAM-MD5
   * with onAuthSecret, PLAIN and LOGIN with onAuth (add 'XOAUTH2'/'OAUTHBEARER' here for tokens).
   */
  readonly authMechanisms?: readonly SaslMechanismName[];
  readonly auth?: {
    /** Offer and accept plaintext mechanisms (PLAIN, LOGIN, …) without TLS. Default false: never do this on the Internet. */
    readonly allowPlaintext?: boolean;
    /** MAIL before AUTH → 530 5.7.0 (submission servers). */
    readonly required?: boolean;
  };
  readonly limits?: ServerLimits;
  readonly timeouts?: TimeoutOptions;
  readonly syntax?: 'strict' | 'lenient';
  /** Bare CR/LF in message data: 'reject' (default, smuggling-safe) or 'normalize' to CRLF. */
  readonly bareLineEndings?: 'reject' | 'normalize';
  /** Certificates: enables STARTTLS on 'starttls' listeners and is required by 'implicit' ones. */
  readonly tls?: TlsOptions;
  /** Refuse everything but EHLO/HELO/STARTTLS/NOOP/RSET/QUIT until TLS is active (RFC 3207 §4). */
  readonly requireTls?: boolean;
  /** HAProxy PROXY protocol v1/v2 (read before the greeting) from these addresses or CIDR ranges only. */
  readonly proxyProtocol?: { readonly trustedUpstreams: readonly string[] };
  /** Offer XCLIENT (Postfix) to these addresses or CIDR ranges only. */
  readonly xclient?: { readonly trustedPeers: readonly string[] };
  /** Opt-in: wait this long before the greeting and refuse clients that talk first. Default off. */
  readonly earlyTalker?: { readonly delayMs: number };
  /**
   * Opt-in tarpitting: once a session has had `afterErrors` refused commands (4xx or 5xx, the core's
   * or a handler's), each further refusal waits `delayMs` × (errors − afterErrors + 1), at most
   * `maxDelayMs`, before it is sent. Address harvesters and spam engines pay; a correct client
   * rarely errs. Default off.
   */
  readonly tarpit?: TarpitOptions;
  /** Pino-compatible logger. Default: silent. */
  readonly logger?: Logger;
  /** highWaterMark of the onData stream. Default 64 KiB. */
  readonly messageHighWaterMark?: number;
}

export interface CloseOptions {
  /**
   * How long sessions may take to finish their transaction before they get 421 and are closed.
   * Default 30 s. Idle sessions get 421 at once.
   */
  readonly deadlineMs?: number;
}

export interface SmtpServerEvents {
  error: [error: Error];
  listening: [address: ListenerAddress];
  close: [];
}

/** Strongest first, as SASL practice has it. */
const secretMechanisms: readonly SaslMechanismName[] = ['SCRAM-SHA-256', 'CRAM-MD5'];
const verifyMechanisms: readonly SaslMechanismName[] = ['PLAIN', 'LOGIN'];

/** Node's EventEmitter with our event map. */
class TypedEmitter extends EventEmitter<SmtpServerEvents> {}

/**
 * An SMTP/LMTP server: listeners, TLS, limits, timeouts and your handlers around the
 * @smtp/protocol core. Create with createServer().
 */
export class SmtpServer extends TypedEmitter {
  readonly metrics = new ServerMetrics();
  readonly #options: SmtpServerOptions;
  readonly #context: ConnectionContext;
  readonly #tlsStore: TlsContextStore | null;
  readonly #limiter: ConnectionLimiter;
  readonly #proxyUpstreams: AddressMatcher;
  readonly #listeners: Listener[] = [];
  readonly #connections = new Set<Connection>();
  readonly #logger: Logger;
  readonly #timeouts: TimeoutDurations;
  #isClosing = false;
  #closed: Promise<void> | null = null;

  constructor(options: SmtpServerOptions = {}) {
    super();
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#tlsStore = options.tls ? new TlsContextStore(options.tls) : null;
    this.#limiter = new ConnectionLimiter({
      ...options.limits,
      // Proxies and XCLIENT fronts carry many clients on one address: they are not counted per address.
      connectionLimitExemptions: [
        ...(options.limits?.connectionLimitExemptions ?? defaultConnectionLimitExemptions),
        ...(options.proxyProtocol?.trustedUpstreams ?? []),
        ...(options.xclient?.trustedPeers ?? []),
      ],
    });
    this.#proxyUpstreams = new AddressMatcher(options.proxyProtocol?.trustedUpstreams ?? []);
    const timeouts = resolveTimeouts(options.timeouts);
    this.#timeouts = timeouts;
    const deadlines = resolveDeadlines(options.timeouts);
    const limiter = this.#limiter;
    // Under load from this many open connections on: deterministic, from the count alone.
    const loadConnections =
      limiter.maxConnections > 0 && deadlines.underLoadThreshold > 0
        ? Math.max(1, Math.ceil(limiter.maxConnections * deadlines.underLoadThreshold))
        : Number.POSITIVE_INFINITY;
    const sweeper = new IdleSweeper(
      Math.min(
        ...[
          ...Object.values(timeouts),
          deadlines.commandLine,
          deadlines.message,
          deadlines.underLoadTimeout,
        ].filter((durationMs) => durationMs > 0),
      ),
      { timeoutMs: deadlines.underLoadTimeout, isUnderLoad: () => limiter.total >= loadConnections },
    );
    this.#context = {
      sessionKindFor: sessionKindCache(buildSessionOptions(options, this.#tlsStore !== null)),
      hooks: options,
      logger: this.#logger,
      isDebug: isDebugEnabled(this.#logger),
      isInfo: isLevelEnabled(this.#logger, 'info'),
      metrics: this.metrics,
      sweeper,
      deadlines: new RecordDeadlines(sweeper, deadlines),
      timeoutTicks: {
        greeting: sweeper.ticksFor(timeouts.greeting),
        command: sweeper.ticksFor(timeouts.command),
        data: sweeper.ticksFor(timeouts.data),
        auth: sweeper.ticksFor(timeouts.auth),
        'tls-handshake': sweeper.ticksFor(timeouts['tls-handshake']),
        close: sweeper.ticksFor(timeouts.close),
      },
      tlsStore: this.#tlsStore,
      authThrottle: new AuthThrottle(options.limits),
      xclientPeers: new AddressMatcher(options.xclient?.trustedPeers ?? []),
      maxBufferedBytes: options.limits?.maxBufferedBytes ?? 64 * 1024,
      messageHighWaterMark: options.messageHighWaterMark ?? 64 * 1024,
      earlyTalkerDelayMs: options.earlyTalker?.delayMs ?? 0,
      tarpit: tarpitPolicy(options.tarpit),
      // The core puts our hostname first (RFC 5321 §4.3.1).
      greeting: options.greetingText === undefined ? undefined : { code: 220, text: options.greetingText },
    };
  }

  /** Starts one listener; call again for more (25 + 587 + 465, IPv4 and IPv6, Unix sockets). */
  async listen(options: ListenOptions): Promise<ListenerAddress> {
    if (this.#isClosing) throw new SmtpUsageError('The server is closing');
    if (options.tls === 'implicit' && !this.#tlsStore) {
      throw new SmtpUsageError("An 'implicit' TLS listener needs the `tls` option (key and certificate)");
    }
    const listener = await openListener(
      options,
      (socket, tls) => this.#accept(socket, tls),
      (error) => this.emit('error', error),
    );
    this.#listeners.push(listener);
    this.#logger.info({ event: 'listen', ...listener.address }, 'listening');
    this.emit('listening', listener.address);
    return listener.address;
  }

  get addresses(): readonly ListenerAddress[] {
    return this.#listeners.map((listener) => listener.address);
  }

  /** Connections open now. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Swaps certificates (e.g. renewed ones) for new handshakes, without a restart. */
  reloadTls(options: TlsOptions): void {
    if (!this.#tlsStore)
      throw new SmtpUsageError('The server was created without TLS; cannot reload certificates');
    this.#tlsStore.reload(options);
  }

  /**
   * Graceful stop: listeners stop accepting, idle sessions get 421 now, busy ones when their
   * transaction ends; at the deadline everyone left gets 421 and is closed.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closed) return this.#closed;
    this.#isClosing = true;
    const deadlineMs = options.deadlineMs ?? 30_000;
    this.#closed = (async () => {
      const listenersClosed = Promise.all(this.#listeners.map(closeListener));
      for (const connection of this.#connections) connection.requestShutdown();
      if (this.#connections.size > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            for (const connection of this.#connections) connection.forceShutdown();
          }, deadlineMs);
          timer.unref();
          this.#onDrained = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      await listenersClosed;
      this.emit('close');
    })();
    return this.#closed;
  }

  #onDrained: (() => void) | null = null;

  /** Runs once per connection when its socket closes: frees its slot. One function per server. */
  readonly #connectionEnded = (connection: Connection): void => {
    this.#limiter.release(connection.socketAddress);
    this.metrics.values.connectionsActive -= 1;
    this.#connections.delete(connection);
    if (this.#connections.size === 0) this.#onDrained?.();
  };

  #accept(socket: Socket, tls: 'starttls' | 'implicit' | 'off'): void {
    const metrics = this.metrics.values;
    const socketAddress = normalizeAddress(socket.remoteAddress ?? 'unix');
    if (this.#isClosing) {
      this.#refuse(socket, replies.shuttingDown);
      return;
    }
    const admission = this.#limiter.acquire(socketAddress);
    if (admission !== 'ok') {
      metrics.connectionsRefused += 1;
      this.#logger.warn(
        { event: 'connection-refused', remoteAddress: socketAddress, reason: admission },
        'connection refused',
      );
      this.#refuse(socket, refusalReply(admission, socketAddress));
      return;
    }
    metrics.connectionsTotal += 1;
    metrics.connectionsActive += 1;
    // From here the connection owns the socket: its close releases the slot, whatever happens next.
    const connection = new Connection(socket, socketAddress, this.#context, this.#connectionEnded);
    this.#connections.add(connection);
    if (this.#proxyUpstreams.isEmpty && tls !== 'implicit') {
      // The common case: nothing to read or negotiate before the greeting, no promise.
      this.#start(connection, socket, null, null, tls);
      return;
    }
    this.#prepare(socket, connection, tls).then(
      (prepared) => {
        if (!prepared || prepared.socket.destroyed) {
          socket.destroy();
          return;
        }
        this.#start(connection, prepared.socket, prepared.tls, prepared.pending, tls);
      },
      (error: unknown) => {
        this.#logger.error({ event: 'socket-error', err: error }, 'connection setup failed');
        socket.destroy();
      },
    );
  }

  #start(
    connection: Connection,
    socket: Socket,
    tlsInfo: TlsInfo | null,
    pending: Uint8Array | null,
    tls: 'starttls' | 'implicit' | 'off',
  ): void {
    if (this.#isClosing) connection.requestShutdown();
    connection.start(socket, tlsInfo, pending, tls === 'starttls').catch((error: unknown) => {
      this.#logger.error({ event: 'handler-error', err: error }, 'connection start failed');
      socket.destroy();
    });
  }

  /** Before the greeting: the PROXY header from trusted upstreams, then the implicit-TLS handshake. */
  async #prepare(
    socket: Socket,
    connection: Connection,
    tls: 'starttls' | 'implicit' | 'off',
  ): Promise<{ socket: Socket; tls: TlsInfo | null; pending: Uint8Array | null } | null> {
    const timeouts = this.#timeouts;
    let pending: Uint8Array | null = null;
    if (this.#proxyUpstreams.matches(connection.socketAddress)) {
      // proxy-protocol.txt §2: a receiver configured for the header requires it from these peers.
      const result = await readProxyHeader(socket, timeouts.greeting);
      if (!result.ok) {
        this.#logger.warn(
          { event: 'proxy', remoteAddress: connection.socketAddress, reason: result.reason },
          'bad PROXY header',
        );
        return null;
      }
      const { header } = result;
      if (header.command === 'PROXY' && header.source && header.destination) {
        connection.setPeer({
          remoteAddress: header.source.address,
          remotePort: header.source.port,
          localAddress: header.destination.address,
          localPort: header.destination.port,
        });
      }
      this.#logger.info(
        {
          event: 'proxy',
          remoteAddress: connection.remoteAddress,
          upstream: connection.socketAddress,
          version: header.version,
        },
        'PROXY header',
      );
      pending = result.rest.byteLength > 0 ? result.rest : null;
    }
    if (tls !== 'implicit') return { socket, tls: null, pending };

    const store = this.#tlsStore!;
    if (pending) {
      // Bytes of the ClientHello came with the PROXY header: give them back to the stream.
      socket.unshift(pending);
      pending = null;
    }
    const secure = new TLSSocket(socket, {
      isServer: true,
      secureContext: store.defaultContext,
      SNICallback: store.sniCallback,
      ...(store.options.requestCert !== undefined ? { requestCert: store.options.requestCert } : {}),
      ...(store.options.rejectUnauthorized !== undefined
        ? { rejectUnauthorized: store.options.rejectUnauthorized }
        : {}),
    });
    secure.on('error', ignoreError);
    const metrics = this.metrics.values;
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeouts['tls-handshake']);
      const fail = (error: Error): void => {
        clearTimeout(timer);
        this.#logger.info(
          { event: 'tls-failed', remoteAddress: connection.remoteAddress, error: error.message },
          'TLS failed',
        );
        resolve(false);
      };
      secure.once('_tlsError', fail);
      secure.once('close', () => resolve(false));
      secure.once('secure', () => {
        clearTimeout(timer);
        secure.off('_tlsError', fail);
        resolve(!(store.options.requestCert && store.options.rejectUnauthorized && !secure.authorized));
      });
    });
    if (!ok) {
      metrics.tlsFailures += 1;
      secure.destroy();
      return null;
    }
    metrics.tlsHandshakes += 1;
    const info = describeTls(secure, true);
    this.#logger.info(
      {
        event: 'tls',
        remoteAddress: connection.remoteAddress,
        protocol: info.protocol,
        cipher: info.cipher,
        servername: info.servername,
      },
      'TLS',
    );
    return { socket: secure, tls: info, pending: null };
  }

  /** Refuses a connection before it has a session: a 421 through the core's greeting policy, then close. */
  #refuse(socket: Socket, reply: ReplyInit): void {
    socket.on('error', ignoreError);
    socket.end(encodeGreeting(this.#context.sessionKindFor(false, false, false).options, reply));
    const timer = setTimeout(() => socket.destroy(), this.#timeouts.close);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }
}

function ignoreError(): void {}

function buildSessionOptions(options: SmtpServerOptions, hasTls: boolean): ServerSessionOptions {
  const auth: SaslMechanismName[] = [];
  if (options.authMechanisms) auth.push(...options.authMechanisms);
  else {
    if (options.onAuthSecret) auth.push(...secretMechanisms);
    if (options.onAuth) auth.push(...verifyMechanisms);
  }
  const { startTls, ...extensions } = options.extensions ?? {};
  const limits = options.limits ?? {};
  const sessionLimits: SessionLimits = {
    ...(limits.maxCommandLineBytes !== undefined ? { maxCommandLineBytes: limits.maxCommandLineBytes } : {}),
    ...(limits.maxTextLineBytes !== undefined ? { maxTextLineBytes: limits.maxTextLineBytes } : {}),
    ...(limits.maxMessageBytes !== undefined ? { maxMessageBytes: limits.maxMessageBytes } : {}),
    ...(limits.maxRecipients !== undefined ? { maxRecipients: limits.maxRecipients } : {}),
    ...(limits.maxErrors !== undefined ? { maxErrors: limits.maxErrors } : {}),
    ...(limits.maxAuthLineBytes !== undefined ? { maxAuthLineBytes: limits.maxAuthLineBytes } : {}),
  };
  return {
    hostname: options.hostname ?? osHostname(),
    mode: options.mode ?? 'smtp',
    extensions: { ...extensions, startTls: hasTls && startTls !== false, auth },
    limits: sessionLimits,
    syntax: options.syntax ?? 'strict',
    bareLineEndings: options.bareLineEndings ?? 'reject',
    auth: {
      ...(options.auth?.allowPlaintext !== undefined ? { allowPlaintext: options.auth.allowPlaintext } : {}),
      ...(options.auth?.required !== undefined ? { required: options.auth.required } : {}),
    },
    ...(options.requireTls !== undefined ? { requireTls: options.requireTls } : {}),
  };
}

/**
 * One options object per kind of connection (STARTTLS offered or not, XCLIENT peer or not, TLS
 * active or not), built on first use: the core derives its profile (EHLO reply bytes, greeting,
 * resolved limits) once per options object, so connections share it instead of rebuilding it.
 */
function sessionKindCache(
  base: ServerSessionOptions,
): (offerStartTls: boolean, isXclientPeer: boolean, isTlsActive: boolean) => SessionKind {
  const cache: (SessionKind | undefined)[] = [];
  return (offerStartTls, isXclientPeer, isTlsActive) => {
    const key = (offerStartTls ? 1 : 0) | (isXclientPeer ? 2 : 0) | (isTlsActive ? 4 : 0);
    let kind = cache[key];
    if (kind === undefined) {
      const options: ServerSessionOptions = {
        ...base,
        extensions: {
          ...base.extensions,
          startTls: offerStartTls && base.extensions?.startTls === true,
          ...(isXclientPeer ? { xclient: true } : {}),
        },
        tls: { active: isTlsActive },
      };
      // The default greeting, from the core's profile, for connections greeted before they have a session.
      kind = { options, greeting: encodeGreeting(options) };
      cache[key] = kind;
    }
    return kind;
  };
}

/** Creates a server. Nothing listens until listen(). */
export function createServer(options: SmtpServerOptions = {}): SmtpServer {
  return new SmtpServer(options);
}
