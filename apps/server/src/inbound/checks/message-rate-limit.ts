import { clientKey } from '@smtp/server';
import type { InboundReply } from './inbound-verdicts.js';

const windowMs = 60_000;
/** Clients remembered at once; under a wide attack the oldest windows are forgotten first. */
const maxTrackedClients = 100_000;

/**
 * Messages per minute from one client on the mx listeners (mta.inboundChecks.connection
 * .maxMessagesPerMinutePerIp), counted at MAIL in fixed one-minute windows. The unit is what
 * @smtp/server's per-address limits count: an IPv4 address or the /64 of an IPv6 address.
 */
export class MessageRateLimit {
  readonly #maxPerMinute: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, { count: number; startMs: number }>();

  constructor(maxPerMinute: number, now: () => number = Date.now) {
    this.#maxPerMinute = maxPerMinute;
    this.#now = now;
  }

  /** Counts one MAIL from this client; the 450 to answer when it is over the limit, else null. */
  admit(address: string): InboundReply | null {
    const key = clientKey(address.startsWith('::ffff:') ? address.slice(7) : address);
    if (key === null) return null; // not an IP address (a Unix socket): local
    const nowMs = this.#now();
    const window = this.#windows.get(key);
    if (window === undefined || nowMs - window.startMs >= windowMs) {
      if (window === undefined && this.#windows.size >= maxTrackedClients) this.#prune(nowMs);
      this.#windows.set(key, { count: 1, startMs: nowMs });
      return null;
    }
    window.count += 1;
    if (window.count <= this.#maxPerMinute) return null;
    const waitSeconds = Math.max(1, Math.ceil((window.startMs + windowMs - nowMs) / 1000));
    // RFC 3463 §3.8: X.7.1, delivery not authorized (here: not now); 4xx so the sender retries.
    return {
      code: 450,
      enhanced: '4.7.1',
      text: `Too many messages from ${key} (more than ${this.#maxPerMinute} a minute); try again in ${waitSeconds} s`,
    };
  }

  #prune(nowMs: number): void {
    for (const [key, window] of this.#windows)
      if (nowMs - window.startMs >= windowMs) this.#windows.delete(key);
    let toDrop = this.#windows.size - maxTrackedClients / 2;
    for (const key of this.#windows.keys()) {
      if (toDrop-- <= 0) break;
      this.#windows.delete(key);
    }
  }
}
