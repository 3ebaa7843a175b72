import { type Capabilities, type Reply, SmtpUsageError } from '@smtp/protocol';
import { SendDeadline } from './abort.js';
import type { ConnectionInit } from './connection.js';
import { establish } from './establish.js';
import type {
  AuthOptions,
  ClientOptions,
  PoolOptions,
  SendOptions,
  SendResult,
  StartTlsPolicy,
} from './options.js';
import { Pool } from './pool.js';
import { prepareSend } from './prepare-send.js';
import { resolveAuth } from './resolve-auth.js';
import { queueIdOf, runTransaction, throwIfUndelivered } from './send-transaction.js';
import { resolveTimeouts } from './timeouts.js';
import type { TlsDetails } from './tls-details.js';

export interface SmtpClient {
  /**
   * Sends one message. Resolves when the server accepted it for at least one recipient (the result lists
   * who was refused); throws SmtpReplyError when nobody got it, SmtpCapabilityError before sending when
   * the server lacks what the message needs, SmtpConnectionError / SmtpTlsError / SmtpTimeoutError for
   * network, TLS and time failures, or the signal's reason when aborted.
   */
  send(options: SendOptions): Promise<SendResult>;
  /**
   * Checks the settings on a connection of its own: connect, EHLO, STARTTLS and AUTH as configured, QUIT.
   * Resolves with what the server offered; throws the same errors as `send()` would, saying what to set.
   */
  verify(options?: { signal?: AbortSignal }): Promise<VerifyResult>;
  /**
   * Waits for queued and running sends, then QUITs every connection. Later sends are refused. Optional:
   * idle connections never keep the process alive, so a script that forgets it still exits.
   */
  close(): Promise<void>;
  /** Drops every connection at once; queued and running sends fail. */
  destroy(): void;
  /** Open (or opening) connections and sends waiting for one, for monitoring. */
  readonly stats: { readonly connections: number; readonly pending: number };
}

export interface VerifyResult {
  /** The 220 greeting. */
  readonly greeting: Reply;
  /** What the server offers, from the last EHLO (after STARTTLS when it was used). */
  readonly capabilities: Capabilities;
  /** The TLS layer when there was one (implicit TLS or STARTTLS), else null. */
  readonly tls: TlsDetails | null;
  /** Credentials were given and the server accepted them. */
  readonly isAuthenticated: boolean;
}

const startTlsPolicies: readonly StartTlsPolicy[] = ['opportunistic', 'required', 'never'];

const defaultPool = {
  maxConnections: 5,
  maxMessagesPerConnection: 100,
  idleTimeoutMs: 10_000,
} as const;

/**
 * An SMTP (or LMTP) client for one server: pooled connections, STARTTLS or implicit TLS, AUTH, and
 * per-step timeouts plus an overall deadline for every send.
 */
export function createClient(options: ClientOptions = {}): SmtpClient {
  const init = resolveConnectionInit(options);
  const timeouts = init.timeouts;
  const poolOptions: PoolOptions =
    options.pool === false
      ? { maxConnections: Number.POSITIVE_INFINITY, maxMessagesPerConnection: 1, idleTimeoutMs: 0 }
      : options.pool === true || options.pool === undefined
        ? {}
        : options.pool;
  validatePool(poolOptions);
  const pool = new Pool({
    maxConnections: poolOptions.maxConnections ?? defaultPool.maxConnections,
    maxMessagesPerConnection: poolOptions.maxMessagesPerConnection ?? defaultPool.maxMessagesPerConnection,
    idleTimeoutMs: poolOptions.idleTimeoutMs ?? defaultPool.idleTimeoutMs,
    maxMessagesPerSecond: poolOptions.maxMessagesPerSecond ?? null,
    resetBetweenMessages: poolOptions.resetBetweenMessages ?? 'after-failure',
    open: () => establish(init),
  });

  return {
    async send(sendOptions) {
      const started = performance.now();
      // One timer per send for the overall deadline; no AbortController unless the caller brought a signal.
      const deadline = new SendDeadline(sendOptions?.signal, timeouts.sendMs);
      try {
        const opened = prepareSend(sendOptions);
        const prepared = opened instanceof Promise ? await raceDeadline(opened, deadline) : opened;
        // A stream is read past its peeked head only once the server is ready for data, so a send retried
        // before that point (pool: 421 or a dropped connection) still has the whole message.
        const attempt = await pool.run(async (connection, attempt) => {
          const outcome = await runTransaction(connection, prepared, attempt, undefined);
          return { outcome, queuedMs: attempt.queuedMs };
        }, deadline);
        const { outcome, queuedMs } = attempt;
        throwIfUndelivered(outcome);
        return {
          accepted: outcome.accepted,
          rejected: outcome.rejected,
          reply: outcome.reply,
          ...queueIdOf(outcome.reply),
          messageBytes: outcome.messageBytes,
          timings: { queuedMs, transactionMs: outcome.transactionMs, totalMs: performance.now() - started },
        };
      } catch (error) {
        throw deadline.isCancelled ? deadline.reason : error;
      } finally {
        deadline.dispose();
      }
    },
    async verify(verifyOptions) {
      const connection = await establish(init, verifyOptions?.signal);
      const result: VerifyResult = {
        greeting: connection.greeting!,
        capabilities: connection.capabilities!,
        tls: connection.tlsDetails,
        isAuthenticated: init.auth !== undefined,
      };
      await connection.quit();
      return result;
    },
    close: () => pool.close(),
    destroy: () => pool.destroy(),
    get stats() {
      return { connections: pool.size, pending: pool.pending };
    },
  };
}

export function resolveConnectionInit(options: ClientOptions): ConnectionInit & {
  starttls: 'required' | 'opportunistic' | 'never';
  auth: AuthOptions | undefined;
} {
  const secure = options.secure ?? false;
  const lmtp = options.lmtp ?? false;
  if (options.name !== undefined && /[\s\0]/.test(options.name)) {
    throw new SmtpUsageError(
      `name must be a domain or address literal without spaces or line breaks: ${JSON.stringify(options.name)}`,
    );
  }
  if (
    options.port !== undefined &&
    !(Number.isInteger(options.port) && options.port > 0 && options.port < 65536)
  ) {
    throw new SmtpUsageError(`port must be 1..65535, got ${options.port}`);
  }
  if (options.starttls !== undefined && !startTlsPolicies.includes(options.starttls)) {
    throw new SmtpUsageError(
      `starttls must be 'opportunistic' (the default), 'required' or 'never', got ${JSON.stringify(options.starttls)}; for TLS from the first byte (port 465) set secure: true`,
    );
  }
  return {
    ...(options.path === undefined ? { host: options.host ?? 'localhost' } : {}),
    port: options.port ?? (secure ? 465 : lmtp ? 24 : 587),
    ...(options.path !== undefined ? { path: options.path } : {}),
    secure,
    tls: options.tls ?? {},
    timeouts: resolveTimeouts(options.timeouts),
    ...(options.name !== undefined ? { name: options.name } : {}),
    lmtp,
    pipelining: options.pipelining ?? true,
    chunking: options.chunking ?? true,
    ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
    // Opportunistic by default, as nodemailer users expect: local catchers offer no STARTTLS. Credentials
    // still wait for TLS unless the server is on loopback (auth-for-connection.ts).
    starttls: secure ? 'never' : (options.starttls ?? 'opportunistic'),
    auth: resolveAuth(options.auth),
  };
}

/** Waits for `promise` unless the send is cancelled first (a message stream that never yields its head). */
function raceDeadline<T>(promise: Promise<T>, deadline: SendDeadline): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    deadline.onCancel(reject);
    promise.then(resolve, reject).finally(() => deadline.onCancel(null));
  });
}

function validatePool(pool: PoolOptions): void {
  const positive = (value: number | undefined, name: string) => {
    if (value !== undefined && !(value > 0))
      throw new SmtpUsageError(`pool.${name} must be a positive number, got ${value}`);
  };
  positive(pool.maxConnections, 'maxConnections');
  positive(pool.maxMessagesPerConnection, 'maxMessagesPerConnection');
  positive(pool.maxMessagesPerSecond, 'maxMessagesPerSecond');
  if (pool.idleTimeoutMs !== undefined && !(pool.idleTimeoutMs >= 0)) {
    throw new SmtpUsageError(`pool.idleTimeoutMs must be >= 0, got ${pool.idleTimeoutMs}`);
  }
}
