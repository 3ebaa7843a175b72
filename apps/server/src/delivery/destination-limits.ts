import { defaultWindowOptions, type WindowOptions } from './destination-window.js';
import { type DomainMap, lookupByDomain } from './domain-map.js';

/** One mta.destinations entry: the limits of one destination domain (or its subdomains, or `*`). */
export interface DestinationLimits {
  /** Deliveries to it at once, at most (the window grows up to this; default 20). */
  readonly maxConcurrency?: number | undefined;
  /** Deliveries started per second, at most (the config's "10/s", "600/m", "5000/h"); default none. */
  readonly rate?: number | undefined;
  /** Starts allowed at once after a pause, with a rate (the token bucket's size); default 1. */
  readonly burst?: number | undefined;
}

/**
 * The scheduler's window settings for `domain` (destination-window.ts): the defaults, with its
 * mta.destinations entry over them (domain-map.ts lookup). The window still starts small and
 * shrinks on trouble; the entry bounds it, as Postfix's per-destination concurrency limit and
 * rate delay do.
 */
export function windowOptionsFor(domain: string, limits: DomainMap<DestinationLimits>): WindowOptions {
  const entry = lookupByDomain(domain, limits);
  if (entry === undefined) return defaultWindowOptions;
  const max = entry.maxConcurrency ?? defaultWindowOptions.max;
  return {
    ...defaultWindowOptions,
    max,
    initial: Math.min(defaultWindowOptions.initial, max),
    rate: entry.rate ?? null,
    burst: entry.burst ?? 1,
  };
}
