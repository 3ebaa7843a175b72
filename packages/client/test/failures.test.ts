import { afterEach, describe, expect, it } from 'vitest';
import {
  createClient,
  SmtpCapabilityError,
  SmtpConnectionError,
  SmtpReplyError,
  SmtpTimeoutError,
  SmtpTlsError,
  SmtpUsageError,
} from '../src/index.js';
import { type ScriptedAnswer, type ScriptedServer, startScriptedServer } from './helpers.js';

let server: ScriptedServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const message = 'Subject: test\r\n\r\nHello\r\n';

/** A minimal ESMTP peer; `override` may answer a line first. */
function esmtp(
  override: (line: string, state: { inData: boolean }) => ScriptedAnswer | undefined = () => undefined,
) {
  return (line: string, _connection: number, state: { inData: boolean }): ScriptedAnswer => {
    const answer = override(line, state);
    if (answer !== undefined) return answer;
    if (state.inData) {
      if (line !== '.') return null;
      state.inData = false;
      return '250 2.0.0 queued as X1';
    }
    const verb = line.slice(0, 4).toUpperCase();
    if (verb === 'EHLO') return '250-scripted.test\r\n250 ENHANCEDSTATUSCODES';
    if (verb === 'DATA') {
      state.inData = true;
      return '354 go ahead';
    }
    if (verb === 'QUIT') return { reply: '221 bye', close: true };
    return '250 2.0.0 ok';
  };
}

describe('timeouts', () => {
  it('fires when the server never sends its greeting', async () => {
    server = await startScriptedServer(null, () => null);
    const client = createClient({
      host: '127.0.0.1',
      port: server.port,
      starttls: 'never',
      pool: false,
      timeouts: { greetingMs: 300 },
    });
    const error = await client
      .send({ from: 'a@example.com', to: 'b@example.com', message })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmtpTimeoutError);
    expect((error as SmtpTimeoutError).kind).toBe('greeting');
  });

  it('fires when the server never answers MAIL', async () => {
    server = await startScriptedServer(
      '220 scripted.test ESMTP',
      esmtp((line) => (line.startsWith('MAIL') ? null : undefined)),
    );
    const client = createClient({
      host: '127.0.0.1',
      port: server.port,
      starttls: 'never',
      pool: false,
      timeouts: { mailMs: 300 },
    });
    const error = await client
      .send({ from: 'a@example.com', to: 'b@example.com', message })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmtpTimeoutError);
    expect((error as SmtpTimeoutError).kind).toBe('mail');
  });

  it('fires when the server never answers the end of data', async () => {
    server = await startScriptedServer(
      '220 scripted.test ESMTP',
      esmtp((line, state) => (state.inData && line === '.' ? null : undefined)),
    );
    const client = createClient({
      host: '127.0.0.1',
      port: server.port,
      starttls: 'never',
      pool: false,
      timeouts: { dataEndMs: 300 },
    });
    const error = await client
      .send({ from: 'a@example.com', to: 'b@example.com', message })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmtpTimeoutError);
    expect((error as SmtpTimeoutError).kind).toBe('data-end');
  });

  it('the overall deadline ends a send whose steps are each within their timeouts', async () => {
    server = await startScriptedServer(null, () => null);
    const client = createClient({
      host: '127.0.0.1',
      port: server.port,
      starttls: 'never',
      pool: false,
      timeouts: { sendMs: 300 },
    });
    const error = await client
      .send({ from: 'a@example.com', to: 'b@example.com', message })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmtpTimeoutError);
    expect((error as SmtpTimeoutError).kind).toBe('send');
  });

  it('an AbortSignal stops a send in progress', async () => {
    server = await startScriptedServer(null, () => null);
    const client = createClient({ host: '127.0.0.1', port: server.port, starttls: 'never', pool: false });
    const controller = new AbortController();
    const sending = client.send({
      from: 'a@example.com',
      to: 'b@example.com',
      message,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('stop')), 100);
    await expect(sending).rejects.toThrow('stop');
  });
});

describe('server failures', () => {
  it('reports a connection dropped mid-DATA as SmtpConnectionError', async () => {
    server = await startScriptedServer(
      '220 scripted.test ESMTP',
      esmtp((_line, state) => (state.inData ? 'drop' : undefined)),
    );
    const client = createClient({ host: '127.0.0.1', port: server.port, starttls: 'never', pool: false });
    const error = await client
      .send({ from: 'a@example.com', to: 'b@example.com', message })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmtpConnectionError);
  });

  it('reports a 421 mid-session as a temporary SmtpReplyError', async () => {
    server = await startScriptedServer(
      '220 scripted.test ESMTP',
      esmtp((line) =>
        line.startsWith('RCPT') ? { reply: '421 4.3.2 Service shutting down', close: true } : undefined,
      ),
    );
    const client = createClient({ host: '127.0.0.1', port: server.port, starttls: 'never', pool: false });
    const error = await client
      .send({ from: 'a@example.com', to: 'b@example.com', message })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmtpReplyError);
    expect((error as SmtpReplyError).code).toBe(421);
    expect((error as SmtpReplyError).isTemporary).toBe(true);
  });

  it('refuses a connection refused with SmtpConnectionError', async () => {
    server = await startScriptedServer(null, () => null);
    const port = server.port;
    await server.close();
    server = null;
    const client = createClient({ host: '127.0.0.1', port, starttls: 'never', pool: false });
    const error = await client
      .send({ from: 'a@example.com', to: 'b@example.com', message })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmtpConnectionError);
    expect((error as SmtpConnectionError).errorCode).toBe('ECONNREFUSED');
  });

  it('falls back to HELO when EHLO is not recognised (RFC 5321 §3.2)', async () => {
    server = await startScriptedServer(
      '220 scripted.test SMTP',
      esmtp((line) =>
        line.startsWith('EHLO')
          ? '502 5.5.2 Command not recognised'
          : line.startsWith('HELO')
            ? '250 scripted.test'
            : undefined,
      ),
    );
    const client = createClient({
      host: '127.0.0.1',
      port: server.port,
      starttls: 'never',
      pool: false,
      name: 'client.test',
    });
    const result = await client.send({ from: 'a@example.com', to: 'b@example.com', message });
    expect(result.reply.code).toBe(250);
    expect(server.received[0]?.slice(0, 2)).toEqual(['EHLO client.test', 'HELO client.test']);
  });
});

describe('STARTTLS injection (RFC 3207 §4.2, CVE-2011-0411)', () => {
  it('closes with SmtpTlsError when a reply comes with the 220 to STARTTLS, and sends nothing more', async () => {
    server = await startScriptedServer(
      '220 scripted.test ESMTP',
      esmtp((line) => {
        if (line.startsWith('EHLO')) return '250-scripted.test\r\n250 STARTTLS';
        // A man in the middle appends a reply to the 220, hoping the client reads it as post-TLS.
        if (line === 'STARTTLS') return '220 2.0.0 Ready to start TLS\r\n250 2.0.0 injected';
        return undefined;
      }),
    );
    const client = createClient({
      host: '127.0.0.1',
      port: server.port,
      starttls: 'opportunistic',
      pool: false,
      name: 'client.test',
      timeouts: { tlsHandshakeMs: 2000 },
    });
    const error = await client
      .send({ from: 'a@example.com', to: 'b@example.com', message })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmtpTlsError);
    expect((error as Error).message).toMatch(/after its 220 reply to STARTTLS/);
    // No TLS ClientHello, no plaintext fallback: the last thing the server heard is STARTTLS.
    expect(server.received[0]).toEqual(['EHLO client.test', 'STARTTLS']);
  });
});

describe('checks before anything is written', () => {
  it('refuses CR/LF in envelope addresses without connecting', async () => {
    server = await startScriptedServer('220 scripted.test ESMTP', esmtp());
    const client = createClient({ host: '127.0.0.1', port: server.port, starttls: 'never', pool: false });
    await expect(
      client.send({ from: 'a@example.com\r\nRCPT TO:<victim@example.com>', to: 'b@example.com', message }),
    ).rejects.toBeInstanceOf(SmtpUsageError);
    await expect(
      client.send({ from: 'a@example.com', to: ['b@example.com\nDATA'], message }),
    ).rejects.toBeInstanceOf(SmtpUsageError);
    expect(server.received).toEqual([]);
  });

  it('refuses an 8-bit message when the server lacks 8BITMIME, before MAIL', async () => {
    server = await startScriptedServer('220 scripted.test ESMTP', esmtp());
    const client = createClient({ host: '127.0.0.1', port: server.port, starttls: 'never', pool: false });
    const error = await client
      .send({
        from: 'a@example.com',
        to: 'b@example.com',
        message: 'Subject: caf\u00e9\r\n\r\n\u00e9t\u00e9\r\n',
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmtpCapabilityError);
    expect(server.received[0]?.some((line) => line.startsWith('MAIL'))).toBe(false);
  });

  it('refuses to send a password in plaintext without TLS when auth.allowPlaintext is false', async () => {
    server = await startScriptedServer(
      '220 scripted.test ESMTP',
      esmtp((line) => (line.startsWith('EHLO') ? '250-scripted.test\r\n250 AUTH PLAIN LOGIN' : undefined)),
    );
    // On loopback plaintext AUTH is allowed by default; false restores the refusal everywhere.
    const client = createClient({
      host: '127.0.0.1',
      port: server.port,
      starttls: 'opportunistic',
      pool: false,
      auth: { username: 'alice', password: 's3cret', allowPlaintext: false },
    });
    const error = await client
      .send({ from: 'a@example.com', to: 'b@example.com', message })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SmtpCapabilityError);
    expect(server.received[0]?.some((line) => line.startsWith('AUTH'))).toBe(false);
  });
});
