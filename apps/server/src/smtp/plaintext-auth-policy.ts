import { isIP } from 'node:net';

export interface PlaintextAuthSetting {
  /** smtp.host: the address the listener is bound to. */
  readonly bindHost: string;
  /** Whether STARTTLS is offered: a client that can encrypt first should. */
  readonly isStartTlsOffered: boolean;
  /** smtp.auth.allowPlaintext; undefined = decide from the address. */
  readonly allowPlaintext: boolean | undefined;
}

export interface PlaintextAuthDecision {
  /** Offer and accept PLAIN/LOGIN before TLS. */
  readonly isAllowed: boolean;
  /** Allowed only because the setting says so: say at start that passwords may cross the network in clear. */
  readonly shouldWarn: boolean;
}

/**
 * Whether PLAIN/LOGIN may run before TLS, as `smtp serve` decides (packages/cli serve.ts): by
 * default only on a listener bound to a loopback address with no STARTTLS, where the password
 * never leaves the machine. The decision is by the bound address, not the client's: a listener on
 * 0.0.0.0 is reachable from the network whoever connects first. RFC 4954 §4: a server should not
 * offer plaintext mechanisms without a strong encryption layer.
 */
export function decidePlaintextAuth(setting: PlaintextAuthSetting): PlaintextAuthDecision {
  const isSafeByDefault = isLoopbackAddress(setting.bindHost) && !setting.isStartTlsOffered;
  if (setting.allowPlaintext === undefined) return { isAllowed: isSafeByDefault, shouldWarn: false };
  return { isAllowed: setting.allowPlaintext, shouldWarn: setting.allowPlaintext && !isSafeByDefault };
}

/** localhost, 127.0.0.0/8 and ::1: traffic to these never leaves the machine. */
export function isLoopbackAddress(host: string): boolean {
  const bare = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return bare === 'localhost' || bare === '::1' || (isIP(bare) === 4 && bare.startsWith('127.'));
}
