import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { Mailbox } from '../src/address/mailbox.js';
import type { ClientEvent, EnvelopeInit } from '../src/client/client-events.js';
import type { ClientSession } from '../src/client/client-session.js';
import { createSaslClient } from '../src/sasl/create-sasl-client.js';
import type { SaslClient } from '../src/sasl/sasl-client.js';
import { type SaslMechanismName, saslMechanismNames } from '../src/sasl/sasl-mechanism.js';
import type { ServerEvent } from '../src/server/server-events.js';
import type { ServerSession } from '../src/server/server-session.js';
import { connectPair, drive, type Pair } from './pair.js';

// ClientSession against ServerSession (house guide §2.6): whatever the envelope, the message bytes, the
// extensions in use and the way the bytes are cut, the server's message-chunks join into exactly the
// message the client sent (CRLF-normalised for DATA, byte for byte for BDAT).

const encoder = new TextEncoder();

const mailbox = (localPart: string, domain = 'mx.example'): Mailbox => ({
  localPart,
  domain: { kind: 'name', name: domain },
});

interface Plan {
  readonly envelope: EnvelopeInit;
  readonly message: Uint8Array;
  /** How the caller cuts the message into writeBody() calls. */
  readonly writeSizes: readonly number[];
  readonly startTls?: boolean;
  readonly sasl?: () => SaslClient;
}

/** The caller's side: hello → (STARTTLS) → (AUTH) → transaction → body → QUIT. */
function script(plan: Plan): (event: ClientEvent, client: ClientSession) => void {
  let isAuthenticated = false;
  return (event, client) => {
    switch (event.type) {
      case 'greeting':
        client.hello();
        return;
      case 'hello':
        if (plan.startTls === true && !client.isTlsActive) client.startTls();
        else if (plan.sasl !== undefined && !isAuthenticated) client.authenticate(plan.sasl());
        else client.startTransaction(plan.envelope);
        return;
      case 'auth-end':
        isAuthenticated = true;
        client.startTransaction(plan.envelope);
        return;
      case 'body-ready': {
        let position = 0;
        let index = 0;
        while (position < plan.message.length) {
          const size = Math.max(1, plan.writeSizes[index++ % Math.max(1, plan.writeSizes.length)] ?? 64);
          client.writeBody(plan.message.subarray(position, position + size));
          position += size;
        }
        client.endBody();
        return;
      }
      case 'transaction-end':
        client.quit();
        return;
      default:
        return;
    }
  };
}

/** What DATA delivers (RFC 5321 §4.5.2): bare CR and LF become CRLF, and the last line is completed. */
function normalizeForData(message: Uint8Array): Uint8Array {
  const bytes: number[] = [];
  for (let index = 0; index < message.length; index++) {
    const byte = message[index] as number;
    if (byte === 0x0d) {
      bytes.push(0x0d, 0x0a);
      if (message[index + 1] === 0x0a) index += 1;
    } else if (byte === 0x0a) bytes.push(0x0d, 0x0a);
    else bytes.push(byte);
  }
  const length = bytes.length;
  if (length > 0 && !(bytes[length - 2] === 0x0d && bytes[length - 1] === 0x0a)) bytes.push(0x0d, 0x0a);
  return Uint8Array.from(bytes);
}

const errorsOf = (pair: Pair) => pair.clientEvents.filter((event) => event.type === 'error');

const localPart = fc
  .stringMatching(/^[a-z0-9]([a-z0-9.+-]{0,8}[a-z0-9])?$/)
  .filter((text) => !text.includes('..'));
const messageText = fc
  .array(
    fc.constantFrom('.', '..', 'a', 'b c', '\r\n', '\n', '\r', '.\r\n', '\r\n.\r\n', 'é', 'Subject: x'),
    { maxLength: 40 },
  )
  .map((parts) => encoder.encode(parts.join('')));
const message = fc.oneof(messageText, fc.uint8Array({ maxLength: 300 }));
const chunkSizes = fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 6 });

describe('pair: any envelope, message and chunking', () => {
  test.prop(
    [
      localPart,
      fc.uniqueArray(localPart, { minLength: 1, maxLength: 3 }),
      message,
      chunkSizes,
      chunkSizes,
      fc.boolean(),
      fc.boolean(),
      fc.constantFrom('smtp' as const, 'lmtp' as const),
    ],
    { numRuns: 150 },
  )(
    'the server receives exactly the message sent',
    (from, to, body, wireSizes, writeSizes, pipelining, chunking, mode) => {
      const hasEightBit = body.some((byte) => byte >= 0x80);
      const envelope: EnvelopeInit = {
        from: mailbox(from, 'client.example'),
        to: to.map((name) => mailbox(name)),
        // BDAT carries any octets as they are (RFC 3030 §3); DATA needs 8BITMIME for 8-bit text.
        ...(chunking ? { body: 'BINARYMIME' as const } : hasEightBit ? { body: '8BITMIME' as const } : {}),
      };
      const pair = connectPair({
        client: { name: 'client.example', mode },
        server: {
          hostname: 'mx.example',
          mode,
          extensions: { pipelining, chunking, binaryMime: chunking },
          limits: { maxTextLineBytes: 0 },
        },
        chunkSizes: wireSizes,
        onClientEvent: script({ envelope, message: body, writeSizes }),
      });
      drive(pair);
      expect(errorsOf(pair)).toEqual([]);
      expect(pair.messages).toEqual([chunking ? body : normalizeForData(body)]);
      const end = pair.clientEvents.find((event) => event.type === 'transaction-end');
      expect(end?.type === 'transaction-end' && end.result.accepted.length).toBe(to.length);
      if (end?.type === 'transaction-end') {
        if (mode === 'smtp') expect(end.result.reply?.code).toBe(250);
        else expect(end.result.lmtpReplies?.map((entry) => entry.reply.code)).toEqual(to.map(() => 250));
      }
      expect(pair.client.state).toEqual({ phase: 'closed', reason: 'quit' });
      expect(pair.server.isClosed).toBe(true);
    },
  );
});

describe('pair: refused recipients', () => {
  for (const pipelining of [true, false]) {
    it(`reports each recipient and delivers to the accepted ones (pipelining ${pipelining})`, () => {
      const envelope: EnvelopeInit = { from: null, to: [mailbox('ok'), mailbox('nobody'), mailbox('ok2')] };
      const pair = connectPair({
        client: { name: 'client.example' },
        server: { hostname: 'mx.example', extensions: { pipelining, chunking: false } },
        onClientEvent: script({ envelope, message: encoder.encode('Hi\r\n'), writeSizes: [] }),
        onServerEvent: (event, server) => {
          if (event.type === 'rcpt' && event.to !== 'Postmaster' && event.to.localPart === 'nobody') {
            server.reject({ code: 550, enhanced: '5.1.1', text: 'No such user' });
          } else server.accept();
        },
      });
      drive(pair);
      const results = pair.clientEvents.flatMap((event) =>
        event.type === 'recipient-result' ? [event.reply.code] : [],
      );
      expect(results).toEqual([250, 550, 250]);
      expect(pair.messages).toEqual([encoder.encode('Hi\r\n')]);
    });
  }

  it('sends no body when every recipient is refused, and the server delivers nothing (RFC 2920 §3.1)', () => {
    const envelope: EnvelopeInit = { from: null, to: [mailbox('nobody')] };
    const pair = connectPair({
      client: { name: 'client.example' },
      server: { hostname: 'mx.example' },
      onClientEvent: script({ envelope, message: encoder.encode('Hi\r\n'), writeSizes: [] }),
      onServerEvent: (event, server) => {
        if (event.type === 'rcpt') server.reject({ code: 550, enhanced: '5.1.1', text: 'No such user' });
        else server.accept();
      },
    });
    drive(pair);
    expect(pair.messages).toEqual([]);
    const end = pair.clientEvents.find((event) => event.type === 'transaction-end');
    expect(end).toMatchObject({ result: { accepted: [], reply: null } });
    expect(pair.server.isClosed).toBe(true);
  });
});

describe('pair: SASL end to end', () => {
  const password = 'pencil';
  const token = 'ya29.token';
  for (const mechanism of saslMechanismNames) {
    it(`${mechanism}`, () => {
      const envelope: EnvelopeInit = { from: mailbox('user', 'client.example'), to: [mailbox('b')] };
      const onServerEvent = (event: ServerEvent, server: ServerSession): void => {
        if (event.type !== 'auth') {
          server.accept();
          return;
        }
        const { step } = event;
        if (step.type === 'lookup') server.accept({ secret: { password } });
        else {
          const { credentials } = step;
          const isValid =
            credentials.username === 'user' &&
            ('password' in credentials ? credentials.password === password : credentials.token === token);
          if (isValid) server.accept();
          else server.reject({ code: 535, enhanced: '5.7.8', text: 'Authentication credentials invalid' });
        }
      };
      const pair = connectPair({
        client: { name: 'client.example' },
        // Implicit TLS, so the plaintext mechanisms are offered too.
        server: { hostname: 'mx.example', tls: { active: true }, extensions: { auth: [mechanism] } },
        onServerEvent,
        onClientEvent: script({
          envelope,
          message: encoder.encode('Hi\r\n'),
          writeSizes: [],
          sasl: () =>
            createSaslClient(
              mechanism as SaslMechanismName,
              { username: 'user', password, token },
              { host: 'mx.example', port: 465 },
            ),
        }),
      });
      drive(pair);
      expect(errorsOf(pair)).toEqual([]);
      expect(pair.clientEvents.map((event) => event.type)).toContain('auth-end');
      expect(pair.server.authenticated?.username).toBe('user');
      expect(pair.messages).toEqual([encoder.encode('Hi\r\n')]);
    });
  }

  it('a wrong password ends in an error event, and the session goes on', () => {
    let attempts = 0;
    const pair = connectPair({
      client: { name: 'client.example' },
      server: { hostname: 'mx.example', tls: { active: true }, extensions: { auth: ['PLAIN'] } },
      onServerEvent: (event, server) => {
        if (event.type === 'auth')
          server.reject({ code: 535, enhanced: '5.7.8', text: 'Authentication credentials invalid' });
        else server.accept();
      },
      onClientEvent: (event, client) => {
        if (event.type === 'greeting') client.hello();
        else if (event.type === 'hello')
          client.authenticate(createSaslClient('PLAIN', { username: 'user', password: 'wrong' }));
        else if (event.type === 'error' && attempts++ === 0) client.quit();
      },
    });
    drive(pair);
    const error = pair.clientEvents.find((event) => event.type === 'error');
    expect(error?.type === 'error' && 'code' in error.error && error.error.code).toBe(535);
    expect(pair.client.state).toEqual({ phase: 'closed', reason: 'quit' });
  });
});

describe('pair: STARTTLS', () => {
  it('upgrades, says EHLO again and sees the post-TLS capabilities', () => {
    const envelope: EnvelopeInit = {
      from: mailbox('a', 'client.example'),
      to: [mailbox('b')],
      requireTls: true,
    };
    const pair = connectPair({
      client: { name: 'client.example' },
      server: { hostname: 'mx.example', extensions: { startTls: true, requireTls: true } },
      onClientEvent: script({
        envelope,
        message: encoder.encode('secret\r\n'),
        writeSizes: [3],
        startTls: true,
      }),
    });
    drive(pair);
    expect(errorsOf(pair)).toEqual([]);
    const hellos = pair.clientEvents.flatMap((event) => (event.type === 'hello' ? [event.capabilities] : []));
    expect(hellos.map((capabilities) => [capabilities.startTls, capabilities.requireTls])).toEqual([
      [true, false],
      [false, true],
    ]);
    expect(pair.client.isTlsActive).toBe(true);
    expect(pair.server.isTlsActive).toBe(true);
    expect(pair.messages).toEqual([encoder.encode('secret\r\n')]);
  });
});
