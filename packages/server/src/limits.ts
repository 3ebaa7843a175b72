import { BlockList, isIP } from 'node:net';
import { type ReplyInit, replies } from '@smtp/protocol';

export interface ConnectionLimitOptions {
  /** Connections open at once across all listeners. Default 10,000. */
  readonly maxConnections?: number;
  /**
   * Connections open at once from one client address (IPv6: one /64). Default 50, as Postfix's
   * smtpd_client_connection_count_limit; 0 = no limit.
   */
  readonly maxConnectionsPerIp?: number;
  /**
   * Connection attempts from one client address (IPv6: one /64) per `connectionRateWindowMs`, refused
   * ones included. Default 100 a minute (Postfix's smtpd_client_connection_rate_limit); 0 = no limit.
   */
  readonly maxConnectionRatePerIp?: number;
  /** The window of `maxConnectionRatePerIp`. Default 60 s (Postfix's anvil_rate_time_unit). */
  readonly connectionRateWindowMs?: number;
  /**
   * Addresses and CIDR ranges exempt from the per-address count and rate (Postfix's
   * smtpd_client_event_limit_exceptions), e.g. your own relays. Default: loopback
   * (`defaultConnectionLimitExemptions`), as Postfix exempts $mynetworks; `[]` counts loopback too.
   */
  readonly connectionLimitExemptions?: readonly string[];
}

/**
 * Loopback clients are this machine's own programs (a test suite sending without a pool, a local web
 * app): the per-address limits guard against remote clients, so by default they do not count.
 */
export const defaultConnectionLimitExemptions: readonly string[] = ['127.0.0.0/8', '::1/128'];

/** Why a connection was refused, or 'ok'. */
export type Admission = 'ok' | 'total' | 'per-ip' | 'rate';

/** Strips the IPv4-mapped IPv6 prefix so `::ffff:192.0.2.1` and `192.0.2.1` count as one address. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * The unit the per-address limits count: an IPv4 address, or the /64 of an IPv6 address (one host or
 * site usually holds a whole /64, so counting single IPv6 addresses would not limit anyone). Null for
 * what is not an IP address (Unix sockets): local, not counted.
 */
export function clientKey(address: string): string | null {
  const type = isIP(address);
  if (type === 4) return address;
  if (type !== 6) return null;
  const zone = address.indexOf('%');
  const bare = zone >= 0 ? address.slice(0, zone) : address;
  const [head = '', tail] = bare.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  if (tail !== undefined) {
    // "::" stands for as many zero groups as are missing; a dotted IPv4 tail fills two.
    const tailGroupCount =
      tail === '' ? 0 : tail.split(':').reduce((sum, group) => sum + (group.includes('.') ? 2 : 1), 0);
    for (let missing = 8 - headGroups.length - tailGroupCount; missing > 0; missing--) headGroups.push('0');
  }
  const prefix = headGroups.slice(0, 4).map((group) => Number.parseInt(group || '0', 16).toString(16));
  return `${prefix.join(':')}::/64`;
}

/** The 421 4.7.0 a refused client gets, naming its address as Postfix does. */
export function refusalReply(admission: Exclude<Admission, 'ok'>, address: string): ReplyInit {
  switch (admission) {
    case 'total':
      return replies.tooManyConnections;
    case 'per-ip':
      return { code: 421, enhanced: '4.7.0', text: `Too many connections from ${address}, try again later` };
    case 'rate':
      return {
        code: 421,
        enhanced: '4.7.0',
        text: `Too many connection attempts from ${address}, try again later`,
      };
  }
}

/** Counts open connections, in total and per client address (IPv6: per /64), and recent attempts. */
export class ConnectionLimiter {
  readonly #maxConnections: number;
  readonly #maxConnectionsPerIp: number;
  readonly #perAddress = new Map<string, number>();
  readonly #attempts: AttemptCounter;
  readonly #exemptions: AddressMatcher;
  #total = 0;

  constructor(options: ConnectionLimitOptions = {}, now: () => number = Date.now) {
    this.#maxConnections = options.maxConnections ?? 10_000;
    this.#maxConnectionsPerIp = options.maxConnectionsPerIp ?? 50;
    this.#attempts = new AttemptCounter(
      options.maxConnectionRatePerIp ?? 100,
      options.connectionRateWindowMs ?? 60_000,
      now,
    );
    this.#exemptions = new AddressMatcher(
      options.connectionLimitExemptions ?? defaultConnectionLimitExemptions,
    );
  }

  get total(): number {
    return this.#total;
  }

  get maxConnections(): number {
    return this.#maxConnections;
  }

  /** Reserves a slot, or says why not. Every 'ok' must be paired with one release() of the same address. */
  acquire(address: string): Admission {
    const key = this.#keyOf(address);
    // An attempt counts even when refused: a client hammering the port stays refused.
    const isOverRate = key !== null && this.#attempts.record(key);
    if (this.#maxConnections > 0 && this.#total >= this.#maxConnections) return 'total';
    if (key !== null) {
      const count = this.#perAddress.get(key) ?? 0;
      if (this.#maxConnectionsPerIp > 0 && count >= this.#maxConnectionsPerIp) return 'per-ip';
      if (isOverRate) return 'rate';
      this.#perAddress.set(key, count + 1);
    }
    this.#total += 1;
    return 'ok';
  }

  release(address: string): void {
    const key = this.#keyOf(address);
    if (key !== null) {
      const count = this.#perAddress.get(key) ?? 0;
      if (count <= 1) this.#perAddress.delete(key);
      else this.#perAddress.set(key, count - 1);
    }
    this.#total -= 1;
  }

  #keyOf(address: string): string | null {
    if (this.#exemptions.matches(address)) return null;
    return clientKey(address);
  }
}

/** Attempts per key in fixed windows; memory stays bounded under a wide attack. */
class AttemptCounter {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, { count: number; start: number }>();

  constructor(max: number, windowMs: number, now: () => number) {
    this.#max = max;
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** Counts one attempt; true when it is over the limit. */
  record(key: string): boolean {
    if (this.#max <= 0) return false;
    const now = this.#now();
    const window = this.#windows.get(key);
    if (window === undefined || now - window.start >= this.#windowMs) {
      if (this.#windows.size >= maxTrackedAddresses) this.#prune(now);
      this.#windows.set(key, { count: 1, start: now });
      return false;
    }
    window.count += 1;
    return window.count > this.#max;
  }

  #prune(now: number): void {
    for (const [key, window] of this.#windows) {
      if (now - window.start >= this.#windowMs) this.#windows.delete(key);
    }
    // Still full: forget the oldest half rather than grow without bound.
    if (this.#windows.size >= maxTrackedAddresses) {
      let toDrop = this.#windows.size / 2;
      for (const key of this.#windows.keys()) {
        if (toDrop-- <= 0) break;
        this.#windows.delete(key);
      }
    }
  }
}

const maxTrackedAddresses = 100_000;

export interface AuthThrottleOptions {
  /** Failed AUTH attempts per client address within the window before AUTH is refused with 454. Default 10; 0 = off. */
  readonly maxAuthFailures?: number;
  /** Window for counting failures. Default 10 minutes. */
  readonly authFailureWindowMs?: number;
}

/** Refuses AUTH from addresses that failed too often recently (password guessing). */
export class AuthThrottle {
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #failures = new Map<string, { count: number; windowStart: number }>();
  readonly #now: () => number;

  constructor(options: AuthThrottleOptions = {}, now: () => number = Date.now) {
    this.#maxFailures = options.maxAuthFailures ?? 10;
    this.#windowMs = options.authFailureWindowMs ?? 600_000;
    this.#now = now;
  }

  isThrottled(address: string): boolean {
    if (this.#maxFailures <= 0) return false;
    const entry = this.#failures.get(address);
    if (!entry) return false;
    if (this.#now() - entry.windowStart > this.#windowMs) {
      this.#failures.delete(address);
      return false;
    }
    return entry.count >= this.#maxFailures;
  }

  recordFailure(address: string): void {
    if (this.#maxFailures <= 0) return;
    const now = this.#now();
    const entry = this.#failures.get(address);
    if (!entry || now - entry.windowStart > this.#windowMs) {
      // Bound memory under a wide attack: drop expired entries before growing.
      if (this.#failures.size >= 100_000) this.#prune(now);
      this.#failures.set(address, { count: 1, windowStart: now });
    } else {
      entry.count += 1;
    }
  }

  #prune(now: number): void {
    for (const [address, entry] of this.#failures) {
      if (now - entry.windowStart > this.#windowMs) this.#failures.delete(address);
    }
    // Still full: forget the oldest half rather than grow without bound.
    if (this.#failures.size >= 100_000) {
      let toDrop = this.#failures.size / 2;
      for (const address of this.#failures.keys()) {
        if (toDrop-- <= 0) break;
        this.#failures.delete(address);
      }
    }
  }
}

/** A set of addresses and CIDR ranges ("10.0.0.0/8", "2001:db8::/32", "127.0.0.1"). */
export class AddressMatcher {
  readonly #list = new BlockList();
  readonly isEmpty: boolean;

  constructor(entries: readonly string[]) {
    this.isEmpty = entries.length === 0;
    for (const entry of entries) {
      const [address = '', prefix] = entry.split('/');
      const type = isIP(address);
      if (type === 0) throw new TypeError(`Not an IP address or CIDR range: ${entry}`);
      const family = type === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) this.#list.addAddress(address, family);
      else this.#list.addSubnet(address, Number(prefix), family);
    }
  }

  matches(address: string | undefined): boolean {
    if (this.isEmpty || address === undefined) return false;
    const normalized = normalizeAddress(address);
    const type = isIP(normalized);
    if (type === 0) return false;
    return this.#list.check(normalized, type === 4 ? 'ipv4' : 'ipv6');
  }
}
