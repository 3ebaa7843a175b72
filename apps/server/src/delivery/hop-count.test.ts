import { describe, expect, it } from 'vitest';
import { countReceivedFields, hopCountVerdict, maxHops, tooManyHopsReply } from './hop-count.js';

const received = (count: number) =>
  Array.from(
    { length: count },
    (_, index) => `Received: from hop${index}.test\r\n\tby next.test; Sun, 6 Dec 2026`,
  ).join('\r\n');

describe('hop count (RFC 5321 §6.3)', () => {
  it('counts Received fields at line starts, any case, not folded lines or other fields', () => {
    expect(
      countReceivedFields(`${received(3)}\r\nX-Received: no\r\nSubject: Received: not a field\r\n`),
    ).toBe(3);
    expect(countReceivedFields('received : from a\r\nRECEIVED:from b\r\n')).toBe(2);
    expect(countReceivedFields('Subject: hi\r\n')).toBe(0);
  });

  it('fails a message with more than 100 Received fields with 554 5.4.6', () => {
    expect(maxHops).toBe(100);
    expect(hopCountVerdict(countReceivedFields(received(100)))).toBeNull();
    expect(hopCountVerdict(countReceivedFields(received(101)))).toEqual({
      code: 554,
      enhanced: '5.4.6',
      lines: ['Too many hops: more than 100 Received fields (mail loop?)'],
    });
    expect(hopCountVerdict(31, 30)).toBe(tooManyHopsReply);
  });
});
