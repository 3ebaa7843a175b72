import { describe, expect, it } from 'vitest';
import { decideDmarcDisposition } from './dmarc-disposition.js';

const noArc = { result: 'none', sealer: null } as const;

describe('DMARC disposition', () => {
  it('applies p= only to failures, and only when enforced', () => {
    const base = { policy: 'reject', isEnforced: true, arc: noArc, trustedSealers: [] } as const;
    expect(decideDmarcDisposition({ ...base, result: 'fail' }).disposition).toBe('reject');
    expect(decideDmarcDisposition({ ...base, result: 'pass' }).disposition).toBe('none');
    expect(decideDmarcDisposition({ ...base, result: 'temperror' }).disposition).toBe('none');
    expect(decideDmarcDisposition({ ...base, result: 'fail', isEnforced: false }).disposition).toBe('none');
    expect(decideDmarcDisposition({ ...base, result: 'fail', policy: 'quarantine' }).disposition).toBe(
      'quarantine',
    );
    expect(decideDmarcDisposition({ ...base, result: 'fail', policy: 'none' }).disposition).toBe('none');
  });

  it('lets a passing ARC chain from a trusted sealer override a failure (RFC 8617 §7.2)', () => {
    const base = { result: 'fail', policy: 'reject', isEnforced: true } as const;
    const arc = { result: 'pass', sealer: 'list.test' } as const;
    expect(decideDmarcDisposition({ ...base, arc, trustedSealers: ['list.test'] }).disposition).toBe('none');
    expect(decideDmarcDisposition({ ...base, arc, trustedSealers: ['other.test'] }).disposition).toBe(
      'reject',
    );
    expect(
      decideDmarcDisposition({
        ...base,
        arc: { result: 'fail', sealer: 'list.test' },
        trustedSealers: ['list.test'],
      }).disposition,
    ).toBe('reject');
  });
});
