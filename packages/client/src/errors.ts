import { SmtpError, SmtpReplyError } from '@smtp/protocol';

/**
 * The network failed: DNS, connect, a reset or the server closing the connection. `cause` holds the
 * Node error (`ECONNREFUSED`, `ECONNRESET`, ...). `isTemporary` is always true: trying again later may work.
 */
export class SmtpConnectionError extends SmtpError {
  override readonly name = 'SmtpConnectionError';
  /** The Node error code when there is one, e.g. `ECONNREFUSED`. */
  readonly errorCode: string | null;
  /** `host:port` (or the socket path) the client was talking to. */
  readonly address: string | null;

  constructor(message: string, options: { cause?: unknown; address?: string } = {}) {
    super(message, { cause: options.cause });
    this.errorCode = nodeErrorCode(options.cause);
    this.address = options.address ?? null;
  }
  get isTemporary(): boolean {
    return true;
  }
}

/**
 * TLS could not be established or would not be safe: a handshake or certificate failure, or a
 * `starttls: 'required'` policy the server cannot satisfy. `cause` holds the Node TLS error.
 */
export class SmtpTlsError extends SmtpError {
  override readonly name = 'SmtpTlsError';
  /** The Node/OpenSSL error code when there is one, e.g. `DEPTH_ZERO_SELF_SIGNED_CERT`, `ERR_TLS_CERT_ALTNAME_INVALID`. */
  readonly errorCode: string | null;

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.errorCode = nodeErrorCode(options.cause);
  }
}

/** What ran out of time: a connect, a protocol step (RFC 5321 §4.5.3.2 kinds), or the overall send deadline. */
export type TimeoutKind = 'connect' | 'tls-handshake' | 'send' | 'idle' | (string & {});

/** A step took longer than its timeout, or the send passed its overall deadline. The connection is closed. */
export class SmtpTimeoutError extends SmtpError {
  override readonly name = 'SmtpTimeoutError';
  readonly kind: TimeoutKind;
  readonly timeoutMs: number;

  constructor(kind: TimeoutKind, timeoutMs: number, options: { cause?: unknown; message?: string } = {}) {
    super(options.message ?? `Timed out after ${timeoutMs} ms waiting for ${kind}`, { cause: options.cause });
    this.kind = kind;
    this.timeoutMs = timeoutMs;
  }
  get isTemporary(): boolean {
    return true;
  }
}

function nodeErrorCode(cause: unknown): string | null {
  if (typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string') {
    return cause.code;
  }
  return null;
}

/** A thrown value as an Error (anything can be thrown). */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** A 421: the server is closing the connection (RFC 5321 §3.8). */
export function isServerShutdown(error: unknown): boolean {
  return error instanceof SmtpReplyError && error.code === 421;
}

/**
 * The connection died or the server is closing it: a transaction that failed so before its data
 * went out may be tried again on a fresh connection (the pool, deliver() with kept connections).
 */
export function isConnectionLost(error: unknown): boolean {
  return error instanceof SmtpConnectionError || isServerShutdown(error);
}
