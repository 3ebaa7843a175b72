import { deriveScramCredentials, type SaslClientCredentials, type SaslMechanismName } from '@smtp/protocol';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthenticatedUser,
  type AuthorizationRequest,
  SmtpReplyError,
  type SmtpServerOptions,
} from '../src/index.js';
import { createCertificate, type TestCertificate } from './helpers/certificates.js';
import { createMemoryLogger } from './helpers/memory-logger.js';
import { authenticate } from './helpers/sasl-exchange.js';
import { startServer } from './helpers/server.js';
import { SmtpTalk } from './helpers/smtp-talk.js';

// RFC 4616 §2: the server MUST verify that the credentials permit the client to act as the authzid;
// if not, the exchange fails. The library refuses a foreign authzid unless onAuthorize grants it.

let certificate: TestCertificate;
beforeAll(() => {
  certificate = createCertificate('mx.test');
});
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

const password = 'secret123';
const token = 'ya29.alice-token';
const scram = deriveScramCredentials(password, { salt: new Uint8Array(16).fill(3) });

/**
 * One account, alice, for every mechanism: a password for PLAIN/SCRAM, a bearer token whose subject is
 * alice for XOAUTH2/OAUTHBEARER. onAuth names the token's subject, as a real token check would.
 */
async function startAliceServer(extra: Partial<SmtpServerOptions> = {}) {
  const users: (AuthenticatedUser | null)[] = [];
  const logger = createMemoryLogger();
  const started = await startServer({
    tls: certificate,
    logger,
    authMechanisms: ['PLAIN', 'SCRAM-SHA-256', 'XOAUTH2', 'OAUTHBEARER'],
    limits: { maxAuthFailures: 3 },
    onAuth(credentials) {
      if ('password' in credentials)
        return credentials.username === 'alice' && credentials.password === password;
      return credentials.token === token ? { username: 'alice' } : false;
    },
    onAuthSecret: ({ username }) => (username === 'alice' ? { scram } : null),
    onMailFrom(_from, _parameters, session) {
      users.push(session.user);
    },
    ...extra,
  });
  stops.push(started.stop);
  return { ...started, users, logger };
}

async function secureTalk(port: number): Promise<SmtpTalk> {
  const talk = await SmtpTalk.connect(port);
  await talk.read();
  await talk.command('EHLO client.test');
  expect((await talk.command('STARTTLS')).code).toBe(220);
  await talk.upgrade({ servername: 'mx.test' });
  expect((await talk.command('EHLO client.test')).code).toBe(250);
  return talk;
}

/**
 * Credentials that prove alice and ask to act as `authzid` (null: send none). For the bearer
 * mechanisms the claimed name (XOAUTH2 user=, OAUTHBEARER a=) is the authzid.
 */
function credentialsFor(mechanism: SaslMechanismName, authzid: string | null): SaslClientCredentials {
  if (mechanism === 'XOAUTH2' || mechanism === 'OAUTHBEARER') return { username: authzid ?? '', token };
  return { username: 'alice', password, ...(authzid === null ? {} : { authorizationId: authzid }) };
}

const mechanisms = ['PLAIN', 'SCRAM-SHA-256', 'XOAUTH2', 'OAUTHBEARER'] as const;

describe('AUTH authorization identity (RFC 4616 §2)', () => {
  for (const mechanism of mechanisms) {
    it(`${mechanism}: a foreign authzid with alice's valid credentials is refused with 535 5.7.8`, async () => {
      const { port, server, users, logger } = await startAliceServer();
      const talk = await secureTalk(port);
      const { final } = await authenticate(talk, mechanism, credentialsFor(mechanism, 'postmaster-x'));
      expect([final.code, final.enhanced]).toEqual([535, '5.7.8']);
      // Not authenticated: MAIL works (AUTH is optional here) but the session has no user.
      expect((await talk.command('MAIL FROM:<postmaster-x@example.com>')).code).toBe(250);
      expect(users).toEqual([null]);
      expect(server.metrics.snapshot()).toMatchObject({ authSucceeded: 0, authFailed: 1 });
      expect(logger.records).toContainEqual(
        expect.objectContaining({ event: 'auth-failed', reason: 'authorization-denied', username: 'alice' }),
      );
      talk.destroy();
    });

    it(`${mechanism}: an authzid equal to the authenticated identity is accepted`, async () => {
      const { port, users } = await startAliceServer();
      const talk = await secureTalk(port);
      const { final } = await authenticate(talk, mechanism, credentialsFor(mechanism, 'alice'));
      expect([final.code, final.enhanced]).toEqual([235, '2.7.0']);
      expect((await talk.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
      expect(users).toEqual([{ username: 'alice', authorizationId: null, mechanism }]);
      talk.destroy();
    });

    it(`${mechanism}: foreign-authzid refusals count toward the per-address throttle`, async () => {
      const { port, server } = await startAliceServer();
      const talk = await secureTalk(port);
      for (let attempt = 0; attempt < 3; attempt++) {
        const { final } = await authenticate(talk, mechanism, credentialsFor(mechanism, `other${attempt}`));
        expect(final.code).toBe(535);
      }
      // Now even the honest exchange is throttled.
      const { final } = await authenticate(talk, mechanism, credentialsFor(mechanism, 'alice'));
      expect([final.code, final.enhanced]).toEqual([454, '4.7.0']);
      expect(server.metrics.snapshot()).toMatchObject({ authFailed: 3, authThrottled: 1, authSucceeded: 0 });
      talk.destroy();
    });
  }

  it('PLAIN and SCRAM-SHA-256 without an authzid: session.user is the authcid', async () => {
    const { port, users } = await startAliceServer();
    for (const mechanism of ['PLAIN', 'SCRAM-SHA-256'] as const) {
      const talk = await secureTalk(port);
      const { final } = await authenticate(talk, mechanism, credentialsFor(mechanism, null));
      expect(final.code).toBe(235);
      expect((await talk.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
      talk.destroy();
    }
    expect(users).toEqual([
      { username: 'alice', authorizationId: null, mechanism: 'PLAIN' },
      { username: 'alice', authorizationId: null, mechanism: 'SCRAM-SHA-256' },
    ]);
  });

  it('OAUTHBEARER without a=: the identity onAuth names from the token is session.user', async () => {
    const { port, users } = await startAliceServer();
    const talk = await secureTalk(port);
    const { final } = await authenticate(talk, 'OAUTHBEARER', credentialsFor('OAUTHBEARER', null));
    expect(final.code).toBe(235);
    expect((await talk.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    expect(users).toEqual([{ username: 'alice', authorizationId: null, mechanism: 'OAUTHBEARER' }]);
    talk.destroy();
  });

  it('OAUTHBEARER without a=, accepted without naming an identity: refused, nobody is authenticated', async () => {
    const { port, users, server } = await startAliceServer({ onAuth: () => true });
    const talk = await secureTalk(port);
    const { final } = await authenticate(talk, 'OAUTHBEARER', credentialsFor('OAUTHBEARER', null));
    expect([final.code, final.enhanced]).toEqual([535, '5.7.8']);
    expect((await talk.command('MAIL FROM:<x@example.com>')).code).toBe(250);
    expect(users).toEqual([null]);
    expect(server.metrics.snapshot()).toMatchObject({ authFailed: 1, authSucceeded: 0 });
    talk.destroy();
  });

  describe('onAuthorize grants proxy rights explicitly', () => {
    const grantPostmaster = (requests: AuthorizationRequest[]) => ({
      onAuthorize: async (request: AuthorizationRequest) => {
        requests.push(request);
        await new Promise((resolve) => setTimeout(resolve, 5)); // an async directory lookup
        return request.username === 'alice' && request.authorizationId === 'postmaster-x';
      },
    });

    for (const mechanism of mechanisms) {
      it(`${mechanism}: a granted authzid; session.user is still alice, acting as the authzid`, async () => {
        const requests: AuthorizationRequest[] = [];
        const { port, users } = await startAliceServer(grantPostmaster(requests));
        const talk = await secureTalk(port);
        const { final } = await authenticate(talk, mechanism, credentialsFor(mechanism, 'postmaster-x'));
        expect(final.code).toBe(235);
        expect((await talk.command('MAIL FROM:<postmaster-x@example.com>')).code).toBe(250);
        expect(requests).toEqual([{ mechanism, username: 'alice', authorizationId: 'postmaster-x' }]);
        expect(users).toEqual([{ username: 'alice', authorizationId: 'postmaster-x', mechanism }]);
        talk.destroy();
      });
    }

    it('PLAIN: an authzid the hook does not grant is refused; an equal one never asks the hook', async () => {
      const requests: AuthorizationRequest[] = [];
      const { port } = await startAliceServer(grantPostmaster(requests));
      const talk = await secureTalk(port);
      const refused = await authenticate(talk, 'PLAIN', credentialsFor('PLAIN', 'bob'));
      expect([refused.final.code, refused.final.enhanced]).toEqual([535, '5.7.8']);
      const accepted = await authenticate(talk, 'PLAIN', credentialsFor('PLAIN', 'alice'));
      expect(accepted.final.code).toBe(235);
      expect(requests.map((request) => request.authorizationId)).toEqual(['bob']);
      talk.destroy();
    });

    it('SCRAM-SHA-256: a grant does not replace the proof (wrong password still fails)', async () => {
      const requests: AuthorizationRequest[] = [];
      const { port, users } = await startAliceServer(grantPostmaster(requests));
      const talk = await secureTalk(port);
      const { final } = await authenticate(talk, 'SCRAM-SHA-256', {
        username: 'alice',
        password: 'wrong',
        authorizationId: 'postmaster-x',
      });
      expect([final.code, final.enhanced]).toEqual([535, '5.7.8']);
      expect((await talk.command('MAIL FROM:<x@example.com>')).code).toBe(250);
      expect(users).toEqual([null]);
      talk.destroy();
    });

    it('a thrown SmtpReplyError is the reply, and counts as an AUTH failure', async () => {
      const { port, server } = await startAliceServer({
        onAuthorize() {
          throw new SmtpReplyError({ code: 454, enhanced: '4.7.0', text: 'Directory unavailable' });
        },
      });
      const talk = await secureTalk(port);
      const { final } = await authenticate(talk, 'PLAIN', credentialsFor('PLAIN', 'postmaster-x'));
      expect([final.code, final.enhanced, final.lines.at(-1)]).toEqual([
        454,
        '4.7.0',
        'Directory unavailable',
      ]);
      expect(server.metrics.snapshot()).toMatchObject({ authFailed: 1, authSucceeded: 0 });
      talk.destroy();
    });

    it('anything but true is a refusal (a hook that forgets to return)', async () => {
      const { port } = await startAliceServer({
        // @ts-expect-error: the type asks for a boolean; a JavaScript caller may still return nothing
        onAuthorize() {},
      });
      const talk = await secureTalk(port);
      const { final } = await authenticate(talk, 'PLAIN', credentialsFor('PLAIN', 'postmaster-x'));
      expect([final.code, final.enhanced]).toEqual([535, '5.7.8']);
      talk.destroy();
    });
  });
});
