import { describe, expect, it } from 'vitest';
import { createReply } from '../reply/create-reply.js';
import { replies } from '../reply/reply-catalog.js';
import { parseXclientAttributes } from './xclient.js';

const rejected = { ok: false, reply: createReply(replies.syntaxErrorInParameters) };

describe('parseXclientAttributes', () => {
  it('maps every attribute', () => {
    const attributes = new Map([
      ['NAME', 'client.example.com'],
      ['ADDR', '192.0.2.10'],
      ['PORT', '54321'],
      ['PROTO', 'esmtp'],
      ['HELO', 'client.example.com'],
      ['LOGIN', 'alice'],
      ['DESTADDR', 'IPV6:2001:db8::25'],
      ['DESTPORT', '25'],
    ]);
    expect(parseXclientAttributes(attributes)).toEqual({
      ok: true,
      value: {
        name: 'client.example.com',
        address: '192.0.2.10',
        port: 54321,
        protocol: 'ESMTP',
        helo: 'client.example.com',
        login: 'alice',
        destinationAddress: '2001:db8::25',
        destinationPort: 25,
      },
    });
  });

  it('drops [UNAVAILABLE] and [TEMPUNAVAIL]', () => {
    expect(
      parseXclientAttributes(
        new Map([
          ['NAME', '[TEMPUNAVAIL]'],
          ['ADDR', '[UNAVAILABLE]'],
        ]),
      ),
    ).toEqual({
      ok: true,
      value: {},
    });
  });

  it.each([
    ['ADDR', '2001:db8::1'], // IPv6 needs the IPV6: prefix
    ['ADDR', '192.0.2.300'],
    ['ADDR', 'example.com'],
    ['PORT', '65536'],
    ['PORT', 'http'],
    ['PROTO', 'LMTP'],
    ['NAME', ''],
    ['NAME', 'a\r\nb'],
    ['HELO', 'x'.repeat(256)],
    ['SECRET', 'x'],
  ])('%s=%j → 501 5.5.4', (name, value) => {
    expect(parseXclientAttributes(new Map([[name, value]]))).toEqual(rejected);
  });
});
