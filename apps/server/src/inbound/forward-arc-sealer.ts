import type { KeyObject } from 'node:crypto';
import type { Logger } from '../observability/logger.js';
import { sealForwardedMessage } from './checks/arc-seal.js';
import type { CheckResult } from './inbound-checks.js';

/** Adds our ARC set to a received message we forward; the message as it was when it cannot. */
export type ForwardArcSealer = (
  message: Uint8Array,
  checks: readonly CheckResult[],
  nowMs: number,
) => Promise<Uint8Array>;

export interface ForwardArcSealerOptions {
  /** d= of the seal: a local domain whose DNS has `<selector>._domainkey` (the DKIM key's record). */
  readonly domain: string;
  readonly selector: string;
  /** RSA: ARC seals with rsa-sha256 only (RFC 8617 §4.1.3). */
  readonly privateKey: KeyObject;
  /** Our authserv-id (the host name), for a message that carries no Authentication-Results of ours. */
  readonly authservId: string;
  readonly logger: Logger;
}

/**
 * ARC for forwards (RFC 8617 §5.1): when an mx-received message leaves again for an external
 * address (alias → external, SRS sender), our SPF and (after any change) DKIM verdicts no longer
 * travel with it; the ARC set carries what we found on arrival (our Authentication-Results) and
 * the incoming chain's verdict, so the next receiver can trust them. A failure to seal is logged
 * and the message forwarded unsealed: the mail is never lost for want of a seal.
 */
export function createForwardArcSealer(options: ForwardArcSealerOptions): ForwardArcSealer {
  return async (message, checks, nowMs) => {
    try {
      return await sealForwardedMessage(message, {
        domain: options.domain,
        selector: options.selector,
        privateKey: options.privateKey,
        authenticationResults: ourAuthenticationResults(message) ?? `${options.authservId}; none`,
        chainValidation: chainValidationOf(checks),
        nowMs,
      });
    } catch (error) {
      options.logger.warn({ err: error }, 'ARC sealing of a forwarded message failed; forwarded unsealed');
      return message;
    }
  };
}

/** cv= (RFC 8617 §4.1.3): none without an incoming chain, pass when it validated, else fail. */
function chainValidationOf(checks: readonly CheckResult[]): 'none' | 'pass' | 'fail' {
  const arc = checks.find((entry) => entry.check === 'arc')?.result ?? 'none';
  return arc === 'none' || arc === 'pass' ? arc : 'fail';
}

/**
 * The value of the first Authentication-Results field, unfolded: ours, as the checks stage puts it
 * first (after our Received line); null without one (no checks ran).
 */
function ourAuthenticationResults(message: Uint8Array): string | null {
  const text = Buffer.from(message.buffer, message.byteOffset, message.byteLength).toString('latin1');
  const header = text.slice(0, Math.max(0, text.indexOf('\r\n\r\n')) + 2);
  const field = /^Authentication-Results:[ \t]*([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)/im.exec(header)?.[1];
  if (field === undefined) return null;
  return field.replace(/\r\n([ \t])/g, '$1').trim();
}
