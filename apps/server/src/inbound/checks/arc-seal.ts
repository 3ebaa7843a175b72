import type { KeyObject } from 'node:crypto';
import { sealMessage } from 'mailauth';
import type { CheckResult } from './inbound-verdicts.js';

export interface ArcSealOptions {
  /** d= and s= of the seal: a key published like a DKIM key (s._domainkey.d). */
  readonly domain: string;
  readonly selector: string;
  /** RSA, 2048 bits or more: ARC signs with rsa-sha256 only (RFC 8617 §4.1.3; no Ed25519 yet). */
  readonly privateKey: KeyObject;
  /**
   * What we found on arrival, as in our Authentication-Results value without the field name
   * (`mx.example; dkim=pass …`): the ARC-Authentication-Results of our instance (RFC 8617 §4.1.1).
   */
  readonly authenticationResults: string;
  /** The incoming chain's verdict: cv= of our seal (RFC 8617 §4.1.3; none when there was no chain). */
  readonly chainValidation: Extract<CheckResult, 'none' | 'pass' | 'fail'>;
  readonly nowMs: number;
}

/**
 * Seals a message we forward (alias to an external address, list expansion) with one more ARC set
 * (RFC 8617 §5.1): ARC-Authentication-Results, ARC-Message-Signature and ARC-Seal at instance i+1,
 * so the next receiver can trust our verdicts when our forwarding breaks SPF or DKIM. Returns the
 * message with the set in front. Signing is mailauth's.
 */
export async function sealForwardedMessage(message: Uint8Array, options: ArcSealOptions): Promise<Buffer> {
  const type = options.privateKey.asymmetricKeyType;
  if (type !== 'rsa') throw new Error(`ARC seals with RSA keys (rsa-sha256), not ${type}`);
  const input = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  const seal = await sealMessage(input, {
    signingDomain: options.domain,
    selector: options.selector,
    privateKey: options.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    algorithm: 'rsa-sha256',
    signTime: new Date(options.nowMs),
    // Not in mailauth's declared options, but read by createSeal.
    ...({ cv: options.chainValidation, authResults: options.authenticationResults } as object),
  });
  // mailauth leaves a signature out (an empty line in its place) when it cannot make it; a seal
  // without its ARC-Message-Signature would end the header section early and break the chain.
  const fields = seal
    .toString('latin1')
    .split(/\r\n(?![ \t])/)
    .filter((field) => field !== '');
  const names = fields.map((field) => field.slice(0, field.indexOf(':')).toLowerCase()).sort();
  if (names.join() !== 'arc-authentication-results,arc-message-signature,arc-seal')
    throw new Error(`ARC sealing failed: got ${names.join(', ') || 'nothing'}`);
  return Buffer.concat([seal, input]);
}
