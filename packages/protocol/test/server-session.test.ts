import { describe, expect, it } from 'vitest';
import { SmtpReplyError, SmtpUsageError } from '../src/errors.js';
import { replies } from '../src/reply/reply-catalog.js';
import type { ServerEvent } from '../src/server/server-events.js';
import { encodeGreeting } from '../src/server/server-greeting.js';
import type { ServerSessionOptions } from '../src/server/server-options.js';
import { ServerSession } from '../src/server/server-session.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text: string) => encoder.encode(text);

/** Drains events, answering pending ones with `decide` (default accept). */
function drain(
  session: ServerSession,
  decide: (event: ServerEvent) => void = () => session.accept(),
): ServerEvent[] {
  const events: ServerEvent[] = [];
  for (let event = session.nextEvent(); event !== null; event = session.nextEvent()) {
    events.push(event);
    if (session.pending === event) decide(event);
  }
  return events;
}

function output(session: ServerSession): string {
  const taken = session.takeOutput();
  return taken === null ? '' : decoder.decode(taken);
}

function started(options: Partial<ServerSessionOptions> = {}): ServerSession {
  const session = new ServerSession({ hostname: 'mx.example', ...options });
  session.greet();
  session.receive(bytes(options.mode === 'lmtp' ? 'LHLO client.example\r\n' : 'EHLO client.example\r\n'));
  drain(session);
  session.takeOutput();
  return session;
}

function joinChunks(events: readonly ServerEvent[]): string {
  return events
    .filter((event) => event.type === 'message-chunk')
    .map((event) => decoder.decode(event.type === 'message-chunk' ? event.bytes : new Uint8Array()))
    .join('');
}

describe('greeting', () => {
  it('sends 220 with the hostname and no enhanced code', () => {
    const session = new ServerSession({ hostname: 'mx.example' });
    expect(session.takeOutput()).toBeNull();
    session.greet();
    expect(output(session)).toBe('220 mx.example ESMTP ready\r\n');
    expect(session.state).toEqual({ phase: 'greeting' });
  });

  it('reads nothing before greet()', () => {
    const session = new ServerSession({ hostname: 'mx.example' });
    session.receive(bytes('NOOP\r\n'));
    expect(session.nextEvent()).toBeNull();
    expect(session.bufferedBytes).toBe(6);
    session.greet();
    drain(session);
    expect(output(session)).toBe('220 mx.example ESMTP ready\r\n250 2.0.0 OK\r\n');
  });

  it('refuses to greet twice and refuses odd greeting codes', () => {
    const session = new ServerSession({ hostname: 'mx.example' });
    expect(() => session.greet({ code: 250, text: 'hi' })).toThrow(SmtpUsageError);
    session.greet();
    expect(() => session.greet()).toThrow(SmtpUsageError);
  });

  it('closes after a 421 greeting', () => {
    const session = new ServerSession({ hostname: 'mx.example' });
    session.greet({ code: 421, text: 'Try later' });
    expect(output(session)).toBe('421 mx.example Try later\r\n');
    expect(drain(session)).toEqual([{ type: 'close', reason: 'shutdown' }]);
    expect(session.isClosed).toBe(true);
  });

  it('answers 503 to all but QUIT after a 554 greeting, then closes on QUIT (RFC 5321 §3.1)', () => {
    const session = new ServerSession({ hostname: 'mx.example' });
    session.greet({ code: 554, enhanced: '5.7.1', text: 'Not welcome' });
    session.receive(bytes('EHLO client.example\r\nNOOP\r\nQUIT\r\n'));
    expect(drain(session).map((event) => event.type)).toEqual([
      'command-rejected',
      'command-rejected',
      'close',
    ]);
    expect(output(session)).toBe(
      '554 mx.example Not welcome\r\n503 Bad sequence of commands\r\n503 5.5.1 Bad sequence of commands\r\n221 2.0.0 Bye\r\n',
    );
  });

  it('encodeGreeting() gives the bytes greet() sends, under one policy, in a fresh buffer', () => {
    const options = { hostname: 'mx.example' };
    for (const reply of [undefined, { code: 421, enhanced: '4.7.0', text: 'Too many' } as const]) {
      const session = new ServerSession(options);
      session.greet(reply);
      const encoded = encodeGreeting(options, reply);
      expect(decoder.decode(encoded)).toBe(output(session));
      encoded.fill(0x21);
    }
    expect(decoder.decode(encodeGreeting(options))).toBe('220 mx.example ESMTP ready\r\n');
    expect(decoder.decode(encodeGreeting(options, { code: 421, text: 'Too many' }))).toBe(
      '421 mx.example Too many\r\n',
    );
    expect(() => encodeGreeting(options, { code: 250, text: 'hi' })).toThrow(SmtpUsageError);
  });

  it('rejects bad options with SmtpUsageError', () => {
    expect(() => new ServerSession({ hostname: 'mx.example', limits: { maxCommandLineBytes: 100 } })).toThrow(
      SmtpUsageError,
    );
    expect(() => new ServerSession({ hostname: 'two words' })).toThrow(SmtpUsageError);
  });
});

describe('output ownership', () => {
  // takeOutput() used to hand out the shared catalogue bytes: a caller scribbling over its copy of
  // "250 2.0.0 OK" changed what every other session sent.
  it('never aliases bytes another session sends', () => {
    const options = { hostname: 'mx.example' };
    const first = started(options);
    const second = started(options);
    first.receive(bytes('NOOP\r\n'));
    drain(first);
    const taken = first.takeOutput() as Uint8Array;
    taken.set(bytes('550'), 0);
    second.receive(bytes('NOOP\r\n'));
    drain(second);
    expect(output(second)).toBe('250 2.0.0 OK\r\n');
  });

  it('never aliases the shared greeting or EHLO reply', () => {
    const options = { hostname: 'mx.example' };
    const first = new ServerSession(options);
    first.greet();
    (first.takeOutput() as Uint8Array).fill(0x21);
    first.receive(bytes('EHLO client.example\r\n'));
    drain(first);
    (first.takeOutput() as Uint8Array).fill(0x21);
    const second = new ServerSession(options);
    second.greet();
    expect(output(second)).toBe('220 mx.example ESMTP ready\r\n');
    second.receive(bytes('HELO client.example\r\n'));
    drain(second);
    expect(output(second)).toBe('250 mx.example\r\n');
    second.receive(bytes('EHLO client.example\r\n'));
    drain(second);
    expect(output(second)).toMatch(/^250-mx\.example\r\n/);
  });
});

describe('a whole transaction', () => {
  it('raises typed events, streams the body and tracks state', () => {
    const session = started();
    session.receive(bytes('MAIL FROM:<a@client.example> SIZE=100 BODY=8BITMIME\r\n'));
    const [mail] = drain(session, () => undefined);
    expect(mail).toMatchObject({
      type: 'mail',
      from: { localPart: 'a' },
      parameters: { size: 100, body: '8BITMIME' },
    });
    expect(session.pending).toBe(mail);
    expect(session.state.phase).toBe('ready');
    session.accept();
    expect(session.state.phase).toBe('transaction');
    session.receive(bytes('RCPT TO:<b@mx.example> NOTIFY=SUCCESS\r\nRCPT TO:<Postmaster>\r\nDATA\r\n'));
    const events = drain(session);
    expect(events.map((event) => event.type)).toEqual(['rcpt', 'rcpt', 'message-start']);
    expect(events[1]).toMatchObject({ to: 'Postmaster' });
    expect(session.envelope?.recipients.map((recipient) => recipient.to)).toEqual([
      { localPart: 'b', domain: { kind: 'name', name: 'mx.example' } },
      'Postmaster',
    ]);
    expect(session.state.phase).toBe('message');
    expect(session.timeout).toBe('data');
    session.receive(bytes('Subject: x\r\n\r\n..dot\r\nlast'));
    session.receive(bytes(' line\r\n.\r\nQUIT\r\n'));
    const body = drain(session, () => undefined);
    expect(joinChunks(body)).toBe('Subject: x\r\n\r\n.dot\r\nlast line\r\n');
    expect(body.at(-1)).toEqual({ type: 'message-end', size: 31 });
    // QUIT waits unparsed behind the pending message-end.
    expect(session.bufferedBytes).toBe(6);
    session.accept({ text: 'Queued as 8F3A' });
    expect(drain(session)).toEqual([{ type: 'close', reason: 'quit' }]);
    expect(output(session)).toBe(
      '250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n250 2.1.5 Recipient OK\r\n' +
        '354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Queued as 8F3A\r\n221 2.0.0 Bye\r\n',
    );
    expect(session.state).toEqual({ phase: 'closed', reason: 'quit' });
  });

  it('keeps message-chunk views intact after later input', () => {
    const session = started();
    session.receive(bytes('MAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nDATA\r\nfirst\r\n'));
    const first = drain(session);
    session.receive(bytes('second\r\n.\r\n'));
    const second = drain(session);
    expect(joinChunks(first)).toBe('first\r\n');
    expect(joinChunks(second)).toBe('second\r\n');
  });

  it('joins BDAT chunks exactly, without unstuffing', () => {
    const session = started();
    session.receive(
      bytes('MAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nBDAT 7\r\n..a\r\n.\rBDAT 3 LAST\r\n\n.\n'),
    );
    const events = drain(session);
    expect(joinChunks(events)).toBe('..a\r\n.\r\n.\n');
    expect(events.filter((event) => event.type !== 'message-chunk').map((event) => event.type)).toEqual([
      'mail',
      'rcpt',
      'message-start',
      'message-end',
    ]);
    expect(events.find((event) => event.type === 'message-end')).toEqual({ type: 'message-end', size: 10 });
  });

  it('answers every message-start with exactly one message-end or message-abort', () => {
    const session = started({ limits: { maxMessageBytes: 5 } });
    session.receive(bytes('MAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nDATA\r\n123456\r\n.\r\n'));
    const events = drain(session);
    const types = events.map((event) => event.type);
    expect(types).toEqual(['mail', 'rcpt', 'message-start', 'message-abort']);
    expect(events.at(-1)).toEqual({ type: 'message-abort', reason: 'too-large' });
    expect(output(session)).toContain('552 5.3.4');
    expect(session.envelope).toBeNull();
  });

  it('aborts a BDAT message on RSET between chunks', () => {
    const session = started();
    session.receive(bytes('MAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nBDAT 2\r\nabRSET\r\n'));
    const types = drain(session).map((event) =>
      event.type === 'message-abort' ? `abort:${event.reason}` : event.type,
    );
    expect(types).toEqual(['mail', 'rcpt', 'message-start', 'message-chunk', 'abort:reset', 'reset']);
  });
});

describe('decisions', () => {
  it('throws SmtpUsageError without a pending event', () => {
    const session = started();
    expect(() => session.accept()).toThrow(SmtpUsageError);
    expect(() => session.reject({ code: 550, text: 'no' })).toThrow(SmtpUsageError);
  });

  it('refuses 2xx in reject() and fills in x.0.0', () => {
    const session = started();
    session.receive(bytes('MAIL FROM:<a@x.example>\r\n'));
    drain(session, () => undefined);
    expect(() => session.reject({ code: 250, text: 'ok' })).toThrow(SmtpUsageError);
    session.reject({ code: 451, text: 'Try later' });
    expect(output(session)).toBe('451 4.0.0 Try later\r\n');
  });

  it('takes an SmtpReplyError', () => {
    const session = started();
    session.receive(bytes('MAIL FROM:<a@x.example>\r\nRCPT TO:<nobody@x.example>\r\n'));
    drain(session, (event) =>
      event.type === 'rcpt'
        ? session.reject(new SmtpReplyError({ code: 550, enhanced: '5.1.1', text: 'No such user' }))
        : session.accept(),
    );
    expect(output(session)).toBe('250 2.1.0 Sender OK\r\n550 5.1.1 No such user\r\n');
    expect(session.envelope?.recipients).toEqual([]);
  });

  it('leaves enhanced codes out when ENHANCEDSTATUSCODES is off', () => {
    const session = started({ extensions: { enhancedStatusCodes: false } });
    session.receive(bytes('MAIL FROM:<a@x.example>\r\nFOO\r\n'));
    drain(session, () => session.reject({ code: 550, enhanced: '5.7.1', text: 'Refused' }));
    expect(output(session)).toBe('550 Refused\r\n500 Syntax error, command unrecognized\r\n');
  });

  it('ignores decisions after the session closed (a hook finishing late)', () => {
    const session = started();
    session.receive(bytes('MAIL FROM:<a@x.example>\r\n'));
    drain(session, () => undefined);
    session.shutdown();
    expect(() => session.accept()).not.toThrow();
    expect(output(session)).toBe('421 4.3.2 Service shutting down, closing connection\r\n');
  });

  it('LMTP: acceptEach needs one reply per accepted recipient', () => {
    const session = started({ mode: 'lmtp' });
    session.receive(
      bytes('MAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nRCPT TO:<c@x.example>\r\nDATA\r\n.\r\n'),
    );
    drain(session, (event) => {
      if (event.type !== 'message-end') session.accept();
    });
    expect(() => session.acceptEach([{ code: 250, text: 'one' }])).toThrow(SmtpUsageError);
    session.acceptEach([
      { code: 250, text: 'b ok' },
      { code: 550, enhanced: '5.2.1', text: 'c disabled' },
    ]);
    expect(output(session)).toMatch(/250 2\.0\.0 b ok\r\n550 5\.2\.1 c disabled\r\n$/);
  });

  it('acceptEach outside LMTP is a usage error', () => {
    const session = started();
    session.receive(bytes('MAIL FROM:<a@x.example>\r\n'));
    drain(session, () => undefined);
    expect(() => session.acceptEach([])).toThrow(SmtpUsageError);
  });
});

describe('AUTH', () => {
  const options: Partial<ServerSessionOptions> = {
    extensions: { auth: ['PLAIN', 'CRAM-MD5'] },
    tls: { active: true },
  };

  it('raises auth with the verify step, then authenticated', () => {
    const session = started(options);
    session.receive(bytes('AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n'));
    const events = drain(session);
    expect(events[0]).toEqual({
      type: 'auth',
      mechanism: 'PLAIN',
      step: {
        type: 'verify',
        credentials: { mechanism: 'PLAIN', username: 'alice', password: 'secret', authorizationId: null },
      },
    });
    expect(events[1]).toEqual({
      type: 'authenticated',
      username: 'alice',
      authorizationId: null,
      mechanism: 'PLAIN',
    });
    expect(session.authenticated).toEqual({ username: 'alice', authorizationId: null, mechanism: 'PLAIN' });
    expect(output(session)).toBe('235 2.7.0 Authentication successful\r\n');
  });

  it('needs a secret to accept a lookup step', () => {
    const session = started(options);
    session.receive(bytes('AUTH CRAM-MD5\r\n'));
    drain(session);
    const challenge = output(session);
    expect(challenge).toMatch(/^334 [A-Za-z0-9+/=]+\r\n$/);
    expect(session.state.phase).toBe('auth');
    expect(session.timeout).toBe('auth');
    session.receive(bytes(`${btoa('alice 0123456789abcdef0123456789abcdef')}\r\n`));
    const [event] = drain(session, () => undefined);
    expect(event).toMatchObject({ type: 'auth', step: { type: 'lookup', username: 'alice' } });
    expect(() => session.accept()).toThrow(SmtpUsageError);
    session.accept({ secret: { password: 'secret' } });
    expect(output(session)).toBe('535 5.7.8 Authentication credentials invalid\r\n');
    expect(session.authenticated).toBeNull();
  });

  it('reports a proof it checked itself and found wrong', () => {
    const session = started(options);
    session.receive(bytes(`AUTH CRAM-MD5\r\n`));
    drain(session);
    session.receive(bytes(`${btoa('alice 0123456789abcdef0123456789abcdef')}\r\n`));
    drain(session, () => undefined);
    session.accept({ secret: { password: 'secret' } });
    expect(drain(session)).toEqual([
      { type: 'auth-failed', username: 'alice', mechanism: 'CRAM-MD5', reason: 'invalid-credentials' },
    ]);

    expect(session.authenticated).toBeNull();
  });

  it('reports a core-verified exchange cut short by the end of the connection as incomplete', () => {
    const session = started({ ...options, extensions: { auth: ['SCRAM-SHA-256'] } });
    session.receive(bytes(`AUTH SCRAM-SHA-256 ${btoa('n,,n=alice,r=abcdefghijklmnop')}\r\n`));
    drain(session, () => session.accept({ secret: { password: 'secret' } }));
    expect(output(session)).toMatch(/^334 /); // server-first-message; the client never answers
    session.receiveEnd();
    expect(drain(session)).toEqual([
      { type: 'auth-failed', username: 'alice', mechanism: 'SCRAM-SHA-256', reason: 'incomplete' },
      { type: 'close', reason: 'peer-closed' },
    ]);
  });

  it('does not show AUTH credentials in command-rejected events', () => {
    const session = started(options);
    session.receive(bytes('MAIL FROM:<a@x.example>\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n'));
    const events = drain(session);
    expect(events.at(-1)).toMatchObject({ type: 'command-rejected', line: 'AUTH PLAIN ***' });
  });

  it('refuses an over-long AUTH line', () => {
    const session = started({ ...options, limits: { maxAuthLineBytes: 600 } });
    session.receive(bytes('AUTH PLAIN\r\n'));
    drain(session);
    session.takeOutput();
    session.receive(bytes(`${'A'.repeat(700)}\r\nNOOP\r\n`));
    drain(session);
    expect(output(session)).toBe('500 5.5.6 Line too long\r\n250 2.0.0 OK\r\n');
  });
});

describe('STARTTLS', () => {
  it('drops input after STARTTLS and restarts without a greeting', () => {
    const session = started({ extensions: { startTls: true } });
    session.receive(bytes('STARTTLS\r\nMAIL FROM:<evil@x.example>\r\n'));
    expect(drain(session)).toEqual([{ type: 'tls-ready' }]);
    expect(session.state).toEqual({ phase: 'tls-handshake' });
    expect(session.timeout).toBe('tls-handshake');
    expect(session.bufferedBytes).toBe(0);
    session.receive(bytes('RCPT TO:<victim@x.example>\r\n'));
    expect(session.bufferedBytes).toBe(0);
    expect(output(session)).toBe('220 2.0.0 Ready to start TLS\r\n');
    session.tlsStarted();
    expect(session.isTlsActive).toBe(true);
    expect(drain(session)).toEqual([{ type: 'reset', cause: 'tls' }]);
    expect(session.state).toEqual({ phase: 'greeting' });
    expect(session.takeOutput()).toBeNull();
    expect(session.capabilities.startTls).toBe(false);
  });

  it('tlsStarted() without tls-ready is a usage error', () => {
    expect(() => started().tlsStarted()).toThrow(SmtpUsageError);
  });

  it('a timeout during the handshake closes without writing plaintext', () => {
    const session = started({ extensions: { startTls: true } });
    session.receive(bytes('STARTTLS\r\n'));
    drain(session);
    session.takeOutput();
    session.timedOut();
    expect(session.takeOutput()).toBeNull();
    expect(drain(session)).toEqual([{ type: 'close', reason: 'timeout' }]);
  });
});

describe('limits and hostile input', () => {
  it('never buffers an over-long command line', () => {
    const session = started();
    for (let index = 0; index < 100; index++) {
      session.receive(bytes('x'.repeat(1000)));
      drain(session);
      expect(session.bufferedBytes).toBe(0);
    }
    session.receive(bytes('\r\nNOOP\r\n'));
    const events = drain(session);
    expect(events[0]).toMatchObject({ type: 'command-rejected', reply: { code: 500, enhanced: '5.5.6' } });
    expect(output(session)).toBe('500 5.5.6 Line too long\r\n250 2.0.0 OK\r\n');
  });

  it('reports core refusals as command-rejected with the catalogue reply', () => {
    const session = started();
    session.receive(bytes('RCPT TO:<a@x.example>\r\n'));
    expect(drain(session)).toEqual([
      {
        type: 'command-rejected',
        line: 'RCPT TO:<a@x.example>',
        reply: {
          code: replies.mailFirst.code,
          enhanced: replies.mailFirst.enhanced,
          lines: [replies.mailFirst.text],
        },
      },
    ]);
  });

  it('peer close mid-message: pipelined replies first, then message-abort and close', () => {
    const session = started();
    session.receive(bytes('MAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nDATA\r\npartial'));
    session.receiveEnd();
    const types = drain(session).map((event) =>
      event.type === 'message-abort' ? `abort:${event.reason}` : event.type,
    );
    expect(types).toEqual(['mail', 'rcpt', 'message-start', 'message-chunk', 'abort:peer-closed', 'close']);
    expect(() => session.receive(bytes('x'))).toThrow(SmtpUsageError);
  });

  it('XCLIENT raises the peer and greets again', () => {
    const session = started({ extensions: { xclient: true } });
    session.receive(bytes('XCLIENT ADDR=192.0.2.1 PORT=4242 LOGIN=alice\r\n'));
    const events = drain(session);
    expect(events).toEqual([
      { type: 'xclient', peer: { address: '192.0.2.1', port: 4242, login: 'alice' } },
      { type: 'reset', cause: 'xclient' },
    ]);
    expect(output(session)).toBe('220 mx.example ESMTP ready\r\n');
  });
});
