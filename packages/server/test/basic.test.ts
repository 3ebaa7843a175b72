import { afterEach, describe, expect, it } from 'vitest';
import { SmtpReplyError } from '../src/index.js';
import { startServer, streamToBuffer } from './helpers/server.js';
import { SmtpTalk } from './helpers/smtp-talk.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

async function serve(options: Parameters<typeof startServer>[0]) {
  const started = await startServer(options);
  stops.push(started.stop);
  return started;
}

describe('a plain SMTP session over a real socket', () => {
  it('greets, advertises the default extensions, and delivers a message byte-exact', async () => {
    const received: { from: unknown; to: unknown[]; body: Buffer }[] = [];
    const { port } = await serve({
      async onData(stream, session) {
        const body = await streamToBuffer(stream);
        received.push({
          from: session.envelope?.from,
          to: session.envelope?.recipients.map((recipient) => recipient.to) ?? [],
          body,
        });
        return 'Queued as 8F3A';
      },
    });
    const talk = await SmtpTalk.connect(port);
    const greeting = await talk.read();
    expect(greeting.code).toBe(220);
    expect(greeting.lines[0]).toMatch(/^mx\.test\b/);
    const ehlo = await talk.command('EHLO client.test');
    expect(ehlo.code).toBe(250);
    const keywords = ehlo.lines.slice(1).map((line) => line.split(' ')[0]);
    // RFC 2920, 1870, 6152, 6531, 2034, 3030, 3461, default on (RFC 8689 REQUIRETLS only under TLS)
    for (const keyword of [
      'PIPELINING',
      'SIZE',
      '8BITMIME',
      'SMTPUTF8',
      'ENHANCEDSTATUSCODES',
      'CHUNKING',
      'BINARYMIME',
      'DSN',
    ]) {
      expect(keywords).toContain(keyword);
    }
    // No certificates → no STARTTLS; no auth hooks → no AUTH (advertise only what is served).
    expect(keywords).not.toContain('STARTTLS');
    expect(keywords).not.toContain('AUTH');
    expect(await talk.readLineAfter('MAIL FROM:<a@client.test>')).toMatch(/^250 2\.1\.0/);
    expect(await talk.readLineAfter('RCPT TO:<b@mx.test>')).toMatch(/^250 2\.1\.5/);
    expect((await talk.command('DATA')).code).toBe(354);
    talk.write('Subject: hi\r\n\r\n..leading dot\r\nline\r\n.\r\n');
    expect(await talk.readLine()).toBe('250 2.0.0 Queued as 8F3A');
    expect(received).toHaveLength(1);
    expect(received[0]!.body.toString('latin1')).toBe('Subject: hi\r\n\r\n.leading dot\r\nline\r\n');
    expect(received[0]!.from).toEqual({ localPart: 'a', domain: { kind: 'name', name: 'client.test' } });
    expect(received[0]!.to).toEqual([{ localPart: 'b', domain: { kind: 'name', name: 'mx.test' } }]);
    expect((await talk.command('QUIT')).code).toBe(221);
    await talk.closed();
  });

  it('closes after a 421 from onConnect, through the same greeting policy', async () => {
    const { port, server } = await serve({
      onConnect() {
        throw new SmtpReplyError({ code: 421, enhanced: '4.7.0', text: 'Try later' });
      },
    });
    const talk = await SmtpTalk.connect(port);
    expect(await talk.readLine()).toBe('421 mx.test Try later');
    await talk.closed();
    expect(server.metrics.snapshot().connectionsRefused).toBe(1);
  });

  it('sends the reply a hook throws, with its enhanced status', async () => {
    const { port } = await serve({
      onRcptTo(to) {
        if (to !== 'Postmaster' && to.localPart === 'nobody') {
          throw new SmtpReplyError({ code: 550, enhanced: '5.1.1', text: 'No such user' });
        }
      },
    });
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    await talk.command('EHLO client.test');
    await talk.command('MAIL FROM:<a@client.test>');
    expect(await talk.readLineAfter('RCPT TO:<nobody@mx.test>')).toBe('550 5.1.1 No such user');
    expect(await talk.readLineAfter('RCPT TO:<somebody@mx.test>')).toMatch(/^250 2\.1\.5/);
    talk.destroy();
  });

  it('answers 451 4.3.0 when a hook has a bug, logs it, and keeps serving', async () => {
    const logged: object[] = [];
    const logger = {
      debug() {},
      info() {},
      warn() {},
      error(object: object) {
        logged.push(object);
      },
    };
    let calls = 0;
    const { port, server } = await serve({
      logger,
      async onMailFrom() {
        calls += 1;
        if (calls === 1) throw new TypeError('database is down');
        return 'Sender fine';
      },
    });
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    await talk.command('EHLO client.test');
    expect(await talk.readLineAfter('MAIL FROM:<a@client.test>')).toBe(
      '451 4.3.0 Local error in processing, try again later',
    );
    expect(await talk.readLineAfter('MAIL FROM:<a@client.test>')).toBe('250 2.1.0 Sender fine');
    expect(logged).toEqual([expect.objectContaining({ event: 'handler-error', hook: 'onMailFrom' })]);
    expect(server.metrics.snapshot().handlerErrors).toBe(1);
    talk.destroy();
  });

  it('answers pipelined commands in one write, in order (RFC 2920)', async () => {
    const bodies: string[] = [];
    const { port } = await serve({
      async onData(stream) {
        bodies.push((await streamToBuffer(stream)).toString());
      },
    });
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    await talk.command('EHLO client.test');
    talk.write('MAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\nRCPT TO:<c@mx.test>\r\nDATA\r\n');
    const codes = [];
    for (let index = 0; index < 4; index++) codes.push((await talk.read()).code);
    expect(codes).toEqual([250, 250, 250, 354]);
    talk.write('one\r\n.\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<b@mx.test>\r\nDATA\r\n');
    expect((await talk.read()).code).toBe(250);
    expect((await talk.read()).code).toBe(250);
    expect((await talk.read()).code).toBe(250);
    expect((await talk.read()).code).toBe(354);
    talk.write('two\r\n.\r\n');
    expect((await talk.read()).code).toBe(250);
    expect(bodies).toEqual(['one\r\n', 'two\r\n']);
    talk.destroy();
  });

  it('rejects a message through onData and stays usable', async () => {
    const { port, server } = await serve({
      async onData(stream) {
        await streamToBuffer(stream);
        throw new SmtpReplyError({ code: 554, enhanced: '5.7.1', text: 'Spam' });
      },
    });
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    await talk.command('EHLO client.test');
    await talk.command('MAIL FROM:<a@c.test>');
    await talk.command('RCPT TO:<b@mx.test>');
    await talk.command('DATA');
    talk.write('spam\r\n.\r\n');
    expect(await talk.readLine()).toBe('554 5.7.1 Spam');
    expect((await talk.command('NOOP')).code).toBe(250);
    expect(server.metrics.snapshot().messagesRejected).toBe(1);
    talk.destroy();
  });

  it('refuses smuggling: a bare LF before "." does not end the message (550 5.6.0 after the real end)', async () => {
    const bodies: string[] = [];
    const { port } = await serve({
      async onData(stream) {
        bodies.push((await streamToBuffer(stream)).toString());
      },
    });
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    await talk.command('EHLO client.test');
    await talk.command('MAIL FROM:<a@c.test>');
    await talk.command('RCPT TO:<b@mx.test>');
    await talk.command('DATA');
    talk.write('hello\n.\nMAIL FROM:<evil@c.test>\r\nRCPT TO:<victim@mx.test>\r\n.\r\n');
    const reply = await talk.read();
    expect(reply.code).toBe(550);
    expect(reply.enhanced).toBe('5.6.0');
    expect(bodies).toEqual([]);
    expect((await talk.command('NOOP')).code).toBe(250);
    talk.destroy();
  });

  it('offers the hooks a session object with addresses and HELO name', async () => {
    const seen: Record<string, unknown>[] = [];
    const { port } = await serve({
      onConnect(session) {
        session.data.connectedAt = 1;
      },
      onMailFrom(_from, _parameters, session) {
        seen.push({
          remoteAddress: session.remoteAddress,
          localPort: session.localPort,
          client: session.clientHostname,
          verb: session.helloVerb,
          tls: session.tls,
          data: { ...session.data },
        });
      },
    });
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    await talk.command('HELO client.test');
    await talk.command('MAIL FROM:<a@c.test>');
    expect(seen).toEqual([
      {
        remoteAddress: '127.0.0.1',
        localPort: port,
        client: { kind: 'name', name: 'client.test' },
        verb: 'HELO',
        tls: null,
        data: { connectedAt: 1 },
      },
    ]);
    talk.destroy();
  });

  it('refuses the connection when onConnect throws', async () => {
    const { port } = await serve({
      onConnect() {
        throw new SmtpReplyError({ code: 554, enhanced: '5.7.1', text: 'Not welcome' });
      },
    });
    const talk = await SmtpTalk.connect(port);
    // RFC 2034 §4: the greeting carries our hostname, never an enhanced status.
    expect(await talk.readLine()).toBe('554 mx.test Not welcome');
    // RFC 5321 §3.1: after 554 the server MUST wait for QUIT, answering 503 to anything else.
    expect((await talk.command('EHLO client.test')).code).toBe(503);
    expect(await talk.command('MAIL FROM:<a@client.test>')).toMatchObject({ code: 503, enhanced: '5.5.1' });
    expect((await talk.command('QUIT')).code).toBe(221);
    await talk.closed();
  });

  it('serves IPv6 and Unix sockets from the same server', async () => {
    const { server } = await serve({});
    const ipv6 = await server.listen({ port: 0, host: '::1' });
    const talk = await SmtpTalk.connect(ipv6.port, '::1');
    expect((await talk.read()).code).toBe(220);
    talk.destroy();
    const path = `/tmp/smtp-server-test-${process.pid}.sock`;
    const unix = await server.listen({ path });
    expect(unix.family).toBe('unix');
    const { connect } = await import('node:net');
    const socket = connect({ path });
    const overUnix = SmtpTalk.fromSocket(socket);
    expect((await overUnix.read()).code).toBe(220);
    overUnix.destroy();
    expect(server.addresses).toHaveLength(3);
  });
});
