import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { EnvelopeInit } from '../src/client/client-events.js';
import { parseMailParameters, serializeMailParameters } from '../src/command/mail-parameters.js';
import { SmtpUsageError } from '../src/errors.js';
import type { ServerEvent } from '../src/server/server-events.js';
import { ServerSession } from '../src/server/server-session.js';
import { connectPair, drive } from './pair.js';

// MT-PRIORITY (RFC 6710) end to end through the extension table: grammar, what the server offers and
// grants, and what the client sends.

const strict = { mode: 'strict', smtpUtf8: false } as const;
const encoder = new TextEncoder();
const envelope = (mtPriority?: number): EnvelopeInit => ({
  from: { localPart: 'a', domain: { kind: 'name', name: 'client.example' } },
  to: [{ localPart: 'b', domain: { kind: 'name', name: 'mx.example' } }],
  ...(mtPriority === undefined ? {} : { mtPriority }),
});

describe('MT-PRIORITY parameter', () => {
  it('reads -9..9 with an optional sign, and nothing else', () => {
    for (const [text, priority] of [
      ['MT-PRIORITY=9', 9],
      ['MT-PRIORITY=-9', -9],
      ['MT-PRIORITY=+3', 3],
      ['MT-PRIORITY=-0', 0],
      ['mt-priority=0', 0],
    ] as const) {
      const result = parseMailParameters(text, strict);
      expect(result.ok && result.value.mtPriority).toBe(priority);
      expect(Object.is(result.ok && result.value.mtPriority, -0)).toBe(false);
    }
    for (const text of [
      'MT-PRIORITY=10',
      'MT-PRIORITY=-10',
      'MT-PRIORITY=1.5',
      'MT-PRIORITY',
      'MT-PRIORITY=x',
    ]) {
      const result = parseMailParameters(text, strict);
      expect(result.ok ? null : result.reply.code).toBe(501);
    }
  });

  it('writes the plain integer and refuses what would not read back', () => {
    expect(serializeMailParameters({ size: 10, mtPriority: -4, unknown: [] })).toBe('SIZE=10 MT-PRIORITY=-4');
    for (const mtPriority of [10, -10, 1.5, Number.NaN]) {
      expect(() => serializeMailParameters({ mtPriority, unknown: [] })).toThrow(SmtpUsageError);
    }
    expect(() => serializeMailParameters({ unknown: [{ keyword: 'MT-PRIORITY', value: '1' }] })).toThrow(
      SmtpUsageError,
    );
  });
});

describe('MT-PRIORITY on the server', () => {
  const mailEvent = (options: ConstructorParameters<typeof ServerSession>[0], line: string) => {
    const session = new ServerSession(options);
    session.greet();
    session.receive(encoder.encode(`EHLO client.example\r\n${line}\r\n`));
    const events: ServerEvent[] = [];
    for (let event = session.nextEvent(); event !== null; event = session.nextEvent()) {
      events.push(event);
      if (session.pending) session.accept();
    }
    return { event: events.find((event) => event.type === 'mail'), ehlo: session.capabilities };
  };

  it('is off by default and offered with its policy name when on', () => {
    expect(mailEvent({ hostname: 'mx.example' }, 'NOOP').ehlo?.mtPriority).toBeNull();
    expect(
      mailEvent({ hostname: 'mx.example', extensions: { mtPriority: true } }, 'NOOP').ehlo?.mtPriority,
    ).toBe('');
    const withPolicy = { hostname: 'mx.example', extensions: { mtPriority: { policy: 'NSEP' } } };
    expect(mailEvent(withPolicy, 'NOOP').ehlo?.mtPriority).toBe('NSEP');
  });

  it('lowers a priority above maxPriority and keeps the others as sent', () => {
    const options = { hostname: 'mx.example', extensions: { mtPriority: { maxPriority: 2 } } };
    const lowered = mailEvent(options, 'MAIL FROM:<a@client.example> MT-PRIORITY=8').event;
    expect(lowered?.type === 'mail' && lowered.parameters.mtPriority).toBe(2);
    const kept = mailEvent(options, 'MAIL FROM:<a@client.example> MT-PRIORITY=-3').event;
    expect(kept?.type === 'mail' && kept.parameters.mtPriority).toBe(-3);
  });

  it('refuses options it cannot offer', () => {
    expect(
      () => new ServerSession({ hostname: 'mx.example', extensions: { mtPriority: { maxPriority: 10 } } }),
    ).toThrow(SmtpUsageError);
    expect(
      () =>
        new ServerSession({ hostname: 'mx.example', extensions: { mtPriority: { policy: 'two words' } } }),
    ).toThrow(SmtpUsageError);
  });
});

describe('MT-PRIORITY between ClientSession and ServerSession', () => {
  test.prop(
    [
      fc.option(fc.integer({ min: -9, max: 9 }), { nil: undefined }),
      fc.integer({ min: -9, max: 9 }),
      fc.boolean(),
      fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 4 }),
    ],
    { numRuns: 100 },
  )(
    'the server sees the priority asked for, lowered to its maximum, only when it offers MT-PRIORITY',
    (requested, maxPriority, isOffered, chunkSizes) => {
      const pair = connectPair({
        client: { name: 'client.example' },
        server: { hostname: 'mx.example', extensions: { mtPriority: isOffered ? { maxPriority } : false } },
        chunkSizes,
        onClientEvent(event, client) {
          if (event.type === 'greeting') client.hello();
          else if (event.type === 'hello') client.startTransaction(envelope(requested));
          else if (event.type === 'body-ready') {
            client.writeBody(encoder.encode('Subject: x\r\n\r\nbody\r\n'));
            client.endBody();
          } else if (event.type === 'transaction-end') client.quit();
        },
      });
      drive(pair);
      expect(pair.clientEvents.filter((event) => event.type === 'error')).toEqual([]);
      const mail = pair.serverEvents.find((event) => event.type === 'mail');
      const expected = requested === undefined || !isOffered ? undefined : Math.min(requested, maxPriority);
      expect(mail?.type === 'mail' && mail.parameters.mtPriority).toBe(expected);
      expect(pair.messages).toHaveLength(1);
    },
  );

  it('refuses a priority outside -9..9 before sending anything', () => {
    const pair = connectPair({
      client: { name: 'client.example' },
      server: { hostname: 'mx.example', extensions: { mtPriority: true } },
      onClientEvent(event, client) {
        if (event.type === 'greeting') client.hello();
        else if (event.type === 'hello')
          expect(() => client.startTransaction(envelope(12))).toThrow(SmtpUsageError);
      },
    });
    drive(pair);
    expect(pair.serverEvents.some((event) => event.type === 'mail')).toBe(false);
  });
});
