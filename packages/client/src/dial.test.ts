import { describe, expect, it } from 'vitest';
import { interleaveFamilies } from './dial.js';

describe('interleaveFamilies (RFC 8305 §4)', () => {
  it('alternates families starting with the first address family', () => {
    expect(interleaveFamilies(['2001:db8::1', '2001:db8::2', '192.0.2.1', '192.0.2.2', '192.0.2.3'])).toEqual(
      ['2001:db8::1', '192.0.2.1', '2001:db8::2', '192.0.2.2', '192.0.2.3'],
    );
    expect(interleaveFamilies(['192.0.2.1', '2001:db8::1'])).toEqual(['192.0.2.1', '2001:db8::1']);
    expect(interleaveFamilies([])).toEqual([]);
  });
});
