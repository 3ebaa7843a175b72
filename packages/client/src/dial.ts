import { isIP, type NetConnectOpts, Socket } from 'node:net';
import { abortReason } from './abort.js';
import { SmtpConnectionError, SmtpTimeoutError } from './errors.js';

export interface DialOptions {
  /** A host name (Node resolves it and races IPv6/IPv4 itself) or one or more IP addresses. */
  readonly host?: string;
  /** Addresses already resolved (direct delivery): raced with happy eyeballs, in this order of preference. */
  readonly addresses?: readonly string[];
  readonly port?: number;
  readonly path?: string;
  readonly localAddress?: string;
  /**
   * The source address per address family, for `addresses`: an IPv4 address is dialed from `ipv4`,
   * an IPv6 one from `ipv6` (else `localAddress`, else the system's choice).
   */
  readonly localAddresses?: LocalAddresses;
  readonly connectMs: number;
  readonly signal?: AbortSignal | undefined;
}

/** Where connections to each address family come from (Postfix's smtp_bind_address and …6). */
export interface LocalAddresses {
  readonly ipv4?: string;
  readonly ipv6?: string;
}

/** RFC 8305 §5: the recommended delay before starting the next connection attempt. */
export const connectionAttemptDelayMs = 250;

/** Opens a TCP (or Unix socket) connection. Failures are SmtpConnectionError / SmtpTimeoutError('connect'). */
export async function dial(options: DialOptions): Promise<Socket> {
  if (options.addresses && options.addresses.length > 0) {
    return happyEyeballs(options.addresses, options);
  }
  const describe = options.path ?? `${options.host ?? 'localhost'}:${options.port}`;
  return attempt(
    options.path !== undefined
      ? { path: options.path }
      : {
          host: options.host ?? 'localhost',
          port: options.port ?? 587,
          // Node ≥ 20 races the resolved IPv6 and IPv4 addresses (RFC 8305) for host names.
          autoSelectFamily: true,
          autoSelectFamilyAttemptTimeout: connectionAttemptDelayMs,
          ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
        },
    describe,
    options,
  );
}

function attempt(
  target: NetConnectOpts,
  describe: string,
  options: DialOptions,
): Promise<Socket> & { cancel: () => void } {
  const socket = new Socket();
  let settle: (() => void) | null = null;
  const promise = new Promise<Socket>((resolve, reject) => {
    const { signal } = options;
    const timer = setTimeout(() => {
      fail(
        new SmtpTimeoutError('connect', options.connectMs, {
          message: `Timed out connecting to ${describe}`,
        }),
      );
    }, options.connectMs);
    const onAbort = () => fail(signal ? abortReason(signal) : undefined);
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (error: unknown) => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onConnect = () => {
      cleanup();
      resolve(socket);
    };
    const onError = (error: Error) => {
      fail(
        new SmtpConnectionError(`Could not connect to ${describe}: ${error.message}`, {
          cause: error,
          address: describe,
        }),
      );
    };
    settle = () =>
      fail(new SmtpConnectionError(`Connection attempt to ${describe} cancelled`, { address: describe }));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', onConnect);
    socket.once('error', onError);
    socket.connect(target);
  });
  return Object.assign(promise, { cancel: () => settle?.() });
}

/**
 * RFC 8305 happy eyeballs over addresses we resolved ourselves (direct MX delivery): the first address is
 * tried at once, the next one after 250 ms or as soon as the previous attempt fails, alternating address
 * families; the first connection to succeed wins and the others are cancelled.
 */
export function happyEyeballs(addresses: readonly string[], options: DialOptions): Promise<Socket> {
  const ordered = interleaveFamilies(addresses);
  const port = options.port ?? 25;
  return new Promise<Socket>((resolve, reject) => {
    const pending = new Set<ReturnType<typeof attempt>>();
    const errors: unknown[] = [];
    let next = 0;
    let done = false;
    let timer: NodeJS.Timeout | undefined;

    const startNext = () => {
      clearTimeout(timer);
      if (done) return;
      const address = ordered[next++];
      if (address === undefined) {
        if (pending.size === 0) finish(null);
        return;
      }
      const localAddress =
        (isIP(address) === 6 ? options.localAddresses?.ipv6 : options.localAddresses?.ipv4) ??
        options.localAddress;
      const current = attempt(
        { host: address, port, ...(localAddress !== undefined ? { localAddress } : {}) },
        isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`,
        options,
      );
      pending.add(current);
      current.then(
        (socket) => {
          pending.delete(current);
          if (done) socket.destroy();
          else finish(socket);
        },
        (error: unknown) => {
          pending.delete(current);
          errors.push(error);
          if (done) return;
          if (options.signal?.aborted) return finish(null);
          startNext();
        },
      );
      timer = setTimeout(startNext, connectionAttemptDelayMs);
    };

    const finish = (socket: Socket | null) => {
      done = true;
      clearTimeout(timer);
      for (const other of pending) other.cancel();
      if (socket) return resolve(socket);
      if (options.signal?.aborted) return reject(abortReason(options.signal));
      const last = errors[errors.length - 1];
      if (errors.length === 1 || last instanceof SmtpTimeoutError) return reject(last);
      reject(
        new SmtpConnectionError(`Could not connect to any of ${ordered.join(', ')} port ${port}`, {
          cause: new AggregateError(errors),
        }),
      );
    };

    if (ordered.length === 0) {
      reject(new SmtpConnectionError('No addresses to connect to'));
      return;
    }
    startNext();
  });
}

/** RFC 8305 §4: alternate address families, starting with the family of the first address. */
export function interleaveFamilies(addresses: readonly string[]): string[] {
  const first = addresses[0];
  if (first === undefined) return [];
  const firstFamily = isIP(first);
  const same = addresses.filter((address) => isIP(address) === firstFamily);
  const other = addresses.filter((address) => isIP(address) !== firstFamily);
  const result: string[] = [];
  for (let index = 0; index < Math.max(same.length, other.length); index++) {
    const a = same[index];
    const b = other[index];
    if (a !== undefined) result.push(a);
    if (b !== undefined) result.push(b);
  }
  return result;
}
