import { describe, expect, it } from 'vitest';
import { createSrs } from './srs.js';

const srs = createSrs({ secret: 'a secret of sixteen+', domain: 'fwd.test', maxAgeDays: 21 });
const now = Date.UTC(2026, 11, 6, 12);
const dayMs = 86_400_000;

describe('SRS0', () => {
  it('rewrites the sender into our domain and reverses it', () => {
    const rewritten = srs.forward('alice@example.org', now);
    expect(rewritten).toMatch(/^SRS0=[^=]{4}=[A-Z2-7]{2}=example\.org=alice@fwd\.test$/);
    const localPart = rewritten.slice(0, rewritten.lastIndexOf('@'));
    expect(srs.reverse(localPart, now)).toBe('alice@example.org');
    // Another MTA may lower-case the local part.
    expect(srs.reverse(localPart.toLowerCase(), now + dayMs)).toBe('alice@example.org');
  });

  it('refuses a forged hash, another secret, and an expired timestamp', () => {
    const localPart = srs.forward('alice@example.org', now).split('@')[0] as string;
    const forged = localPart.replace(/^SRS0=[^=]{4}/, 'SRS0=AAAA');
    expect(srs.reverse(forged, now)).toBeNull();
    const other = createSrs({ secret: 'another secret value', domain: 'fwd.test', maxAgeDays: 21 });
    expect(other.reverse(localPart, now)).toBeNull();
    expect(srs.reverse(localPart, now + 21 * dayMs)).toBe('alice@example.org');
    expect(srs.reverse(localPart, now + 22 * dayMs)).toBeNull();
    expect(srs.reverse('alice', now)).toBeNull();
  });
});
