/**
 * The `smtp` exit codes (GUIDE §2.5), documented in the README. Scripts test these, so they never change.
 * A reply's class decides 2 or 3 (RFC 5321 §4.2.1: 4yz transient, 5yz permanent).
 */
export const exitCodes = {
  /** Everything worked: every recipient accepted, the probe or lookup succeeded. */
  ok: 0,
  /** Bad flags or input: nothing was sent. */
  usage: 1,
  /** The server answered 4xx (try again later), or DNS failed temporarily. */
  temporary: 2,
  /** The server answered 5xx (do not retry as is), or the domain accepts no mail. */
  permanent: 3,
  /** Could not connect, TLS failed or would be unsafe, or a step timed out. */
  network: 4,
  /** Some recipients (or some of --count messages) were accepted and some were not. */
  partial: 5,
  /**
   * smtp refused by itself, so the server never judged the message: it lacks what the message or the
   * flags need (SIZE too small, SMTPUTF8, 8BITMIME, DSN, REQUIRETLS, STARTTLS, AUTH), or going on would
   * send a password in the clear. Distinct from 3, which is always the server's 5xx.
   */
  refusedByClient: 6,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/** The single exit code for several outcomes (--count, bench): all alike → that code; mixed with success → partial. */
export function combineExitCodes(codes: readonly ExitCode[]): ExitCode {
  if (codes.length === 0) return exitCodes.ok;
  const failures = codes.filter((code) => code !== exitCodes.ok);
  if (failures.length === 0) return exitCodes.ok;
  if (failures.length < codes.length) return exitCodes.partial;
  const first = failures[0] as ExitCode;
  return failures.every((code) => code === first) ? first : exitCodes.partial;
}
