import { fc, test } from '@fast-check/vitest';
import { expect } from 'vitest';
import type { ServerEvent } from '../src/server/server-events.js';
import type { ServerSessionOptions } from '../src/server/server-options.js';
import { ServerSession } from '../src/server/server-session.js';

// House guide §2.6: arbitrary input never throws, keeps bufferedBytes within the limits, and leaves the
// session answering NOOP with 250 unless it closed (421 after too many errors, or a QUIT in the input).

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const presets: readonly ServerSessionOptions[] = [
  { hostname: 'mx.example' },
  { hostname: 'mx.example', syntax: 'lenient', bareLineEndings: 'normalize', limits: { maxErrors: 0 } },
  { hostname: 'lmtp.example', mode: 'lmtp', limits: { maxRecipients: 2, maxMessageBytes: 64 } },
  {
    hostname: 'mx.example',
    tls: { active: true },
    extensions: {
      auth: ['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2', 'OAUTHBEARER', 'SCRAM-SHA-256'],
      xclient: true,
      etrn: true,
    },
    eightBitData: 'reject',
    limits: { maxErrors: 0, maxAuthLineBytes: 600, maxTextLineBytes: 80 },
  },
  { hostname: 'mx.example', extensions: { startTls: true }, requireTls: true, auth: { required: true } },
];

const commands = [
  'EHLO client.example',
  'HELO client.example',
  'LHLO client.example',
  'MAIL FROM:<a@client.example>',
  'MAIL FROM:<> BODY=8BITMIME SIZE=10',
  'MAIL FROM:<b@client.example> BODY=BINARYMIME',
  'RCPT TO:<b@mx.example>',
  'RCPT TO:<Postmaster> NOTIFY=NEVER',
  'DATA',
  'BDAT 3\r\nabc', // with its octets: the stream stays framed
  'BDAT 0 LAST',
  'RSET',
  'NOOP',
  'VRFY x',
  'HELP',
  'AUTH PLAIN AGEAYg==',
  'AUTH LOGIN',
  'AUTH CRAM-MD5',
  'AUTH SCRAM-SHA-256 biwsbj11c2VyLHI9YWJj',
  '*',
  '.',
  'STARTTLS',
  'XCLIENT ADDR=192.0.2.1',
  'ETRN example.com',
  'QUIT',
];

const commandBytes = fc.constantFrom(...commands).map((command) => encoder.encode(`${command}\r\n`));
const noise = fc.uint8Array({ maxLength: 700 });
const fewNoise = fc.oneof(
  { arbitrary: noise, weight: 1 },
  { arbitrary: fc.constant(new Uint8Array()), weight: 4 },
);
const stream = fc.array(
  fc.oneof({ arbitrary: commandBytes, weight: 6 }, fewNoise, fc.constantFrom(encoder.encode('\r\n.\r\n'))),
  {
    maxLength: 30,
  },
);

function answer(session: ServerSession, event: ServerEvent, choice: number): void {
  if (event.type === 'auth' && event.step.type === 'lookup') {
    if (choice % 2 === 0) session.accept({ secret: { password: 'pencil' } });
    else session.reject({ code: 535, enhanced: '5.7.8', text: 'no' });
  } else if (choice % 3 === 2) {
    session.reject({ code: 550, text: 'refused' });
  } else {
    session.accept();
  }
}

test.prop([
  fc.constantFrom(...presets),
  stream,
  fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1 }),
  fc.nat(),
])(
  'arbitrary input never throws, stays bounded, and NOOP still works',
  (options, pieces, chunkSizes, seed) => {
    const session = new ServerSession(options);
    session.greet();
    const limit = Math.max(
      options.limits?.maxCommandLineBytes ?? 512,
      options.limits?.maxAuthLineBytes ?? 12288,
    );
    let choice = seed;
    let output = '';
    const drain = () => {
      for (let event = session.nextEvent(); event !== null; event = session.nextEvent()) {
        if (session.pending === event) answer(session, event, choice++);
        if (event.type === 'tls-ready') session.tlsStarted();
      }
      const taken = session.takeOutput();
      if (taken !== null) output += decoder.decode(taken);
      expect(session.bufferedBytes).toBeLessThan(limit);
    };
    // Start with a greeting command of either protocol so transactions can form.
    const hello = encoder.encode(
      options.mode === 'lmtp' ? 'LHLO client.example\r\n' : 'EHLO client.example\r\n',
    );
    const all = new Uint8Array(hello.length + pieces.reduce((total, piece) => total + piece.length, 0));
    all.set(hello);
    let position = hello.length;
    for (const piece of pieces) {
      all.set(piece, position);
      position += piece.length;
    }
    for (let offset = 0, index = 0; offset < all.length; index++) {
      const size = chunkSizes[index % chunkSizes.length] as number;
      session.receive(all.subarray(offset, offset + size));
      drain();
      offset += size;
    }
    // Bring the session back to reading commands, then ask for NOOP.
    if (session.state.phase === 'auth') session.receive(encoder.encode('*\r\n'));
    else if (session.state.phase === 'message' && session.timeout === 'data')
      session.receive(encoder.encode('\r\n.\r\n'));
    drain();
    output = '';
    session.receive(encoder.encode('\r\nNOOP\r\n'));
    drain();
    const state = session.state;
    if (state.phase === 'closed') {
      expect(['too-many-errors', 'quit']).toContain(state.reason);
    } else if (session.timeout === 'command') {
      expect(output).toMatch(/250 (2\.0\.0 )?OK\r\n$/);
    }
  },
);

test.prop([fc.uint8Array({ maxLength: 4000 }), fc.integer({ min: 1, max: 700 })])(
  'random bytes alone: bounded, then NOOP answers 250 or the session closed with 421',
  (bytes, chunkSize) => {
    const session = new ServerSession({ hostname: 'mx.example' });
    session.greet();
    let output = '';
    const drain = () => {
      for (let event = session.nextEvent(); event !== null; event = session.nextEvent()) {
        if (session.pending === event) session.accept();
      }
      const taken = session.takeOutput();
      if (taken !== null) output += decoder.decode(taken);
    };
    for (let offset = 0; offset < bytes.length; offset += chunkSize) {
      const chunk = bytes.subarray(offset, offset + chunkSize);
      session.receive(chunk);
      expect(session.bufferedBytes).toBeLessThanOrEqual(512 + chunk.length);
      drain();
      expect(session.bufferedBytes).toBeLessThan(512);
    }
    session.receive(encoder.encode('\r\nNOOP\r\n'));
    drain();
    if (session.isClosed) expect(output).toContain('421 4.7.0');
    else expect(output).toMatch(/250 2\.0\.0 OK\r\n$/);
  },
);
