import type { ArcVerdict, CheckResult, DmarcPolicy } from './inbound-verdicts.js';

/**
 * What we do about a DMARC result (RFC 9989, formerly RFC 7489 §6.6.2): a failing message gets
 * the domain's policy unless enforcement is off, or a sealer we trust vouches that it passed
 * before it was changed on its way (RFC 8617 §7.2: ARC as input to local policy).
 */
export function decideDmarcDisposition(input: {
  readonly result: CheckResult;
  readonly policy: DmarcPolicy | null;
  readonly isEnforced: boolean;
  readonly arc: Pick<ArcVerdict, 'result' | 'sealer'>;
  readonly trustedSealers: readonly string[];
}): { readonly disposition: DmarcPolicy; readonly reason: string } {
  if (input.result !== 'fail') return { disposition: 'none', reason: `dmarc=${input.result}` };
  if (input.policy === null || input.policy === 'none')
    return { disposition: 'none', reason: 'failed, the domain asks for no action (p=none)' };
  if (!input.isEnforced)
    return { disposition: 'none', reason: `failed, p=${input.policy} not enforced here` };
  const sealer = input.arc.sealer;
  if (input.arc.result === 'pass' && sealer !== null && input.trustedSealers.includes(sealer))
    return {
      disposition: 'none',
      reason: `failed, p=${input.policy} overridden: ARC chain sealed by trusted ${sealer} passed`,
    };
  return { disposition: input.policy, reason: `failed, p=${input.policy} applied` };
}
