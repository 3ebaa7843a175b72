import { text } from 'node:stream/consumers';
import { deriveScramCredentials, type SaslMechanismName } from '@smtp/protocol';
import { type AuthenticatedUser, createServer, type SmtpServer } from '@smtp/server';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, SmtpCapabilityError, SmtpReplyError } from '../src/index.js';

// The SASL authorization identity (RFC 4616 §2) end to end: @smtp/client against @smtp/server, which
// refuses an authzid other than the authenticated user unless onAuthorize grants it.

let server: SmtpServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const message = 'Subject: authzid\r\n\r\nhello\r\n';
const scram = deriveScramCredentials('s3cret', { salt: new Uint8Array(16).fill(9) });

interface Seen {
  readonly authzids: (string | null)[];
  readonly users: (AuthenticatedUser | null)[];
}

async function start(mechanisms: readonly SaslMechanismName[], seen: Seen): Promise<number> {
  server = createServer({
    hostname: 'mx.test',
    auth: { allowPlaintext: true }, // loopback test: PLAIN without TLS
    authMechanisms: mechanisms,
    onAuth(credentials) {
      seen.authzids.push(credentials.authorizationId);
      return (
        credentials.username === 'alice' && 'password' in credentials && credentials.password === 's3cret'
      );
    },
    onAuthSecret({ mechanism, username, authorizationId }) {
      seen.authzids.push(authorizationId);
      if (username !== 'alice') return null;
      return mechanism === 'SCRAM-SHA-256' ? { scram } : { password: 's3cret' };
    },
    async onData(stream, session) {
      await text(stream);
      seen.users.push(session.user);
    },
  });
  const address = await server.listen({ port: 0, host: '127.0.0.1', tls: 'off' });
  return address.port;
}

function clientFor(port: number, mechanism: SaslMechanismName, authorizationId?: string) {
  return createClient({
    host: '127.0.0.1',
    port,
    pool: false,
    starttls: 'never',
    auth: {
      username: 'alice',
      password: 's3cret',
      mechanism,
      allowPlaintext: true,
      ...(authorizationId === undefined ? {} : { authorizationId }),
    },
  });
}

describe('auth.authorizationId', () => {
  for (const mechanism of ['PLAIN', 'SCRAM-SHA-256'] as const) {
    it(`${mechanism}: none is sent by default; an equal one is accepted; a foreign one fails with 535 5.7.8`, async () => {
      const seen: Seen = { authzids: [], users: [] };
      const port = await start([mechanism], seen);
      const plain = clientFor(port, mechanism);
      expect((await plain.send({ from: 'alice@example.com', to: 'b@example.com', message })).reply.code).toBe(
        250,
      );
      await plain.close();
      const equal = clientFor(port, mechanism, 'alice');
      expect((await equal.send({ from: 'alice@example.com', to: 'b@example.com', message })).reply.code).toBe(
        250,
      );
      await equal.close();
      const foreign = clientFor(port, mechanism, 'postmaster-x');
      const error = await foreign
        .send({ from: 'postmaster-x@example.com', to: 'b@example.com', message })
        .catch((caught: unknown) => caught);
      await foreign.close();
      expect(error).toBeInstanceOf(SmtpReplyError);
      expect((error as SmtpReplyError).reply).toMatchObject({ code: 535, enhanced: '5.7.8' });
      expect(seen.authzids).toEqual([null, 'alice', 'postmaster-x']);
      expect(seen.users).toEqual([
        { username: 'alice', authorizationId: null, mechanism },
        { username: 'alice', authorizationId: null, mechanism },
      ]);
    });
  }

  it('refuses to drop it silently when only LOGIN or CRAM-MD5 is offered', async () => {
    const seen: Seen = { authzids: [], users: [] };
    const port = await start(['LOGIN', 'CRAM-MD5'], seen);
    const client = createClient({
      host: '127.0.0.1',
      port,
      pool: false,
      starttls: 'never',
      auth: { username: 'alice', password: 's3cret', allowPlaintext: true, authorizationId: 'alice' },
    });
    const error = await client
      .send({ from: 'alice@example.com', to: 'b@example.com', message })
      .catch((caught: unknown) => caught);
    await client.close();
    expect(error).toBeInstanceOf(SmtpCapabilityError);
    expect((error as Error).message).toMatch(/authorization identity needs PLAIN or SCRAM-SHA-256/);
    expect(seen.authzids).toEqual([]); // no AUTH was attempted
  });
});
