import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AuthenticatedUser, SmtpReplyError, type SmtpServerOptions } from '../src/index.js';
import { createCertificate, type TestCertificate } from './helpers/certificates.js';
import { authenticate } from './helpers/sasl-exchange.js';
import { startServer } from './helpers/server.js';
import { SmtpTalk } from './helpers/smtp-talk.js';

let certificate: TestCertificate;
beforeAll(() => {
  certificate = createCertificate('mx.test');
});
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

type OnAuth = NonNullable<SmtpServerOptions['onAuth']>;
type SeenCredentials = Parameters<OnAuth>[0];

const goodToken = 'ya29.a0-good_token~1/2+3=';

/** A token server: XOAUTH2 and OAUTHBEARER listed explicitly (they are never offered by default). */
async function startTokenServer(onAuth: OnAuth) {
  const seen: SeenCredentials[] = [];
  const users: (AuthenticatedUser | null)[] = [];
  const started = await startServer({
    tls: certificate,
    authMechanisms: ['XOAUTH2', 'OAUTHBEARER'],
    limits: { maxAuthFailures: 2 },
    onAuth(credentials, session) {
      seen.push(credentials);
      return onAuth(credentials, session);
    },
    onMailFrom(_from, _parameters, session) {
      users.push(session.user);
    },
  });
  stops.push(started.stop);
  return { ...started, seen, users };
}

/** Greeted, STARTTLS done, EHLO again: ready for AUTH. */
async function secureTalk(port: number): Promise<{ talk: SmtpTalk; ehlo: readonly string[] }> {
  const talk = await SmtpTalk.connect(port);
  await talk.read();
  await talk.command('EHLO client.test');
  expect((await talk.command('STARTTLS')).code).toBe(220);
  await talk.upgrade({ servername: 'mx.test' });
  const ehlo = await talk.command('EHLO client.test');
  return { talk, ehlo: ehlo.lines };
}

const acceptGoodToken: OnAuth = (credentials) => 'token' in credentials && credentials.token === goodToken;

describe('AUTH XOAUTH2 and OAUTHBEARER over STARTTLS (RFC 7628)', () => {
  it('are offered only after STARTTLS: bearer tokens are plaintext credentials', async () => {
    const { port } = await startTokenServer(acceptGoodToken);
    const talk = await SmtpTalk.connect(port);
    await talk.read();
    const plain = await talk.command('EHLO client.test');
    expect(plain.lines.some((line) => line.startsWith('AUTH'))).toBe(false);
    // RFC 4954 §6: 538 5.7.11 when the mechanism needs an encrypted connection.
    expect(await talk.readLineAfter('AUTH XOAUTH2')).toMatch(/^538 5\.7\.11/);
    talk.destroy();
    const { talk: secure, ehlo } = await secureTalk(port);
    expect(ehlo).toContain('AUTH XOAUTH2 OAUTHBEARER');
    secure.destroy();
  });

  it('XOAUTH2: a good token authenticates; onAuth gets user and token; session.user is set', async () => {
    const { port, seen, users, server } = await startTokenServer(acceptGoodToken);
    const { talk } = await secureTalk(port);
    const { challenges, final } = await authenticate(talk, 'XOAUTH2', {
      username: 'alice@example.com',
      token: goodToken,
    });
    expect(challenges).toEqual([]);
    expect([final.code, final.enhanced]).toEqual([235, '2.7.0']);
    expect(seen).toEqual([
      // user= is what the client asks to act as: the token must belong to it.
      {
        mechanism: 'XOAUTH2',
        username: 'alice@example.com',
        token: goodToken,
        authorizationId: 'alice@example.com',
      },
    ]);
    expect((await talk.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    expect(users).toEqual([{ username: 'alice@example.com', authorizationId: null, mechanism: 'XOAUTH2' }]);
    expect(server.metrics.snapshot()).toMatchObject({ authSucceeded: 1, authFailed: 0 });
    talk.destroy();
  });

  it('XOAUTH2 without an initial response: an empty 334, then the client message', async () => {
    const { port, seen } = await startTokenServer(acceptGoodToken);
    const { talk } = await secureTalk(port);
    const empty = await talk.command('AUTH XOAUTH2');
    expect(empty.code).toBe(334);
    expect(empty.lines.join('')).toBe('');
    const message = Buffer.from(`user=bob@example.com\x01auth=Bearer ${goodToken}\x01\x01`).toString(
      'base64',
    );
    expect((await talk.command(message)).code).toBe(235);
    expect(seen).toMatchObject([{ mechanism: 'XOAUTH2', username: 'bob@example.com', token: goodToken }]);
    talk.destroy();
  });

  for (const mechanism of ['XOAUTH2', 'OAUTHBEARER'] as const) {
    it(`${mechanism}: a bad token gets the error JSON as a 334, then 535 5.7.8 after the client's answer`, async () => {
      const { port, seen, server } = await startTokenServer(acceptGoodToken);
      const { talk } = await secureTalk(port);
      talk.send(
        `AUTH ${mechanism} ${Buffer.from(
          mechanism === 'XOAUTH2'
            ? 'user=alice@example.com\x01auth=Bearer expired\x01\x01'
            : 'n,a=alice@example.com,\x01auth=Bearer expired\x01\x01',
        ).toString('base64')}`,
      );
      const challenge = await talk.read();
      expect(challenge.code).toBe(334);
      // RFC 7628 §3.2.2: the error is a JSON object with at least "status".
      const error = JSON.parse(Buffer.from(challenge.lines[0] ?? '', 'base64').toString('utf8'));
      expect(error).toMatchObject({ status: '401', schemes: 'bearer' });
      // No 535 yet: the server waits for the client's answer to the error challenge.
      await expect(talk.read(300)).rejects.toThrow(/timeout/);
      // RFC 7628 §3.2.3: OAUTHBEARER answers with %x01; Google's XOAUTH2 with an empty line.
      talk.send(mechanism === 'OAUTHBEARER' ? Buffer.from([1]).toString('base64') : '');
      const final = await talk.read();
      expect([final.code, final.enhanced]).toEqual([535, '5.7.8']);
      expect(seen).toMatchObject([{ mechanism, token: 'expired' }]);
      // The session is usable afterwards, unauthenticated.
      expect((await talk.command('NOOP')).code).toBe(250);
      expect(server.metrics.snapshot()).toMatchObject({ authFailed: 1, authSucceeded: 0 });
      talk.destroy();
    });
  }

  it("OAUTHBEARER: the GS2 authorization identity and host/port fields reach onAuth; the core's client works end to end", async () => {
    const { port, seen, users } = await startTokenServer(acceptGoodToken);
    const { talk } = await secureTalk(port);
    const { final } = await authenticate(
      talk,
      'OAUTHBEARER',
      { username: 'carol,admin=@example.com', token: goodToken },
      { host: 'mx.test', port },
    );
    expect(final.code).toBe(235);
    // RFC 7628 §3.1: the authzid of the GS2 header ("a=", with "," and "=" escaped as =2C / =3D) is
    // the only name in the message; the core reports it as the username too (the token names the user).
    expect(seen).toEqual([
      {
        mechanism: 'OAUTHBEARER',
        username: 'carol,admin=@example.com',
        token: goodToken,
        authorizationId: 'carol,admin=@example.com',
      },
    ]);
    expect((await talk.command('MAIL FROM:<carol@example.com>')).code).toBe(250);
    expect(users).toMatchObject([{ username: 'carol,admin=@example.com', mechanism: 'OAUTHBEARER' }]);
    talk.destroy();
  });

  it('OAUTHBEARER with the protocol client: a bad token runs the whole error exchange to 535', async () => {
    const { port } = await startTokenServer(acceptGoodToken);
    const { talk } = await secureTalk(port);
    const { challenges, final } = await authenticate(talk, 'OAUTHBEARER', {
      username: 'dave@example.com',
      token: 'revoked',
    });
    expect(challenges.map((challenge) => JSON.parse(challenge).status)).toEqual(['401']);
    expect(final.code).toBe(535);
    talk.destroy();
  });

  it('a thrown SmtpReplyError (token service down) is the final reply, after the error challenge', async () => {
    const { port, server } = await startTokenServer(() => {
      throw new SmtpReplyError({ code: 454, enhanced: '4.7.0', text: 'Token service unavailable' });
    });
    const { talk } = await secureTalk(port);
    const { challenges, final } = await authenticate(talk, 'XOAUTH2', {
      username: 'alice@example.com',
      token: goodToken,
    });
    expect(challenges).toHaveLength(1);
    expect([final.code, final.enhanced, final.lines.at(-1)]).toEqual([
      454,
      '4.7.0',
      'Token service unavailable',
    ]);
    expect(server.metrics.snapshot().handlerErrors).toBe(0);
    talk.destroy();
  });

  it('bad tokens count towards the AUTH throttle like bad passwords', async () => {
    const { port, seen } = await startTokenServer(acceptGoodToken);
    const { talk } = await secureTalk(port);
    for (const token of ['bad1', 'bad2'])
      expect((await authenticate(talk, 'XOAUTH2', { username: 'alice@example.com', token })).final.code).toBe(
        535,
      );
    const { challenges, final } = await authenticate(talk, 'XOAUTH2', {
      username: 'alice@example.com',
      token: goodToken,
    });
    expect([final.code, final.enhanced]).toEqual([454, '4.7.0']);
    expect(challenges).toHaveLength(1); // the OAuth error challenge comes before the 454 too
    expect(seen).toHaveLength(2); // the throttled attempt never reached onAuth
    talk.destroy();
  });
});
