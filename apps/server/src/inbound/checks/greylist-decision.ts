/**
 * Greylisting (RFC 6647) as a pure function of (what the store knows, now) → (verdict, what to
 * store), with Postgrey's rules: a triplet (client network, sender, recipient) seen for the first
 * time is deferred; a retry after `delayMs` and within `retryWindowMs` of the first attempt passes;
 * a passed triplet stays passed while it keeps coming (entries unseen for `maxAgeMs` are forgotten);
 * a client network whose retries passed `autoWhitelistAfter` times is not greylisted any more.
 */

export interface GreylistSettings {
  readonly delayMs: number;
  readonly retryWindowMs: number;
  readonly maxAgeMs: number;
  /** 0: never auto-whitelist. */
  readonly autoWhitelistAfter: number;
}

export interface TripletRecord {
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
  /** Attempts that passed; 0 while the triplet is still waiting out its delay. */
  readonly passCount: number;
}

export interface ClientRecord {
  /** Passed attempts from this client network, over all its triplets. */
  readonly passCount: number;
  readonly lastSeenMs: number;
}

export interface GreylistDecision {
  readonly outcome: 'deferred' | 'pass' | 'whitelisted';
  readonly reason: string;
  /** What to store for the triplet; null: leave it as it is. */
  readonly triplet: TripletRecord | null;
  /** What to store for the client network; null: leave it as it is. */
  readonly client: ClientRecord | null;
}

export function decideGreylist(input: {
  readonly triplet: TripletRecord | null;
  readonly client: ClientRecord | null;
  readonly nowMs: number;
  readonly settings: GreylistSettings;
}): GreylistDecision {
  const { client, nowMs, settings } = input;
  if (
    client !== null &&
    settings.autoWhitelistAfter > 0 &&
    client.passCount >= settings.autoWhitelistAfter &&
    nowMs - client.lastSeenMs <= settings.maxAgeMs
  ) {
    return {
      outcome: 'whitelisted',
      reason: `client auto-whitelisted after ${client.passCount} passed retries`,
      triplet: null,
      client: { passCount: client.passCount, lastSeenMs: nowMs },
    };
  }
  const triplet = isExpired(input.triplet, nowMs, settings) ? null : input.triplet;
  if (triplet === null) {
    return {
      outcome: 'deferred',
      reason: `first attempt, retry after ${Math.ceil(settings.delayMs / 1000)} s`,
      triplet: { firstSeenMs: nowMs, lastSeenMs: nowMs, passCount: 0 },
      client: null,
    };
  }
  const waitedMs = nowMs - triplet.firstSeenMs;
  if (triplet.passCount === 0 && waitedMs < settings.delayMs) {
    return {
      outcome: 'deferred',
      reason: `retried too early, ${Math.ceil((settings.delayMs - waitedMs) / 1000)} s to go`,
      triplet: { ...triplet, lastSeenMs: nowMs },
      client: null,
    };
  }
  const clientPasses =
    (client === null || nowMs - client.lastSeenMs > settings.maxAgeMs ? 0 : client.passCount) + 1;
  return {
    outcome: 'pass',
    reason:
      triplet.passCount === 0
        ? `retried after ${Math.round(waitedMs / 1000)} s`
        : `triplet passed ${triplet.passCount} time(s) before`,
    triplet: { firstSeenMs: triplet.firstSeenMs, lastSeenMs: nowMs, passCount: triplet.passCount + 1 },
    client: { passCount: clientPasses, lastSeenMs: nowMs },
  };
}

/** A waiting triplet lapses after the retry window; a passed one after maxAge without mail. */
function isExpired(triplet: TripletRecord | null, nowMs: number, settings: GreylistSettings): boolean {
  if (triplet === null) return true;
  if (triplet.passCount === 0) return nowMs - triplet.firstSeenMs > settings.retryWindowMs;
  return nowMs - triplet.lastSeenMs > settings.maxAgeMs;
}
