import { BlockList, isIP } from 'node:net';

export interface ConnectionLimitOptions {
  /** Connections open at once across all listeners. Default 10,000. */
  readonly maxConnections?: number;
  /** Connections open at once from one client address. Default 0 (no limit). */
  readonly maxConnectionsPerIp?: number;
}

/** Strips the IPv4-mapped IPv6 prefix so `::ffff:192.0.2.1` and `192.0.2.1` count as one address. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** Counts open connections, in total and per client address. */
export class ConnectionLimiter {
  readonly #maxConnections: number;
  readonly #maxConnectionsPerIp: number;
  readonly #perAddress = new Map<string, number>();
  #total = 0;

  constructor(options: ConnectionLimitOptions = {}) {
    this.#maxConnections = options.maxConnections ?? 10_000;
    this.#maxConnectionsPerIp = options.maxConnectionsPerIp ?? 0;
  }

  get total(): number {
    return this.#total;
  }

  /** Reserves a slot, or says why not. Every `true` must be paired with one release(). */
  acquire(address: string): 'ok' | 'total' | 'per-ip' {
    if (this.#maxConnections > 0 && this.#total >= this.#maxConnections) return 'total';
    const count = this.#perAddress.get(address) ?? 0;
    if (this.#maxConnectionsPerIp > 0 && count >= this.#maxConnectionsPerIp) return 'per-ip';
    this.#perAddress.set(address, count + 1);
    this.#total += 1;
    return 'ok';
  }

  release(address: string): void {
    const count = this.#perAddress.get(address) ?? 0;
    if (count <= 1) this.#perAddress.delete(address);
    else this.#perAddress.set(address, count - 1);
    this.#total -= 1;
  }
}

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
