import { createServer, type Server, type Socket } from 'node:net';
import {
  createSecureContext,
  createServer as createTlsServer,
  type SecureContext,
  TLSSocket,
} from 'node:tls';
import { verifyPassword } from '../accounts/password-hash.js';
import type { MailboxEvent } from '../capture/mailbox-event.js';
import type { MailboxIndex } from '../capture/mailbox-index.js';
import { normalizeHostName } from '../config/parse-authority.js';
import type { Pop3Config } from '../config/pop3-schema.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../observability/logger.js';
import { isLoopbackAddress } from '../smtp/plaintext-auth-policy.js';
import type { CertificatePair } from '../smtp/tls-certificate.js';
import type { MessageRepository } from '../spool/message-repository.js';
import { LoginThrottle } from './login-throttle.js';
import { readMaildrop } from './maildrop.js';
import { type Pop3Event, Pop3Session } from './pop3-session.js';

export interface Pop3ListenerOptions {
  readonly config: Pop3Config;
  /** pop3.users, or http.auth.users when that is empty: plain passwords or scrypt hashes. */
  readonly users: readonly { readonly username: string; readonly password: string }[];
  readonly mailbox: MailboxIndex;
  readonly spool: MessageRepository;
  /** Deletions at QUIT are announced here, as the API's are (the web UI drops them). */
  readonly events: EventBus<MailboxEvent>;
  readonly certificate: CertificatePair;
  readonly logger: Logger;
  /** How long a wrong password waits for its -ERR (Dovecot's auth_failure_delay). */
  readonly failureDelayMs?: number;
}

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface Pop3Listener {
  /** The STLS listener; null when only POP3S is configured. */
  readonly address: ListenAddress | null;
  readonly implicitTlsAddress: ListenAddress | null;
  /** Renewed certificates for new connections (STLS and POP3S); those open keep theirs. */
  reloadTls(pair: { readonly cert: string; readonly key: string }): void;
  close(): Promise<void>;
}

/** RETR bodies go out in slices this big, each waiting for the socket to drain. */
const sliceBytes = 64 * 1024;
const closeGraceMs = 2000;

/**
 * The POP3 side of capture mode: node:net/tls around Pop3Session. It checks passwords, snapshots
 * the inbox at login, streams stored messages and removes the ones deleted at QUIT.
 */
export async function startPop3Listener(options: Pop3ListenerOptions): Promise<Pop3Listener> {
  const { config, mailbox, spool, events, logger } = options;
  const users = new Map(options.users.map((user) => [user.username, user.password]));
  const throttle = new LoginThrottle({
    maxFailures: config.maxFailedLogins,
    windowMs: config.failedLoginWindow,
  });
  // Replaced by reloadTls(): each new STLS connection takes the one current at its accept.
  let secureContext = createSecureContext({ cert: options.certificate.cert, key: options.certificate.key });
  const failureDelayMs = options.failureDelayMs ?? 1000;
  const connections = new Set<Connection>();

  const accept = (socket: Socket, isTls: boolean) => {
    const connection = new Connection({
      socket,
      isTls,
      secureContext,
      idleTimeoutMs: config.idleTimeout,
      allowPlaintext: config.allowPlaintext,
      logger,
      onEvent: handleEvent,
      onClose: () => connections.delete(connection),
    });
    connections.add(connection);
  };

  async function handleEvent(event: Pop3Event, connection: Connection): Promise<void> {
    const { session } = connection;
    switch (event.type) {
      case 'login':
        return login(event.username, event.password, connection);
      case 'message-request': {
        let raw: Uint8Array | null;
        try {
          raw = await spool.getRaw(event.id);
        } catch (error) {
          logger.error({ err: error, id: event.id }, 'POP3: could not read a message');
          session.messageFailed('store-unavailable');
          return;
        }
        if (raw === null) return session.messageFailed('gone');
        // The store hands over whole messages; the socket still gets them a slice at a time.
        for (let offset = 0; offset < raw.length && connection.isOpen; offset += sliceBytes) {
          session.messageChunk(raw.subarray(offset, offset + sliceBytes));
          await connection.flush();
        }
        return session.messageEnd();
      }
      case 'update': {
        const deleted: string[] = [];
        let isSuccess = true;
        for (const id of event.deletedIds) {
          try {
            if (await mailbox.delete(id)) deleted.push(id);
          } catch (error) {
            isSuccess = false;
            logger.error({ err: error, id }, 'POP3: could not delete a message at QUIT');
          }
        }
        if (deleted.length > 0) events.publish({ type: 'message-deleted', ids: deleted });
        logger.info({ event: 'pop3-update', deleted: deleted.length }, 'POP3 client deleted messages');
        return session.updateEnd({ isSuccess, deletedCount: deleted.length });
      }
      case 'command-rejected':
        logger.debug(
          { event: 'pop3-rejected', line: event.line, reply: event.reply },
          'POP3 command rejected',
        );
        return;
      case 'tls-ready':
      case 'close':
        return; // the connection does these itself
    }
  }

  async function login(username: string, password: string, connection: Connection): Promise<void> {
    const { session, remoteAddress } = connection;
    if (throttle.isBlocked(remoteAddress, Date.now())) {
      logger.warn(
        { event: 'pop3-login-throttled', remoteAddress, username },
        'POP3 login refused: too many failures',
      );
      return session.rejectLogin('throttled');
    }
    const stored = users.get(username);
    // An unknown user's password is checked too (against a stand-in), so the answer takes as long.
    const matches = await verifyPassword(stored ?? '\u0000no such user', password);
    if (stored === undefined || !matches) {
      throttle.recordFailure(remoteAddress, Date.now());
      logger.warn({ event: 'pop3-login-failed', remoteAddress, username }, 'POP3 login failed');
      await new Promise((resolve) => setTimeout(resolve, failureDelayMs));
      return session.rejectLogin('invalid-credentials');
    }
    throttle.recordSuccess(remoteAddress);
    try {
      const maildrop = await readMaildrop(mailbox);
      logger.info({ event: 'pop3-login', remoteAddress, username, messages: maildrop.length }, 'POP3 login');
      session.acceptLogin(maildrop);
    } catch (error) {
      logger.error({ err: error }, 'POP3: could not list the inbox');
      session.rejectLogin('store-unavailable');
    }
  }

  const plain = config.port === undefined ? null : createServer((socket) => accept(socket, false));
  const implicit =
    config.implicitTlsPort === undefined
      ? null
      : createTlsServer({ cert: options.certificate.cert, key: options.certificate.key }, (socket) =>
          accept(socket, true),
        );
  const address = plain === null ? null : await listen(plain, config.host, config.port ?? 0, 'POP3');
  let implicitTlsAddress: ListenAddress | null = null;
  try {
    implicitTlsAddress =
      implicit === null ? null : await listen(implicit, config.host, config.implicitTlsPort ?? 0, 'POP3S');
  } catch (error) {
    plain?.close();
    throw error;
  }
  // After listening, an error (e.g. out of file descriptors) is logged, never an unhandled event.
  for (const server of [plain, implicit]) {
    server?.on('error', (error) => logger.error({ err: error }, 'POP3 listener error'));
  }
  return {
    address,
    implicitTlsAddress,
    reloadTls(pair) {
      const next = createSecureContext({ cert: pair.cert, key: pair.key });
      implicit?.setSecureContext({ cert: pair.cert, key: pair.key });
      secureContext = next;
    },
    async close() {
      const closed = [plain, implicit].map(
        (server) =>
          new Promise<void>((resolve) => (server === null ? resolve() : server.close(() => resolve()))),
      );
      for (const connection of connections) connection.shutdown();
      await Promise.all(closed);
    },
  };
}

/** A listen error carries which listener failed, for the startup message. */
export class Pop3ListenError extends Error {
  override readonly name = 'Pop3ListenError';
  constructor(
    readonly listener: 'POP3' | 'POP3S',
    readonly port: number,
    options: { cause: unknown },
  ) {
    super(`cannot listen for ${listener}`, options);
  }
}

function listen(server: Server, host: string, port: number, name: 'POP3' | 'POP3S'): Promise<ListenAddress> {
  return new Promise((resolve, reject) => {
    server.once('error', (error) => reject(new Pop3ListenError(name, port, { cause: error })));
    server.listen(port, host, () => {
      const bound = server.address();
      if (bound === null || typeof bound === 'string') return reject(new Error('POP3: no TCP address'));
      resolve({ host: bound.address, port: bound.port });
    });
  });
}

interface ConnectionOptions {
  readonly socket: Socket;
  readonly isTls: boolean;
  readonly secureContext: SecureContext;
  readonly idleTimeoutMs: number;
  readonly allowPlaintext: boolean;
  readonly logger: Logger;
  readonly onEvent: (event: Pop3Event, connection: Connection) => Promise<void>;
  readonly onClose: () => void;
}

/** One client: feeds the session, runs its events one at a time, writes its output with backpressure. */
class Connection {
  readonly session: Pop3Session;
  readonly remoteAddress: string;
  #socket: Socket;
  readonly #options: ConnectionOptions;
  #work: Promise<void> = Promise.resolve();
  #isOpen = true;

  constructor(options: ConnectionOptions) {
    this.#options = options;
    this.#socket = options.socket;
    this.remoteAddress = normalizeHostName(options.socket.remoteAddress ?? '');
    this.session = new Pop3Session({
      isTlsAvailable: true,
      isTlsActive: options.isTls,
      // The client's address decides: from loopback the password never leaves the machine.
      isPlaintextAuthAllowed: options.allowPlaintext || isLoopbackAddress(this.remoteAddress),
    });
    this.#attach(this.#socket);
    this.#schedule();
  }

  get isOpen(): boolean {
    return this.#isOpen;
  }

  /** Writes what the session queued; resolves when the socket can take more. */
  flush(): Promise<void> {
    const output = this.session.takeOutput();
    if (output === null || !this.#isOpen) return Promise.resolve();
    const socket = this.#socket;
    if (socket.write(output)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }

  shutdown(): void {
    this.session.shutdown();
    this.#schedule();
    setTimeout(() => this.#socket.destroy(), closeGraceMs).unref();
  }

  #attach(socket: Socket): void {
    socket.setTimeout(this.#options.idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => {
      this.session.receive(chunk);
      this.#schedule();
    });
    socket.on('timeout', () => {
      this.session.timedOut();
      this.#schedule();
    });
    socket.on('end', () => {
      this.session.receiveEnd();
      this.#schedule();
    });
    socket.on('error', (error) => {
      this.#options.logger.debug({ err: error, remoteAddress: this.remoteAddress }, 'POP3 connection error');
      socket.destroy();
    });
    socket.on('close', () => {
      if (socket !== this.#socket) return; // the plain socket under TLS
      this.#isOpen = false;
      this.#options.onClose();
    });
  }

  #schedule(): void {
    this.#work = this.#work
      .then(() => this.#pump())
      .catch((error: unknown) => {
        this.#options.logger.error({ err: error }, 'POP3 connection failed');
        this.#socket.destroy();
      });
  }

  /** Events one at a time; reading pauses while one waits for the store, so input stays bounded. */
  async #pump(): Promise<void> {
    for (let event = this.session.nextEvent(); event !== null; event = this.session.nextEvent()) {
      if (event.type === 'tls-ready') {
        await this.flush();
        await this.#startTls();
        continue;
      }
      if (event.type === 'close') {
        await this.flush();
        this.#isOpen = false;
        this.#socket.end();
        return;
      }
      if (this.session.pending !== null) this.#socket.pause();
      await this.#options.onEvent(event, this);
      await this.flush();
    }
    await this.flush();
    if (this.#isOpen) this.#socket.resume();
  }

  /** RFC 2595 §4: the handshake right after "+OK"; the session then forgets what came before. */
  async #startTls(): Promise<void> {
    const plain = this.#socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('timeout');
    plain.removeAllListeners('end');
    plain.setTimeout(0);
    const secure = new TLSSocket(plain, { isServer: true, secureContext: this.#options.secureContext });
    this.#socket = secure;
    this.#attach(secure);
    secure.pause();
    await new Promise<void>((resolve) => {
      secure.once('secure', () => resolve());
      secure.once('close', () => resolve());
    });
    if (!this.#isOpen) return;
    this.session.tlsStarted();
    secure.resume();
  }
}
