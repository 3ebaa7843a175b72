import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { Mailbox } from '../address/mailbox.js';
import { SmtpCapabilityError, SmtpProtocolError, SmtpReplyError, SmtpUsageError } from '../errors.js';
import { type PreparedMessage, prepareMessage } from '../message/prepared-message.js';
import type { SaslClient } from '../sasl/sasl-client.js';
import type { ClientEvent, ClientSessionOptions, EnvelopeInit } from './client-events.js';
import { ClientSession } from './client-session.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const mailbox = (address: string): Mailbox => {
  const at = address.lastIndexOf('@');
  return { localPart: address.slice(0, at), domain: { kind: 'name', name: address.slice(at + 1) } };
};

function open(options: Partial<ClientSessionOptions> = {}): ClientSession {
  return new ClientSession({ name: 'client.example', ...options });
}

/** Server lines, CRLF appended, delivered as one chunk. */
function serve(session: ClientSession, ...lines: string[]): void {
  session.receive(encoder.encode(lines.map((line) => `${line}\r\n`).join('')));
}

function written(session: ClientSession): string {
  const output = session.takeOutput();
  return output === null ? '' : decoder.decode(output);
}

function drain(session: ClientSession): ClientEvent[] {
  const events: ClientEvent[] = [];
  for (let event = session.nextEvent(); event !== null; event = session.nextEvent()) events.push(event);
  return events;
}

const types = (events: readonly ClientEvent[]) => events.map((event) => event.type);

/** Greeted and EHLO answered with these keywords. */
function ready(keywords: readonly string[], options: Partial<ClientSessionOptions> = {}): ClientSession {
  const session = open(options);
  serve(session, '220 mx.example ESMTP');
  session.hello();
  const verb = options.mode === 'lmtp' ? 'LHLO' : 'EHLO';
  expect(written(session)).toBe(`${verb} client.example\r\n`);
  const lines = ['mx.example', ...keywords];
  serve(session, ...lines.map((line, index) => `250${index === lines.length - 1 ? ' ' : '-'}${line}`));
  drain(session);
  return session;
}

const simpleEnvelope: EnvelopeInit = { from: mailbox('a@client.example'), to: [mailbox('b@mx.example')] };

describe('greeting and hello', () => {
  it('writes nothing before the greeting, then EHLO (RFC 5321 §3.1)', () => {
    const session = open();
    expect(session.state).toEqual({ phase: 'greeting' });
    expect(session.timeout).toBe('greeting');
    session.hello();
    expect(session.takeOutput()).toBeNull();
    serve(session, '220 mx.example ESMTP ready');
    expect(drain(session)).toEqual([
      { type: 'greeting', reply: { code: 220, enhanced: null, lines: ['mx.example ESMTP ready'] } },
    ]);
    expect(written(session)).toBe('EHLO client.example\r\n');
    expect(session.timeout).toBe('command');
    serve(session, '250-mx.example', '250-PIPELINING', '250-SIZE 1000', '250 AUTH PLAIN LOGIN');
    const [event] = drain(session);
    expect(event?.type).toBe('hello');
    if (event?.type !== 'hello') return;
    expect(event.capabilities.pipelining).toBe(true);
    expect(event.capabilities.size).toBe(1000);
    expect(event.capabilities.auth).toEqual(['PLAIN', 'LOGIN']);
    expect(session.capabilities).toBe(event.capabilities);
    expect(session.state).toEqual({ phase: 'ready' });
    expect(session.isIdle).toBe(true);
  });

  for (const code of [500, 502]) {
    it(`falls back to HELO when EHLO gets ${code} (RFC 5321 §3.2)`, () => {
      const session = open();
      serve(session, '220 old.example');
      session.hello();
      written(session);
      serve(session, `${code} Command unrecognized`);
      expect(written(session)).toBe('HELO client.example\r\n');
      expect(drain(session).map((event) => event.type)).toEqual(['greeting']);
      serve(session, '250 old.example');
      const [event] = drain(session);
      expect(event?.type).toBe('hello');
      expect(session.capabilities?.pipelining).toBe(false);
      expect(session.capabilities?.auth).toEqual([]);
    });
  }

  it('does not fall back on other refusals, and never in LMTP', () => {
    const smtp = open();
    serve(smtp, '220 mx.example');
    smtp.hello();
    written(smtp);
    serve(smtp, '550 5.7.1 Go away');
    expect(smtp.takeOutput()).toBeNull();
    const events = drain(smtp);
    expect(types(events)).toEqual(['greeting', 'error']);
    const error = events[1]?.type === 'error' ? events[1].error : null;
    expect(error).toBeInstanceOf(SmtpReplyError);
    expect((error as SmtpReplyError).command).toBe('EHLO client.example');

    const lmtp = open({ mode: 'lmtp' });
    serve(lmtp, '220 lmtp.example LMTP');
    lmtp.hello();
    expect(written(lmtp)).toBe('LHLO client.example\r\n');
    serve(lmtp, '500 What?');
    expect(lmtp.takeOutput()).toBeNull();
    expect(types(drain(lmtp))).toEqual(['greeting', 'error']);
  });

  it('answers a 554 greeting with QUIT and closes on its reply (RFC 5321 §3.1)', () => {
    const session = open();
    session.hello();
    serve(session, '554 5.3.2 No service for you');
    expect(written(session)).toBe('QUIT\r\n');
    const events = drain(session);
    expect(types(events)).toEqual(['error']);
    expect(
      events[0]?.type === 'error' && events[0].error instanceof SmtpReplyError && events[0].error.code,
    ).toBe(554);
    serve(session, '221 2.0.0 Bye');
    expect(types(drain(session))).toEqual(['close']);
    expect(session.state).toEqual({ phase: 'closed', reason: 'quit' });
  });

  it('closes on a 421 greeting without writing anything', () => {
    const session = open();
    session.hello();
    serve(session, '421 4.3.2 Too busy');
    expect(session.takeOutput()).toBeNull();
    expect(types(drain(session))).toEqual(['error', 'close']);
    expect(session.isClosed).toBe(true);
    expect(() => session.hello()).toThrow(SmtpUsageError);
  });

  it('refuses a name that is not a domain or address literal', () => {
    expect(() => open({ name: 'bad name\r\nMAIL FROM:<x@y>' })).toThrow(SmtpUsageError);
    expect(open({ name: '[192.0.2.1]' })).toBeInstanceOf(ClientSession);
  });
});

describe('broken servers', () => {
  it('reports a malformed reply as SmtpProtocolError and closes', () => {
    const session = open();
    session.receive(encoder.encode('hello there\r\n'));
    const events = drain(session);
    expect(types(events)).toEqual(['error', 'close']);
    expect(events[0]?.type === 'error' && events[0].error).toBeInstanceOf(SmtpProtocolError);
  });

  it('reports a reply nobody asked for', () => {
    const session = ready([]);
    serve(session, '250 surprise');
    const events = drain(session);
    expect(types(events)).toEqual(['error', 'close']);
    expect(events[0]?.type === 'error' && events[0].error).toBeInstanceOf(SmtpProtocolError);
  });

  it('treats an unsolicited 421 as the server closing (RFC 5321 §3.8)', () => {
    const session = ready([]);
    serve(session, '421 4.4.2 Idle timeout');
    const events = drain(session);
    expect(types(events)).toEqual(['error', 'close']);
    expect(
      events[0]?.type === 'error' && events[0].error instanceof SmtpReplyError && events[0].error.code,
    ).toBe(421);
  });

  it('treats a 421 mid-transaction as the end, even with replies outstanding', () => {
    const session = ready(['PIPELINING']);
    session.startTransaction(simpleEnvelope);
    written(session);
    serve(session, '250 OK', '421 4.3.2 Shutting down');
    expect(types(drain(session))).toEqual(['error', 'close']);
    expect(session.state.phase).toBe('closed');
    expect(() => session.writeBody(new Uint8Array(1))).toThrow(SmtpUsageError);
  });

  it('reports a 3xx reply to MAIL as a protocol error', () => {
    const session = ready([]);
    session.startTransaction(simpleEnvelope);
    written(session);
    serve(session, '354 go ahead');
    expect(types(drain(session))).toEqual(['error', 'close']);
  });

  it('reports the server closing with replies outstanding', () => {
    const session = ready([]);
    session.command('NOOP');
    session.receiveEnd();
    const events = drain(session);
    expect(types(events)).toEqual(['error', 'close']);
    expect(session.state).toEqual({ phase: 'closed', reason: 'peer-closed' });
  });

  test.prop([fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 })])(
    'never throws on arbitrary input',
    (chunks) => {
      const session = open();
      session.hello();
      for (const chunk of chunks) session.receive(chunk);
      session.receiveEnd();
      const events = drain(session);
      expect(events.at(-1)?.type).toBe('close');
    },
  );
});

describe('STARTTLS (RFC 3207)', () => {
  it('refuses when the server does not offer it', () => {
    const session = ready([]);
    expect(() => session.startTls()).toThrow(SmtpCapabilityError);
    expect(session.takeOutput()).toBeNull();
  });

  it('says EHLO again after tlsStarted() and forgets what it knew (RFC 3207 §4.2)', () => {
    const session = ready(['STARTTLS', 'PIPELINING', 'AUTH LOGIN']);
    session.startTls();
    expect(written(session)).toBe('STARTTLS\r\n');
    serve(session, '220 2.0.0 Ready to start TLS');
    const events = drain(session);
    expect(types(events)).toEqual(['tls-ready']);
    expect(session.state).toEqual({ phase: 'tls-handshake' });
    expect(() => session.hello()).toThrow(SmtpUsageError);
    session.tlsStarted();
    expect(session.isTlsActive).toBe(true);
    expect(session.capabilities).toBeNull();
    expect(written(session)).toBe('EHLO client.example\r\n');
    serve(session, '250-mx.example', '250 AUTH PLAIN');
    const [hello] = drain(session);
    expect(hello?.type === 'hello' && hello.capabilities.auth).toEqual(['PLAIN']);
    expect(session.capabilities?.startTls).toBe(false);
  });

  it('closes with an error when bytes come with the 220 (CVE-2011-0411 injection)', () => {
    const session = ready(['STARTTLS', 'PIPELINING']);
    session.startTls();
    written(session);
    // An attacker on the path appends a reply to the 220 in the same packet.
    serve(session, '220 2.0.0 Ready to start TLS', '250-injected', '250 AUTH PLAIN');
    const events = drain(session);
    expect(types(events)).toEqual(['error', 'close']);
    const error = events[0]?.type === 'error' ? events[0].error : null;
    expect(error).toBeInstanceOf(SmtpProtocolError);
    expect(error?.message).toMatch(/after its 220 reply to STARTTLS.*RFC 3207 §4\.2/);
    expect(session.state).toEqual({ phase: 'closed', reason: 'error' });
    // A handshake that races the close changes nothing: the session stays closed and sends nothing.
    session.tlsStarted();
    expect(session.state).toEqual({ phase: 'closed', reason: 'error' });
    expect(session.takeOutput()).toBeNull();
  });

  it('closes with an error when bytes arrive after the 220 and before the handshake', () => {
    const session = ready(['STARTTLS']);
    session.startTls();
    written(session);
    serve(session, '220 2.0.0 Ready to start TLS');
    expect(types(drain(session))).toEqual(['tls-ready']);
    // Nothing may come before our ClientHello: the server's handshake only answers it.
    serve(session, '250 more injection');
    const events = drain(session);
    expect(types(events)).toEqual(['error', 'close']);
    expect(session.state).toEqual({ phase: 'closed', reason: 'error' });
  });

  it('reports a refused STARTTLS and stays usable', () => {
    const session = ready(['STARTTLS']);
    session.startTls();
    written(session);
    serve(session, '454 4.7.0 TLS not available');
    expect(types(drain(session))).toEqual(['error']);
    expect(() => session.tlsStarted()).toThrow(SmtpUsageError);
    session.command('NOOP');
    expect(written(session)).toBe('NOOP\r\n');
  });
});

/** A scripted SaslClient: checks the challenges it is given and answers with the given responses. */
function scriptedSasl(
  mechanism: SaslClient['mechanism'],
  initial: string | null,
  steps: readonly { challenge: string; response: string | { error: string } }[],
): SaslClient {
  let index = 0;
  return {
    mechanism,
    initialResponse: () => (initial === null ? null : encoder.encode(initial)),
    respond(challenge) {
      const step = steps[index++];
      if (step === undefined) throw new Error('unexpected challenge');
      expect(decoder.decode(challenge)).toBe(step.challenge);
      return typeof step.response === 'string'
        ? { ok: true, response: encoder.encode(step.response) }
        : { ok: false, error: step.response.error };
    },
  };
}

describe('AUTH (RFC 4954)', () => {
  it('sends the initial response with AUTH, and auth-end on 235', () => {
    const session = ready(['AUTH PLAIN LOGIN']);
    session.authenticate(scriptedSasl('PLAIN', '\0user\0pass', []));
    expect(written(session)).toBe('AUTH PLAIN AHVzZXIAcGFzcw==\r\n');
    expect(session.state).toEqual({ phase: 'auth' });
    serve(session, '235 2.7.0 Authentication successful');
    const events = drain(session);
    expect(types(events)).toEqual(['auth-end']);
    expect(session.state).toEqual({ phase: 'ready' });
  });

  it('sends "=" for an empty initial response', () => {
    const session = ready(['AUTH PLAIN']);
    session.authenticate(scriptedSasl('PLAIN', '', []));
    expect(written(session)).toBe('AUTH PLAIN =\r\n');
  });

  it('answers 334 challenges in base64', () => {
    const session = ready(['AUTH LOGIN']);
    session.authenticate(
      scriptedSasl('LOGIN', null, [
        { challenge: 'Username:', response: 'user' },
        { challenge: 'Password:', response: 'pass' },
      ]),
    );
    expect(written(session)).toBe('AUTH LOGIN\r\n');
    serve(session, '334 VXNlcm5hbWU6');
    expect(written(session)).toBe('dXNlcg==\r\n');
    serve(session, '334 UGFzc3dvcmQ6');
    expect(written(session)).toBe('cGFzcw==\r\n');
    serve(session, '235 2.7.0 OK');
    expect(types(drain(session))).toEqual(['auth-end']);
  });

  it('moves a too-long initial response after an empty 334 (RFC 4954 §4)', () => {
    const session = ready(['AUTH XOAUTH2']);
    const token = 'x'.repeat(600);
    session.authenticate(scriptedSasl('XOAUTH2', token, []));
    expect(written(session)).toBe('AUTH XOAUTH2\r\n');
    serve(session, '334 ');
    expect(written(session)).toBe(`${btoa(token)}\r\n`);
  });

  it('cancels with "*" when the mechanism fails, and reports a protocol error', () => {
    const session = ready(['AUTH SCRAM-SHA-256']);
    session.authenticate(
      scriptedSasl('SCRAM-SHA-256', 'n,,n=user,r=abc', [
        { challenge: 'bogus', response: { error: 'bad server nonce' } },
      ]),
    );
    written(session);
    serve(session, `334 ${btoa('bogus')}`);
    expect(written(session)).toBe('*\r\n');
    serve(session, '501 5.0.0 Authentication cancelled');
    const events = drain(session);
    expect(types(events)).toEqual(['error']);
    const error = events[0]?.type === 'error' ? events[0].error : null;
    expect(error).toBeInstanceOf(SmtpProtocolError);
    expect(error?.message).toContain('bad server nonce');
    expect(session.state).toEqual({ phase: 'ready' });
  });

  it('cancels a challenge that is not base64', () => {
    const session = ready(['AUTH LOGIN']);
    session.authenticate(scriptedSasl('LOGIN', null, []));
    written(session);
    serve(session, '334 not*base64');
    expect(written(session)).toBe('*\r\n');
  });

  it('reports 535 as SmtpReplyError', () => {
    const session = ready(['AUTH PLAIN']);
    session.authenticate(scriptedSasl('PLAIN', '\0u\0p', []));
    written(session);
    serve(session, '535 5.7.8 Authentication credentials invalid');
    const events = drain(session);
    expect(
      events[0]?.type === 'error' && events[0].error instanceof SmtpReplyError && events[0].error.code,
    ).toBe(535);
    expect(events[0]?.type === 'error' && (events[0].error as SmtpReplyError).command).toBe('AUTH PLAIN');
  });

  it('refuses a mechanism the server does not offer', () => {
    const session = ready(['AUTH PLAIN']);
    expect(() => session.authenticate(scriptedSasl('LOGIN', null, []))).toThrow(SmtpCapabilityError);
  });
});

describe('output ownership', () => {
  // A bare LF is written as the CRLF constant every session shares: takeOutput() used to hand it out as is.
  it('never hands out bytes another session writes later', () => {
    const send = () => {
      const session = ready(['PIPELINING']);
      session.startTransaction(simpleEnvelope);
      written(session);
      serve(session, '250 2.1.0 Sender OK', '250 2.1.5 Recipient OK', '354 Go ahead');
      drain(session);
      session.writeBody(encoder.encode('body'));
      written(session);
      session.writeBody(encoder.encode('\n'));
      return session.takeOutput() as Uint8Array;
    };
    send().fill(0x21);
    expect(decoder.decode(send())).toBe('\r\n');
  });
});

describe('transactions', () => {
  it('pipelines MAIL, every RCPT and DATA in one write (RFC 2920 §3.1)', () => {
    const session = ready(['PIPELINING', 'ENHANCEDSTATUSCODES']);
    session.startTransaction({
      from: mailbox('a@client.example'),
      to: [mailbox('b@mx.example'), mailbox('nobody@mx.example')],
    });
    expect(written(session)).toBe(
      'MAIL FROM:<a@client.example>\r\nRCPT TO:<b@mx.example>\r\nRCPT TO:<nobody@mx.example>\r\nDATA\r\n',
    );
    expect(session.state).toEqual({ phase: 'envelope' });
    expect(session.timeout).toBe('mail');
    expect(() => session.writeBody(new Uint8Array(1))).toThrow(SmtpUsageError);
    serve(session, '250 2.1.0 Sender OK', '250 2.1.5 Recipient OK', '550 5.1.1 No such user', '354 Go ahead');
    const events = drain(session);
    expect(types(events)).toEqual(['recipient-result', 'recipient-result', 'body-ready']);
    expect(events[2]).toMatchObject({ type: 'body-ready', transfer: 'DATA', reply: { code: 354 } });
    expect(session.state).toEqual({ phase: 'body', transfer: 'DATA' });
    expect(session.timeout).toBe('data-block');
    session.writeBody(encoder.encode('Subject: x\r\n\r\n.leading dot\r\nbare\nline'));
    session.endBody();
    expect(written(session)).toBe('Subject: x\r\n\r\n..leading dot\r\nbare\r\nline\r\n.\r\n');
    expect(session.timeout).toBe('data-end');
    expect(session.state).toEqual({ phase: 'data-end' });
    serve(session, '250 2.0.0 Queued as 8F3A');
    const [end] = drain(session);
    expect(end?.type).toBe('transaction-end');
    if (end?.type !== 'transaction-end') return;
    expect(end.result.accepted.map((entry) => entry.to)).toEqual([mailbox('b@mx.example')]);
    expect(end.result.rejected).toEqual([
      { to: mailbox('nobody@mx.example'), reply: { code: 550, enhanced: '5.1.1', lines: ['No such user'] } },
    ]);
    expect(end.result.reply?.lines).toEqual(['Queued as 8F3A']);
    expect(session.state).toEqual({ phase: 'ready' });
    expect(session.isIdle).toBe(true);
  });

  it('waits for each reply without PIPELINING, and sends DATA only after an accepted RCPT', () => {
    const session = ready([]);
    session.startTransaction({ from: null, to: [mailbox('b@mx.example'), 'Postmaster'] });
    expect(written(session)).toBe('MAIL FROM:<>\r\n');
    serve(session, '250 OK');
    expect(written(session)).toBe('RCPT TO:<b@mx.example>\r\n');
    expect(session.timeout).toBe('rcpt');
    serve(session, '250 OK');
    expect(written(session)).toBe('RCPT TO:<Postmaster>\r\n');
    serve(session, '250 OK');
    expect(written(session)).toBe('DATA\r\n');
    expect(session.timeout).toBe('data-init');
    serve(session, '354 Go');
    expect(types(drain(session))).toEqual(['recipient-result', 'recipient-result', 'body-ready']);
    session.endBody(encoder.encode('x'));
    expect(written(session)).toBe('x\r\n.\r\n');
  });

  it('pipelines the next transaction after "." in the same write (RFC 2920 §3.1)', () => {
    const session = ready(['PIPELINING']);
    session.startTransaction(simpleEnvelope);
    written(session);
    serve(session, '250 OK', '250 OK', '354 Go');
    drain(session);
    session.endBody(encoder.encode('one\r\n'));
    session.startTransaction({ from: mailbox('c@client.example'), to: [mailbox('d@mx.example')] });
    expect(written(session)).toBe(
      'one\r\n.\r\nMAIL FROM:<c@client.example>\r\nRCPT TO:<d@mx.example>\r\nDATA\r\n',
    );
    // The first message's final reply comes first and ends the first transaction only.
    serve(session, '250 2.0.0 queued as A', '250 OK', '250 OK', '354 Go');
    const events = drain(session);
    expect(types(events)).toEqual(['transaction-end', 'recipient-result', 'body-ready']);
    expect(events[0]).toMatchObject({
      result: { reply: { code: 250, enhanced: '2.0.0', lines: ['queued as A'] } },
    });
    expect(session.state).toEqual({ phase: 'body', transfer: 'DATA' });
    session.endBody(encoder.encode('two\r\n'));
    expect(written(session)).toBe('two\r\n.\r\n');
    serve(session, '250 2.0.0 queued as B');
    expect(drain(session)[0]).toMatchObject({
      type: 'transaction-end',
      result: { reply: { code: 250, enhanced: '2.0.0', lines: ['queued as B'] }, rejected: [] },
    });
    expect(session.isIdle).toBe(true);
  });

  it('a refused first message does not disturb the pipelined next transaction', () => {
    const session = ready(['PIPELINING']);
    session.startTransaction(simpleEnvelope);
    serve(session, '250 OK', '250 OK', '354 Go');
    drain(session);
    session.endBody(encoder.encode('one\r\n'));
    session.startTransaction(simpleEnvelope);
    written(session);
    serve(session, '554 5.7.1 Rejected', '250 OK', '250 OK', '354 Go');
    const events = drain(session);
    expect(types(events)).toEqual(['transaction-end', 'recipient-result', 'body-ready']);
    expect(events[0]).toMatchObject({ result: { reply: { code: 554 } } });
    // No RSET: the final reply to "." ends the transaction on the server too (RFC 5321 §4.1.1.4).
    expect(session.takeOutput()).toBeNull();
  });

  it('pipelines QUIT after "." and closes on the reply', () => {
    const session = ready(['PIPELINING']);
    session.startTransaction(simpleEnvelope);
    serve(session, '250 OK', '250 OK', '354 Go');
    drain(session);
    written(session);
    session.endBody(encoder.encode('one\r\n'));
    session.quit();
    expect(written(session)).toBe('one\r\n.\r\nQUIT\r\n');
    serve(session, '250 2.0.0 queued', '221 Bye');
    expect(types(drain(session))).toEqual(['transaction-end', 'close']);
    expect(session.state).toEqual({ phase: 'closed', reason: 'quit' });
  });

  it('refuses the next transaction while the body is still being written', () => {
    const session = ready(['PIPELINING']);
    session.startTransaction(simpleEnvelope);
    serve(session, '250 OK', '250 OK', '354 Go');
    drain(session);
    session.writeBody(encoder.encode('half'));
    expect(() => session.startTransaction(simpleEnvelope)).toThrow(SmtpUsageError);
  });

  it('takeOutputChunks() returns the same bytes as takeOutput(), without copying the body', () => {
    const session = ready(['PIPELINING']);
    session.startTransaction(simpleEnvelope);
    written(session);
    serve(session, '250 OK', '250 OK', '354 Go');
    drain(session);
    const body = encoder.encode('line one\r\n.dot line\r\nend\r\n');
    session.endBody(body);
    const parts = session.takeOutputChunks();
    expect(decoder.decode(Buffer.concat(parts))).toBe('line one\r\n..dot line\r\nend\r\n.\r\n');
    expect(parts.some((part) => part.buffer === body.buffer)).toBe(true);
    expect(session.takeOutputChunks()).toEqual([]);
    expect(session.takeOutput()).toBeNull();
  });

  it('does not pipeline when the pipelining option is off', () => {
    const session = ready(['PIPELINING'], { pipelining: false });
    session.startTransaction(simpleEnvelope);
    expect(written(session)).toBe('MAIL FROM:<a@client.example>\r\n');
  });

  it('without PIPELINING: no DATA when every recipient is refused; RSET clears the sender', () => {
    const session = ready([]);
    session.startTransaction(simpleEnvelope);
    written(session);
    serve(session, '250 OK');
    written(session);
    serve(session, '550 5.1.1 No such user');
    expect(written(session)).toBe('RSET\r\n');
    const events = drain(session);
    expect(types(events)).toEqual(['recipient-result', 'transaction-end']);
    expect(events[1]).toMatchObject({
      result: { accepted: [], reply: null, rejected: [{ reply: { code: 550 } }] },
    });
    serve(session, '250 2.0.0 Reset');
    expect(drain(session)).toEqual([]);
    expect(session.isIdle).toBe(true);
  });

  it('with PIPELINING: DATA accepted with no recipient gets a single dot (RFC 2920 §3.1)', () => {
    const session = ready(['PIPELINING']);
    session.startTransaction(simpleEnvelope);
    written(session);
    serve(session, '250 OK', '550 No', '354 Go');
    expect(written(session)).toBe('.\r\n');
    expect(types(drain(session))).toEqual(['recipient-result']);
    serve(session, '554 5.5.1 No valid recipients');
    const events = drain(session);
    expect(types(events)).toEqual(['transaction-end']);
    expect(events[0]).toMatchObject({ result: { accepted: [], reply: null } });
    expect(session.takeOutput()).toBeNull();
  });

  it('with PIPELINING: DATA refused after all recipients failed → RSET', () => {
    const session = ready(['PIPELINING']);
    session.startTransaction(simpleEnvelope);
    written(session);
    serve(session, '250 OK', '550 No', '554 5.5.1 No valid recipients');
    expect(written(session)).toBe('RSET\r\n');
    expect(types(drain(session))).toEqual(['recipient-result', 'transaction-end']);
  });

  it('MAIL refused: every recipient carries the MAIL reply (a 451 must not turn into a 503 bounce)', () => {
    const pipelined = ready(['PIPELINING']);
    pipelined.startTransaction({
      from: mailbox('a@client.example'),
      to: [mailbox('b@mx.example'), mailbox('c@mx.example')],
    });
    written(pipelined);
    serve(
      pipelined,
      '451 4.3.0 Try later',
      '503 5.5.1 Need MAIL',
      '503 5.5.1 Need MAIL',
      '503 5.5.1 Need MAIL',
    );
    const events = drain(pipelined);
    expect(types(events)).toEqual(['transaction-end']);
    const result = events[0]?.type === 'transaction-end' ? events[0].result : null;
    expect(result?.reply?.code).toBe(451);
    expect(result?.rejected.map((entry) => entry.reply.code)).toEqual([451, 451]);
    expect(pipelined.takeOutput()).toBeNull(); // no RSET: there is no transaction on the server

    const single = ready([]);
    single.startTransaction(simpleEnvelope);
    written(single);
    serve(single, '550 5.7.1 Sender refused');
    expect(single.takeOutput()).toBeNull();
    expect(types(drain(single))).toEqual(['transaction-end']);
    expect(single.state).toEqual({ phase: 'ready' });
  });

  it('reports a refused DATA as the transaction reply and resets', () => {
    const session = ready([]);
    session.startTransaction(simpleEnvelope);
    written(session);
    serve(session, '250 OK');
    serve(session, '250 OK');
    written(session);
    serve(session, '451 4.3.0 Not now');
    expect(written(session)).toBe('RSET\r\n');
    const events = drain(session);
    expect(events.at(-1)).toMatchObject({ type: 'transaction-end', result: { reply: { code: 451 } } });
  });

  it('refuses to start a second transaction while one is running', () => {
    const session = ready(['PIPELINING']);
    session.startTransaction(simpleEnvelope);
    expect(() => session.startTransaction(simpleEnvelope)).toThrow(SmtpUsageError);
    expect(() => session.command('NOOP')).toThrow(SmtpUsageError);
    // DATA is out: a RSET would become message text.
    expect(() => session.reset()).toThrow(SmtpUsageError);
  });

  it('refuses startTransaction before hello()', () => {
    const session = open();
    serve(session, '220 mx.example');
    expect(() => session.startTransaction(simpleEnvelope)).toThrow(SmtpUsageError);
  });
});

describe('envelope checks (before anything is written)', () => {
  const cases: [string, readonly string[], EnvelopeInit, string][] = [
    ['SIZE over the limit', ['SIZE 1000'], { ...simpleEnvelope, size: 1001 }, 'SIZE'],
    ['8BITMIME', [], { ...simpleEnvelope, body: '8BITMIME' }, '8BITMIME'],
    ['BINARYMIME without CHUNKING', ['BINARYMIME'], { ...simpleEnvelope, body: 'BINARYMIME' }, 'BINARYMIME'],
    ['SMTPUTF8 asked for', [], { ...simpleEnvelope, smtpUtf8: true }, 'SMTPUTF8'],
    [
      'non-ASCII address',
      [],
      { from: mailbox('a@client.example'), to: [mailbox('jösé@mx.example')] },
      'SMTPUTF8',
    ],
    ['REQUIRETLS without TLS', ['REQUIRETLS'], { ...simpleEnvelope, requireTls: true }, 'REQUIRETLS'],
    ['DSN RET', [], { ...simpleEnvelope, dsn: { ret: 'HDRS' } }, 'DSN'],
    ['DSN NOTIFY', [], { from: null, to: [{ to: mailbox('b@mx.example'), notify: 'NEVER' }] }, 'DSN'],
    ['BDAT without CHUNKING', [], { ...simpleEnvelope, transfer: 'BDAT' }, 'CHUNKING'],
  ];
  for (const [name, keywords, envelope, capability] of cases) {
    it(`throws SmtpCapabilityError: ${name}`, () => {
      const session = ready(keywords);
      let error: unknown;
      try {
        session.startTransaction(envelope);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(SmtpCapabilityError);
      expect((error as SmtpCapabilityError).capability).toBe(capability);
      expect(session.takeOutput()).toBeNull();
      expect(session.state).toEqual({ phase: 'ready' });
    });
  }

  it('throws SmtpUsageError on CR, LF or NUL in any value', () => {
    const session = ready(['DSN']);
    const bad = [
      { from: mailbox('a\r\nRCPT TO:<x@y>@client.example'), to: [mailbox('b@mx.example')] },
      { from: null, to: [mailbox('b@mx.example\n')] },
      {
        from: null,
        to: [{ to: mailbox('b@mx.example'), orcpt: { addressType: 'rfc822', address: 'x\0y' } }],
      },
      { from: null, to: [mailbox('b@mx.example')], dsn: { envid: 'id\r' } },
      { from: null, to: [] },
    ] satisfies EnvelopeInit[];
    for (const envelope of bad) {
      expect(() => session.startTransaction(envelope)).toThrow(SmtpUsageError);
      expect(session.takeOutput()).toBeNull();
    }
  });

  it('sends SIZE, BODY, SMTPUTF8, RET, ENVID, REQUIRETLS, NOTIFY and ORCPT', () => {
    const session = ready(['PIPELINING', 'SIZE 0', '8BITMIME', 'SMTPUTF8', 'DSN', 'STARTTLS', 'REQUIRETLS']);
    session.startTls();
    written(session);
    serve(session, '220 go');
    session.tlsStarted();
    written(session);
    serve(
      session,
      '250-mx.example',
      '250-PIPELINING',
      '250-SIZE 0',
      '250-8BITMIME',
      '250-SMTPUTF8',
      '250-DSN',
      '250 REQUIRETLS',
    );
    drain(session);
    session.startTransaction({
      from: mailbox('a@client.example'),
      to: [
        {
          to: mailbox('jösé@mx.example'),
          notify: ['SUCCESS', 'FAILURE'],
          orcpt: { addressType: 'rfc822', address: 'x+y@z' },
        },
      ],
      size: 12345,
      body: '8BITMIME',
      requireTls: true,
      dsn: { ret: 'HDRS', envid: 'QQ314159' },
      transfer: 'DATA',
    });
    const lines = written(session).split('\r\n');
    expect(lines[0]).toMatch(/^MAIL FROM:<a@client\.example> /);
    for (const parameter of [
      'SIZE=12345',
      'BODY=8BITMIME',
      'SMTPUTF8',
      'RET=HDRS',
      'ENVID=QQ314159',
      'REQUIRETLS',
    ]) {
      expect(lines[0]?.split(' ')).toContain(parameter);
    }
    expect(lines[1]).toMatch(/^RCPT TO:<jösé@mx\.example> /);
    expect(lines[1]?.split(' ')).toContain('NOTIFY=SUCCESS,FAILURE');
    expect(lines[1]?.split(' ')).toContain('ORCPT=rfc822;x+2By@z'); // RFC 3461 §4.2: xtext, "+" → "+2B"
    expect(lines[2]).toBe('DATA');
  });
});

describe('internationalized domain names (RFC 6531 §3.2, §3.7)', () => {
  const idnEnvelope: EnvelopeInit = {
    from: mailbox('a@bücher.example'),
    to: [mailbox('b@münchen.example'), mailbox('c@mx.example')],
  };

  it('writes U-label domains as A-labels to a server without SMTPUTF8, and reports the addresses given', () => {
    const session = ready(['PIPELINING']);
    session.startTransaction(idnEnvelope);
    expect(written(session)).toBe(
      'MAIL FROM:<a@xn--bcher-kva.example>\r\nRCPT TO:<b@xn--mnchen-3ya.example>\r\nRCPT TO:<c@mx.example>\r\nDATA\r\n',
    );
    serve(session, '250 OK', '250 OK', '250 OK', '354 go');
    const results = drain(session).filter((event) => event.type === 'recipient-result');
    expect(results.map((event) => event.type === 'recipient-result' && event.to)).toEqual([
      mailbox('b@münchen.example'),
      mailbox('c@mx.example'),
    ]);
  });

  it('keeps U-labels, with SMTPUTF8, when the server offers it', () => {
    const session = ready(['PIPELINING', 'SMTPUTF8']);
    session.startTransaction(idnEnvelope);
    expect(written(session)).toBe(
      'MAIL FROM:<a@bücher.example> SMTPUTF8\r\nRCPT TO:<b@münchen.example>\r\nRCPT TO:<c@mx.example>\r\nDATA\r\n',
    );
  });

  it('still needs SMTPUTF8 for a UTF-8 local part, a UTF-8 rfc822 ORCPT or a name that is no U-label', () => {
    const needing: EnvelopeInit[] = [
      { from: null, to: [mailbox('jösé@bücher.example')] },
      {
        from: null,
        to: [
          { to: mailbox('b@bücher.example'), orcpt: { addressType: 'rfc822', address: 'b@bücher.example' } },
        ],
      },
      { from: mailbox('a@a\u200db.example'), to: [mailbox('b@mx.example')] },
      { ...idnEnvelope, smtpUtf8: true },
    ];
    for (const envelope of needing) {
      const session = ready(['PIPELINING', 'DSN']);
      expect(() => session.startTransaction(envelope)).toThrow(SmtpCapabilityError);
      expect(session.takeOutput()).toBeNull();
    }
  });
});

describe('BDAT (RFC 3030)', () => {
  it('without PIPELINING: body-ready after the RCPT replies, one chunk at a time, BDAT 0 LAST', () => {
    const session = ready(['CHUNKING']);
    session.startTransaction(simpleEnvelope);
    expect(written(session)).toBe('MAIL FROM:<a@client.example>\r\n');
    serve(session, '250 OK');
    expect(written(session)).toBe('RCPT TO:<b@mx.example>\r\n');
    serve(session, '250 OK');
    expect(session.takeOutput()).toBeNull();
    const events = drain(session);
    expect(types(events)).toEqual(['recipient-result', 'body-ready']);
    expect(events[1]).toMatchObject({ transfer: 'BDAT' });
    session.writeBody(encoder.encode('hello\r\n'));
    session.writeBody(encoder.encode('.world'));
    expect(written(session)).toBe('BDAT 7\r\nhello\r\n');
    expect(session.timeout).toBe('data-end');
    serve(session, '250 2.0.0 7 octets');
    expect(written(session)).toBe('BDAT 6\r\n.world');
    session.endBody();
    serve(session, '250 2.0.0 6 octets');
    expect(written(session)).toBe('BDAT 0 LAST\r\n');
    serve(session, '250 2.0.0 Message OK');
    const [end] = drain(session);
    expect(end).toMatchObject({
      type: 'transaction-end',
      result: { reply: { code: 250, lines: ['Message OK'] } },
    });
  });

  it('with PIPELINING: chunks go without waiting; endBody(final) sends BDAT n LAST', () => {
    const session = ready(['PIPELINING', 'CHUNKING', 'BINARYMIME']);
    session.startTransaction({ ...simpleEnvelope, body: 'BINARYMIME' });
    expect(written(session)).toBe(
      'MAIL FROM:<a@client.example> BODY=BINARYMIME\r\nRCPT TO:<b@mx.example>\r\n',
    );
    serve(session, '250 OK', '250 OK');
    drain(session);
    session.writeBody(new Uint8Array([0, 1, 2]));
    session.writeBody(new Uint8Array([3]));
    session.endBody(new Uint8Array([4, 5]));
    const output = session.takeOutput();
    expect(Array.from(output ?? [])).toEqual([
      ...encoder.encode('BDAT 3\r\n'),
      0,
      1,
      2,
      ...encoder.encode('BDAT 1\r\n'),
      3,
      ...encoder.encode('BDAT 2 LAST\r\n'),
      4,
      5,
    ]);
    serve(session, '250 a', '250 b', '250 c');
    expect(drain(session)).toMatchObject([{ type: 'transaction-end', result: { reply: { lines: ['c'] } } }]);
  });

  it('BDAT of a text body sends bare CR and LF as CRLF; the chunk sizes count the added bytes', () => {
    const session = ready(['PIPELINING', 'CHUNKING']);
    session.startTransaction(simpleEnvelope);
    written(session);
    serve(session, '250 OK', '250 OK');
    drain(session);
    session.writeBody(encoder.encode('a\nb\r'));
    session.writeBody(encoder.encode('c\r'));
    session.writeBody(encoder.encode('\nd'));
    session.endBody(encoder.encode('e\r'));
    expect(written(session)).toBe('BDAT 5\r\na\r\nb\rBDAT 3\r\n\nc\rBDAT 2\r\n\ndBDAT 3 LAST\r\ne\r\n');
  });

  it('stops after a failed chunk, ignores later writes and sends RSET', () => {
    const session = ready(['PIPELINING', 'CHUNKING']);
    session.startTransaction(simpleEnvelope);
    written(session);
    serve(session, '250 OK', '250 OK');
    drain(session);
    session.writeBody(encoder.encode('one'));
    session.writeBody(encoder.encode('two'));
    written(session);
    serve(session, '452 4.3.1 Disk full');
    expect(written(session)).toBe('RSET\r\n');
    expect(drain(session)).toMatchObject([{ type: 'transaction-end', result: { reply: { code: 452 } } }]);
    session.writeBody(encoder.encode('three'));
    session.endBody();
    expect(session.takeOutput()).toBeNull();
    serve(session, '503 5.5.1 discarded', '250 2.0.0 Reset');
    expect(drain(session)).toEqual([]);
    expect(session.isIdle).toBe(true);
    session.startTransaction(simpleEnvelope);
    expect(written(session)).toContain('MAIL FROM');
  });

  it('abandons a BDAT transaction on reset()', () => {
    const session = ready(['CHUNKING']);
    session.startTransaction(simpleEnvelope);
    serve(session, '250 OK');
    serve(session, '250 OK');
    written(session);
    session.reset();
    expect(written(session)).toBe('RSET\r\n');
    serve(session, '250 2.0.0 Reset');
    expect(drain(session).at(-1)).toMatchObject({ type: 'reply', command: 'RSET', reply: { code: 250 } });
    session.writeBody(encoder.encode('ignored'));
    session.endBody();
    expect(session.takeOutput()).toBeNull();
  });
});

describe('canStartTransaction', () => {
  /** Whether startTransaction() would throw now, asked of a copy reached the same way. */
  const cases: readonly [string, () => ClientSession][] = [
    ['before the greeting', () => open()],
    [
      'while EHLO is owed',
      () => {
        const session = open();
        serve(session, '220 mx.example');
        session.hello();
        return session;
      },
    ],
    ['ready', () => ready(['PIPELINING', 'STARTTLS', 'AUTH PLAIN'])],
    [
      'during AUTH',
      () => {
        const session = ready(['AUTH PLAIN']);
        session.authenticate({
          mechanism: 'PLAIN',
          initialResponse: () => null,
          respond: () => ({ ok: true, response: new Uint8Array() }),
        });
        return session;
      },
    ],
    [
      'while STARTTLS is owed',
      () => {
        const session = ready(['STARTTLS']);
        session.startTls();
        return session;
      },
    ],
    [
      'during the TLS handshake',
      () => {
        const session = ready(['STARTTLS']);
        session.startTls();
        serve(session, '220 go ahead');
        return session;
      },
    ],
    [
      'during a transaction',
      () => {
        const session = ready(['PIPELINING']);
        session.startTransaction(simpleEnvelope);
        return session;
      },
    ],
    [
      'after quit()',
      () => {
        const session = ready([]);
        session.quit();
        return session;
      },
    ],
    [
      'closed',
      () => {
        const session = ready([]);
        session.receiveEnd();
        return session;
      },
    ],
  ];
  for (const [label, reach] of cases) {
    it(`answers without throwing what startTransaction() would do: ${label}`, () => {
      const answer = reach().canStartTransaction;
      const session = reach();
      let threw = false;
      try {
        session.startTransaction(simpleEnvelope);
      } catch (error) {
        expect(error).toBeInstanceOf(SmtpUsageError);
        threw = true;
      }
      expect(answer).toBe(!threw);
      expect(answer).toBe(label === 'ready');
    });
  }
});

describe('BDAT and the next transaction', () => {
  it('waits for an unanswered BDAT chunk before the next MAIL (RFC 3030 §2: a failed chunk needs RSET)', () => {
    const session = ready(['PIPELINING', 'CHUNKING']);
    session.startTransaction(simpleEnvelope);
    serve(session, '250 OK', '250 OK');
    drain(session);
    written(session);
    session.writeBody(encoder.encode('part'));
    session.endBody(encoder.encode('last'));
    expect(session.canStartTransaction).toBe(false);
    expect(() => session.startTransaction(simpleEnvelope)).toThrow(SmtpUsageError);
    serve(session, '250 2.0.0 chunk');
    expect(session.canStartTransaction).toBe(true);
    session.startTransaction(simpleEnvelope);
    expect(written(session)).toContain('MAIL FROM');
  });

  it('allows the next MAIL right after a lone BDAT LAST', () => {
    const session = ready(['PIPELINING', 'CHUNKING']);
    session.startTransaction(simpleEnvelope);
    serve(session, '250 OK', '250 OK');
    drain(session);
    written(session);
    session.endBody(encoder.encode('all'));
    expect(session.canStartTransaction).toBe(true);
    session.startTransaction(simpleEnvelope);
    expect(session.canStartTransaction).toBe(false); // a transaction of its own is now under way
    expect(written(session)).toBe(
      'BDAT 3 LAST\r\nallMAIL FROM:<a@client.example>\r\nRCPT TO:<b@mx.example>\r\n',
    );
  });
});

describe('LMTP (RFC 2033)', () => {
  it('collects one final reply per accepted recipient', () => {
    const session = ready(['PIPELINING'], { mode: 'lmtp' });
    session.startTransaction({ from: mailbox('a@x'), to: [mailbox('b@y'), mailbox('c@y'), mailbox('d@y')] });
    expect(written(session)).toBe(
      'MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@y>\r\nRCPT TO:<d@y>\r\nDATA\r\n',
    );
    serve(session, '250 OK', '250 OK', '550 No', '250 OK', '354 Go');
    drain(session);
    session.endBody(encoder.encode('Hi\r\n'));
    expect(written(session)).toBe('Hi\r\n.\r\n');
    serve(session, '250 2.0.0 b delivered');
    expect(drain(session)).toEqual([]);
    serve(session, '452 4.2.2 d over quota');
    const [end] = drain(session);
    expect(end?.type).toBe('transaction-end');
    if (end?.type !== 'transaction-end') return;
    expect(end.result.reply).toBeNull();
    expect(end.result.lmtpReplies?.map((entry) => [entry.to, entry.reply.code])).toEqual([
      [mailbox('b@y'), 250],
      [mailbox('d@y'), 452],
    ]);
    expect(end.result.rejected.map((entry) => entry.to)).toEqual([mailbox('c@y')]);
  });

  it('BDAT LAST also gets one reply per recipient', () => {
    const session = ready(['CHUNKING'], { mode: 'lmtp' });
    session.startTransaction({ from: mailbox('a@x'), to: [mailbox('b@y'), mailbox('c@y')] });
    serve(session, '250 OK');
    serve(session, '250 OK');
    serve(session, '250 OK');
    drain(session);
    written(session);
    session.endBody(encoder.encode('Hi\r\n'));
    expect(written(session)).toBe('BDAT 4 LAST\r\nHi\r\n');
    serve(session, '250 b', '250 c');
    expect(drain(session)).toMatchObject([
      {
        type: 'transaction-end',
        result: { lmtpReplies: [{ reply: { lines: ['b'] } }, { reply: { lines: ['c'] } }] },
      },
    ]);
  });
});

describe('other commands', () => {
  it('commandData() sends a raw DATA body dot-stuffed and ended, answered like a command', () => {
    const session = ready(['PIPELINING']);
    session.command('MAIL FROM:<not an address>');
    serve(session, '250 2.1.0 OK');
    session.command('DATA');
    written(session);
    serve(session, '354 Go ahead');
    expect(drain(session)).toMatchObject([
      { type: 'reply', reply: { code: 250 } },
      { type: 'reply', command: 'DATA', reply: { code: 354 } },
    ]);
    session.commandData(encoder.encode('Subject: x\n\n.leading dot\nlast line'));
    expect(written(session)).toBe('Subject: x\r\n\r\n..leading dot\r\nlast line\r\n.\r\n');
    serve(session, '250 2.0.0 Queued');
    expect(drain(session)).toMatchObject([{ type: 'reply', command: '.', reply: { code: 250 } }]);
  });

  it('command() gets a reply event, reset() too, quit() closes', () => {
    const session = ready(['PIPELINING']);
    session.command('VRFY postmaster');
    expect(() => session.command('NOOP\r\nDATA')).toThrow(SmtpUsageError);
    expect(written(session)).toBe('VRFY postmaster\r\n');
    serve(session, '252 2.1.5 Cannot VRFY');
    expect(drain(session)).toMatchObject([
      { type: 'reply', command: 'VRFY postmaster', reply: { code: 252 } },
    ]);
    session.reset();
    serve(session, '250 2.0.0 OK');
    expect(drain(session)).toMatchObject([{ type: 'reply', command: 'RSET' }]);
    expect(written(session)).toBe('RSET\r\n');
    session.quit();
    expect(written(session)).toBe('QUIT\r\n');
    expect(() => session.command('NOOP')).toThrow(SmtpUsageError);
    serve(session, '221 2.0.0 Bye');
    expect(types(drain(session))).toEqual(['close']);
    expect(session.state).toEqual({ phase: 'closed', reason: 'quit' });
  });

  it('lets QUIT follow the final dot in the same group', () => {
    const session = ready(['PIPELINING']);
    session.startTransaction(simpleEnvelope);
    written(session);
    serve(session, '250 OK', '250 OK', '354 Go');
    drain(session);
    session.endBody(encoder.encode('x\r\n'));
    session.quit();
    expect(written(session)).toBe('x\r\n.\r\nQUIT\r\n');
    serve(session, '250 Queued', '221 Bye');
    expect(types(drain(session))).toEqual(['transaction-end', 'close']);
  });

  it('a server closing after QUIT without 221 is a normal close', () => {
    const session = ready([]);
    session.quit();
    session.receiveEnd();
    expect(types(drain(session))).toEqual(['close']);
  });
});

describe('sending the same envelope and message again (load generators)', () => {
  /** Runs one pipelined transaction ending with endBody(body) and returns everything written. */
  function sendOnce(
    session: ClientSession,
    envelope: EnvelopeInit,
    body: Uint8Array | PreparedMessage,
  ): string {
    session.startTransaction(envelope);
    let output = written(session);
    serve(session, '250 2.1.0 Ok', '250 2.1.5 Ok', '354 Go ahead');
    drain(session);
    session.endBody(body);
    output += written(session);
    serve(session, '250 2.0.0 Queued');
    expect(types(drain(session))).toEqual(['transaction-end']);
    return output;
  }

  const message = encoder.encode('Subject: x\r\n\r\n.leading dot\r\nbody\r\n');
  const expected =
    'MAIL FROM:<a@client.example>\r\nRCPT TO:<b@mx.example>\r\nDATA\r\n' +
    'Subject: x\r\n\r\n..leading dot\r\nbody\r\n.\r\n';

  it('writes the same bytes every time for the same envelope object and prepared message', () => {
    const session = ready(['PIPELINING']);
    const prepared = prepareMessage(message);
    for (let round = 0; round < 3; round += 1)
      expect(sendOnce(session, simpleEnvelope, prepared)).toBe(expected);
    // The same bytes as the message given as a chunk.
    expect(sendOnce(session, simpleEnvelope, message)).toBe(expected);
  });

  it('ends a prepared message without a final CRLF with CRLF "." CRLF', () => {
    const session = ready(['PIPELINING']);
    expect(sendOnce(session, simpleEnvelope, prepareMessage(encoder.encode('.no line end')))).toMatch(
      /DATA\r\n\.\.no line end\r\n\.\r\n$/,
    );
  });

  it('sends what a chunk holds now, even when the same chunk was sent before with other bytes', () => {
    const session = ready(['PIPELINING']);
    const reused = encoder.encode('first\r\n');
    expect(sendOnce(session, simpleEnvelope, reused)).toMatch(/DATA\r\nfirst\r\n\.\r\n$/);
    reused.set(encoder.encode('.irst\r\n'));
    expect(sendOnce(session, simpleEnvelope, reused)).toMatch(/DATA\r\n\.\.irst\r\n\.\r\n$/);
  });

  it('plans a different envelope object afresh', () => {
    const session = ready(['PIPELINING']);
    expect(sendOnce(session, simpleEnvelope, message)).toBe(expected);
    const other: EnvelopeInit = { from: mailbox('c@client.example'), to: [mailbox('d@mx.example')] };
    expect(sendOnce(session, other, message)).toContain(
      'MAIL FROM:<c@client.example>\r\nRCPT TO:<d@mx.example>\r\n',
    );
  });

  it('plans the same envelope again after the capabilities change (SIZE offered after a new EHLO)', () => {
    const session = ready(['PIPELINING']);
    const sized: EnvelopeInit = { ...simpleEnvelope, size: 42 };
    expect(sendOnce(session, sized, message)).toContain('MAIL FROM:<a@client.example>\r\n');
    session.hello();
    written(session);
    serve(session, '250-mx.example', '250-PIPELINING', '250 SIZE 1000');
    drain(session);
    expect(sendOnce(session, sized, message)).toContain('MAIL FROM:<a@client.example> SIZE=42\r\n');
  });

  it('encodes a prepared message after writeBody() with the running encoder', () => {
    const session = ready(['PIPELINING']);
    session.startTransaction(simpleEnvelope);
    written(session);
    serve(session, '250 Ok', '250 Ok', '354 Go ahead');
    drain(session);
    session.writeBody(encoder.encode('x'));
    // "x" then ".y": the dot is mid-line, so it is not doubled (the prepared encoding would double it).
    session.endBody(prepareMessage(encoder.encode('.y\r\n')));
    expect(written(session)).toBe('x.y\r\n.\r\n');
  });

  it('sends a prepared message as it is with BDAT (RFC 3030)', () => {
    const session = ready(['PIPELINING', 'CHUNKING']);
    session.startTransaction(simpleEnvelope);
    written(session);
    serve(session, '250 Ok', '250 Ok');
    expect(types(drain(session))).toEqual(['recipient-result', 'body-ready']);
    session.endBody(prepareMessage(encoder.encode('.z\r\n')));
    expect(written(session)).toBe('BDAT 4 LAST\r\n.z\r\n');
  });
});

describe('receive()', () => {
  it('keeps nothing of a chunk once it returns, so a reader may reuse its buffer', () => {
    const session = ready(['PIPELINING']);
    session.startTransaction(simpleEnvelope);
    written(session);
    const buffer = new Uint8Array(64);
    const feed = (text: string) => {
      const bytes = encoder.encode(text);
      buffer.set(bytes);
      session.receive(buffer.subarray(0, bytes.length));
      buffer.fill(0x58); // the next read overwrites the buffer
    };
    feed('250 2.1.0 Sender o');
    feed('k\r\n250 2.1.5 Recipient ok\r\n35');
    feed('4 Go ahead\r\n');
    const events = drain(session);
    expect(types(events)).toEqual(['recipient-result', 'body-ready']);
    const [recipient, bodyReady] = events;
    expect(recipient?.type === 'recipient-result' && recipient.reply.lines).toEqual(['Recipient ok']);
    expect(bodyReady?.type === 'body-ready' && bodyReady.reply).toEqual({
      code: 354,
      enhanced: null,
      lines: ['Go ahead'],
    });
  });
});
