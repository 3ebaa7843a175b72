import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from '../bytes/base64.js';
import { CramMd5Server } from './cram-md5.js';
import { createSaslClient } from './create-sasl-client.js';
import { createSaslServer } from './create-sasl-server.js';
import { parseOauthbearerMessage } from './oauthbearer.js';
import type { SaslClient, SaslClientCredentials } from './sasl-client.js';
import { isPlaintextMechanism, type SaslMechanismName, saslMechanismNames } from './sasl-mechanism.js';
import type { SaslSecret, SaslServer, SaslServerStep } from './sasl-server.js';
import { saslprep } from './saslprep.js';
import { deriveScramCredentials } from './scram-credentials.js';
import { ScramSha256Client, ScramSha256Server } from './scram-sha-256.js';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const string = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const base64 = (value: string): string => encodeBase64(text(value));

let counter = 0;
/** Deterministic `random` for tests: a counter, so runs repeat exactly. */
const fakeRandom = (length: number): Uint8Array => Uint8Array.from({ length }, () => counter++ & 0xff);

interface Account {
  username: string;
  password: string;
  token: string;
}
const account: Account = {
  username: 'tim',
  password: 'tanstaaftanstaaf',
  token: 'vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==',
};

type Outcome =
  | { result: 'success'; username: string; authorizationId: string | null }
  | { result: 'failure'; reason: string; errorChallenge?: string }
  | { result: 'client-error'; error: string };

/**
 * Runs a client against a server the way a session does (334 lines in base64, both ways), with an
 * application that knows one account. `secretKind` picks what lookups get.
 */
function exchange(
  client: SaslClient,
  server: SaslServer,
  options: { secretKind?: 'password' | 'scram' } = {},
): Outcome {
  const wire = (bytes: Uint8Array): Uint8Array => decodeBase64(encodeBase64(bytes)) as Uint8Array;
  const initial = client.initialResponse();
  let step: SaslServerStep = server.start(initial === null ? null : wire(initial));
  let errorChallenge: string | undefined;
  for (let round = 0; round < 10; round++) {
    switch (step.type) {
      case 'challenge': {
        const answer = client.respond(wire(step.challenge));
        if (!answer.ok) return { result: 'client-error', error: answer.error };
        step = server.respond(wire(answer.response));
        break;
      }
      case 'verify': {
        const { credentials } = step;
        const secret = 'password' in credentials ? credentials.password : credentials.token;
        const expected = 'password' in credentials ? account.password : account.token;
        const knownUser =
          credentials.username === account.username || credentials.mechanism === 'OAUTHBEARER';
        if (knownUser && secret === expected) {
          return {
            result: 'success',
            username: credentials.username,
            authorizationId: credentials.authorizationId,
          };
        }
        step = server.reject();
        break;
      }
      case 'lookup': {
        if (step.username !== account.username) {
          step = server.reject();
          break;
        }
        const secret: SaslSecret =
          options.secretKind === 'scram'
            ? { scram: deriveScramCredentials(account.password, { salt: text('pepper'), iterations: 4096 }) }
            : { password: account.password };
        step = server.provideSecret(secret);
        break;
      }
      case 'success':
        return { result: 'success', username: step.username, authorizationId: step.authorizationId };
      case 'failure': {
        if (step.challenge !== undefined) {
          errorChallenge = string(step.challenge);
          const answer = client.respond(wire(step.challenge));
          if (!answer.ok) return { result: 'client-error', error: answer.error };
          step = server.respond(answer.response);
          break;
        }
        return errorChallenge === undefined
          ? { result: 'failure', reason: step.reason }
          : { result: 'failure', reason: step.reason, errorChallenge };
      }
    }
  }
  throw new Error('exchange did not end');
}

const serverFor = (mechanism: SaslMechanismName): SaslServer =>
  createSaslServer(mechanism, { hostname: 'mx.example', random: fakeRandom, oauthScope: 'mail' });
const clientFor = (mechanism: SaslMechanismName, credentials: SaslClientCredentials): SaslClient =>
  createSaslClient(mechanism, credentials, { random: fakeRandom, host: 'mx.example', port: 587 });

describe('mechanism list', () => {
  it('is strongest first and marks the ones that send secrets in clear', () => {
    expect(saslMechanismNames).toEqual([
      'SCRAM-SHA-256',
      'CRAM-MD5',
      'OAUTHBEARER',
      'XOAUTH2',
      'PLAIN',
      'LOGIN',
    ]);
    expect(saslMechanismNames.filter(isPlaintextMechanism)).toEqual([
      'OAUTHBEARER',
      'XOAUTH2',
      'PLAIN',
      'LOGIN',
    ]);
  });
});

describe.each(saslMechanismNames)('%s client and server', (mechanism) => {
  const usesToken = mechanism === 'XOAUTH2' || mechanism === 'OAUTHBEARER';
  const good = usesToken
    ? { username: account.username, token: account.token }
    : { username: account.username, password: account.password };
  const bad = usesToken ? { ...good, token: 'wrong' } : { ...good, password: 'wrong password' };

  it('authenticates with the right secret', () => {
    expect(exchange(clientFor(mechanism, good), serverFor(mechanism))).toEqual({
      result: 'success',
      username: account.username,
      // The bearer mechanisms carry one name, the identity the client asks to act as (user= / a=).
      authorizationId: usesToken ? account.username : null,
    });
  });

  it('fails with invalid-credentials on a wrong secret', () => {
    const outcome = exchange(clientFor(mechanism, bad), serverFor(mechanism));
    expect(outcome).toMatchObject({ result: 'failure', reason: 'invalid-credentials' });
    if (usesToken) {
      // RFC 7628 §3.2.2: the error JSON goes out as a 334 before the 535.
      expect(JSON.parse((outcome as { errorChallenge: string }).errorChallenge)).toEqual({
        status: '401',
        schemes: 'bearer',
        scope: 'mail',
      });
    }
  });

  if (!usesToken) {
    it('fails with invalid-credentials for an unknown user', () => {
      const outcome = exchange(clientFor(mechanism, { ...good, username: 'nobody' }), serverFor(mechanism));
      expect(outcome).toEqual({ result: 'failure', reason: 'invalid-credentials' });
    });
  }

  test.prop([fc.array(fc.uint8Array({ maxLength: 60 }), { minLength: 1, maxLength: 4 }), fc.boolean()])(
    'never throws on arbitrary client messages, and ends in a failure or a request to the application',
    (messages, withInitial) => {
      const server = serverFor(mechanism);
      let step = server.start(withInitial ? (messages[0] as Uint8Array) : null);
      for (const message of messages.slice(withInitial ? 1 : 0)) {
        if (step.type !== 'challenge') break;
        step = server.respond(message);
      }
      expect(['challenge', 'failure', 'verify', 'lookup']).toContain(step.type);
    },
  );
});

describe('PLAIN (RFC 4616)', () => {
  it('§4 examples: no authzid, and authzid "Ursel" for "Kurt"', () => {
    const first = createSaslServer('PLAIN', { hostname: 'h', random: fakeRandom }).start(
      text('\0tim\0tanstaaftanstaaf'),
    );
    expect(first).toEqual({
      type: 'verify',
      credentials: {
        mechanism: 'PLAIN',
        username: 'tim',
        password: 'tanstaaftanstaaf',
        authorizationId: null,
      },
    });
    const second = createSaslServer('PLAIN', { hostname: 'h', random: fakeRandom }).start(
      text('Ursel\0Kurt\0xipj3plmq'),
    );
    expect(second).toEqual({
      type: 'verify',
      credentials: { mechanism: 'PLAIN', username: 'Kurt', password: 'xipj3plmq', authorizationId: 'Ursel' },
    });
  });
  it('sends an empty challenge when there is no initial response', () => {
    const server = createSaslServer('PLAIN', { hostname: 'h', random: fakeRandom });
    expect(server.start(null)).toEqual({ type: 'challenge', challenge: new Uint8Array(0) });
    expect(server.respond(text('\0tim\0pw'))).toMatchObject({ type: 'verify' });
  });
  it.each([
    ['no NUL', 'timpassword'],
    ['one NUL', 'tim\0password'],
    ['three NULs', '\0tim\0pass\0word'],
    ['empty authcid', 'authz\0\0password'],
    ['empty password', '\0tim\0'],
    ['empty message', ''],
  ])('refuses %s as malformed', (_, message) => {
    expect(createSaslServer('PLAIN', { hostname: 'h', random: fakeRandom }).start(text(message))).toEqual({
      type: 'failure',
      reason: 'malformed',
    });
  });
  it('refuses invalid UTF-8 as malformed', () => {
    const message = Uint8Array.from([0, 0x74, 0, 0xff, 0xfe]);
    expect(createSaslServer('PLAIN', { hostname: 'h', random: fakeRandom }).start(message)).toMatchObject({
      reason: 'malformed',
    });
  });
  it('client puts authzid, authcid and password in the initial response', () => {
    const client = createSaslClient('PLAIN', {
      username: 'Kurt',
      password: 'xipj3plmq',
      authorizationId: 'Ursel',
    });
    expect(string(client.initialResponse() as Uint8Array)).toBe('Ursel\0Kurt\0xipj3plmq');
  });
});

describe('LOGIN', () => {
  it('prompts with "VXNlcm5hbWU6" and "UGFzc3dvcmQ6"', () => {
    const server = createSaslServer('LOGIN', { hostname: 'h', random: fakeRandom });
    const first = server.start(null);
    expect(first.type === 'challenge' && encodeBase64(first.challenge)).toBe('VXNlcm5hbWU6');
    const second = server.respond(text('tim'));
    expect(second.type === 'challenge' && encodeBase64(second.challenge)).toBe('UGFzc3dvcmQ6');
    expect(server.respond(text('secret'))).toEqual({
      type: 'verify',
      credentials: { mechanism: 'LOGIN', username: 'tim', password: 'secret', authorizationId: null },
    });
  });
  it('takes the username from an initial response', () => {
    const server = createSaslServer('LOGIN', { hostname: 'h', random: fakeRandom });
    expect(server.start(text('tim'))).toMatchObject({ type: 'challenge' });
    expect(server.respond(text('secret'))).toMatchObject({ type: 'verify' });
  });
  it('refuses an empty username as malformed', () => {
    const server = createSaslServer('LOGIN', { hostname: 'h', random: fakeRandom });
    server.start(null);
    expect(server.respond(new Uint8Array(0))).toEqual({ type: 'failure', reason: 'malformed' });
  });
});

describe('CRAM-MD5 (RFC 2195 §2)', () => {
  /** `random` that yields 1896 and 697170952 as the two 32-bit numbers of the challenge. */
  const rfcRandom = (length: number): Uint8Array => {
    const bytes = new Uint8Array(length);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, 1896);
    view.setUint32(4, 697170952);
    return bytes;
  };

  it('reproduces the RFC exchange', () => {
    const server = new CramMd5Server({ hostname: 'postoffice.reston.mci.net', random: rfcRandom });
    const challenge = server.start(null);
    expect(challenge.type === 'challenge' && encodeBase64(challenge.challenge)).toBe(
      base64('<1896.697170952@postoffice.reston.mci.net>'),
    );
    const client = createSaslClient('CRAM-MD5', { username: 'tim', password: 'tanstaaftanstaaf' });
    const answer = client.respond((challenge as { challenge: Uint8Array }).challenge);
    expect(answer.ok && string(answer.response)).toBe('tim b913a602c7eda7a495b4e6e7334d3890');
    expect(server.respond(text('tim b913a602c7eda7a495b4e6e7334d3890'))).toEqual({
      type: 'lookup',
      username: 'tim',
      authorizationId: null,
    });
    expect(server.provideSecret({ password: 'tanstaaftanstaaf' })).toEqual({
      type: 'success',
      username: 'tim',
      authorizationId: null,
    });
  });
  it.each(['tim', 'tim B913A602C7EDA7A495B4E6E7334D3890', ' b913a602c7eda7a495b4e6e7334d3890', 'tim b913'])(
    'refuses %j as malformed',
    (response) => {
      const server = new CramMd5Server({ hostname: 'h', random: rfcRandom });
      server.start(null);
      expect(server.respond(text(response))).toEqual({ type: 'failure', reason: 'malformed' });
    },
  );
  it('refuses an initial response', () => {
    expect(new CramMd5Server({ hostname: 'h', random: rfcRandom }).start(text('x'))).toMatchObject({
      reason: 'malformed',
    });
  });
});

describe('XOAUTH2', () => {
  it('parses user=..^Aauth=Bearer ..^A^A', () => {
    const step = createSaslServer('XOAUTH2', { hostname: 'h', random: fakeRandom }).start(
      text('user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01'),
    );
    expect(step).toEqual({
      type: 'verify',
      credentials: {
        mechanism: 'XOAUTH2',
        username: 'someuser@example.com',
        token: 'ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg',
        authorizationId: 'someuser@example.com',
      },
    });
  });
  it.each([
    'user=a\x01auth=Bearer t\x01',
    'user=a\x01auth=Basic t\x01\x01',
    'auth=Bearer t\x01\x01',
    '\x01\x01',
  ])('refuses %j as malformed', (message) => {
    expect(createSaslServer('XOAUTH2', { hostname: 'h', random: fakeRandom }).start(text(message))).toEqual({
      type: 'failure',
      reason: 'malformed',
    });
  });
  it('client acknowledges the error challenge with an empty response', () => {
    const client = createSaslClient('XOAUTH2', { username: 'a', token: 't' });
    client.initialResponse();
    expect(client.respond(text('{"status":"401"}'))).toEqual({ ok: true, response: new Uint8Array(0) });
  });
});

describe('OAUTHBEARER (RFC 7628)', () => {
  it('§4.1 example initial response', () => {
    const message =
      'n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01';
    expect(parseOauthbearerMessage(text(message))).toEqual({
      mechanism: 'OAUTHBEARER',
      username: 'user@example.com',
      token: 'vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==',
      authorizationId: 'user@example.com',
    });
  });
  it('without a= there is no authorization identity: the token alone names the user', () => {
    expect(parseOauthbearerMessage(text('n,,\x01auth=Bearer abc\x01\x01'))).toEqual({
      mechanism: 'OAUTHBEARER',
      username: '',
      token: 'abc',
      authorizationId: null,
    });
  });
  it('client builds the GS2 header, host, port and auth', () => {
    const client = createSaslClient(
      'OAUTHBEARER',
      { username: 'user@example.com', token: 'abc' },
      { host: 'mx.example', port: 587 },
    );
    expect(string(client.initialResponse() as Uint8Array)).toBe(
      'n,a=user@example.com,\x01host=mx.example\x01port=587\x01auth=Bearer abc\x01\x01',
    );
    expect(client.respond(text('{"status":"401"}'))).toEqual({ ok: true, response: Uint8Array.of(1) });
  });
  it.each([
    'p=tls-unique,,\x01auth=Bearer t\x01\x01',
    'n,,\x01host=x\x01\x01',
    'n,,auth=Bearer t\x01\x01',
    'n,,\x01auth=Bearer t\x01auth=Bearer u\x01\x01',
    'n,a=a=ZZ,\x01auth=Bearer t\x01\x01',
  ])('refuses %j as malformed', (message) => {
    expect(parseOauthbearerMessage(text(message))).toBeNull();
  });
});

describe('SCRAM-SHA-256 (RFC 5802, RFC 7677)', () => {
  const clientNonce = 'rOprNGfwEbeRWgbNEkqO';
  const serverNonce = '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
  const serverFirst = `r=${clientNonce}${serverNonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`;
  const clientFinal = `c=biws,r=${clientNonce}${serverNonce},p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=`;
  const serverFinal = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';
  const salt = decodeBase64('W22ZaJ0SNY7soEsUEjb6gQ==') as Uint8Array;

  it('client reproduces RFC 7677 §3', () => {
    const client = new ScramSha256Client({ username: 'user', password: 'pencil' }, { nonce: clientNonce });
    expect(string(client.initialResponse() as Uint8Array)).toBe(`n,,n=user,r=${clientNonce}`);
    const final = client.respond(text(serverFirst));
    expect(final.ok && string(final.response)).toBe(clientFinal);
    expect(client.respond(text(serverFinal))).toEqual({ ok: true, response: new Uint8Array(0) });
  });

  it('server reproduces RFC 7677 §3 from stored credentials', () => {
    const server = new ScramSha256Server({ nonce: serverNonce });
    expect(server.start(text(`n,,n=user,r=${clientNonce}`))).toEqual({
      type: 'lookup',
      username: 'user',
      authorizationId: null,
    });
    const first = server.provideSecret({
      scram: deriveScramCredentials('pencil', { salt, iterations: 4096 }),
    });
    expect(first.type === 'challenge' && string(first.challenge)).toBe(serverFirst);
    const final = server.respond(text(clientFinal));
    expect(final.type === 'challenge' && string(final.challenge)).toBe(serverFinal);
    expect(server.respond(new Uint8Array(0))).toEqual({
      type: 'success',
      username: 'user',
      authorizationId: null,
    });
  });

  it('client refuses a server that does not know the password (bad ServerSignature)', () => {
    const client = new ScramSha256Client({ username: 'user', password: 'pencil' }, { nonce: clientNonce });
    client.respond(text(serverFirst));
    const result = client.respond(text('v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='));
    expect(result.ok).toBe(false);
  });

  it('client refuses a server nonce that does not extend its own, and absurd iteration counts', () => {
    const make = () =>
      new ScramSha256Client({ username: 'user', password: 'pencil' }, { nonce: clientNonce });
    expect(make().respond(text('r=other,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096')).ok).toBe(false);
    expect(make().respond(text(`r=${clientNonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`)).ok).toBe(false);
    expect(make().respond(text(`r=${clientNonce}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=999999999`)).ok).toBe(false);
    expect(make().respond(text('m=ext,r=x,s=y,i=1')).ok).toBe(false);
  });

  it('server refuses a wrong proof as invalid-credentials', () => {
    const server = new ScramSha256Server({ nonce: serverNonce });
    server.start(text(`n,,n=user,r=${clientNonce}`));
    server.provideSecret({ scram: deriveScramCredentials('not pencil', { salt, iterations: 4096 }) });
    expect(server.respond(text(clientFinal))).toEqual({ type: 'failure', reason: 'invalid-credentials' });
  });

  it.each([
    ['channel binding requested', 'p=tls-server-end-point,,n=user,r=abc'],
    ['mandatory extension', 'n,,m=ext,n=user,r=abc'],
    ['no nonce', 'n,,n=user'],
    ['bad saslname escape', 'n,,n=us=er,r=abc'],
    ['control character in the name', 'n,,n=us\u0007er,r=abc'],
    ['no GS2 header', 'n=user,r=abc'],
  ])('server refuses client-first with %s as malformed', (_, message) => {
    expect(new ScramSha256Server({ random: fakeRandom }).start(text(message))).toEqual({
      type: 'failure',
      reason: 'malformed',
    });
  });

  it.each([
    [
      'wrong channel binding',
      `c=eSws,r=${clientNonce}${serverNonce},p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=`,
    ],
    ['wrong nonce', `c=biws,r=${clientNonce},p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=`],
    ['no proof', `c=biws,r=${clientNonce}${serverNonce}`],
    ['proof not base64', `c=biws,r=${clientNonce}${serverNonce},p=!!!`],
  ])('server refuses client-final with %s as malformed', (_, message) => {
    const server = new ScramSha256Server({ nonce: serverNonce });
    server.start(text(`n,,n=user,r=${clientNonce}`));
    server.provideSecret({ scram: deriveScramCredentials('pencil', { salt, iterations: 4096 }) });
    expect(server.respond(text(message))).toEqual({ type: 'failure', reason: 'malformed' });
  });

  it('works with an authorization identity and names needing saslname escapes', () => {
    const outcome = exchange(
      new ScramSha256Client(
        { username: 'user', password: 'pencil', authorizationId: 'admin,=x' },
        { random: fakeRandom },
      ),
      new ScramSha256Server({ random: fakeRandom }),
      { secretKind: 'scram' },
    );
    expect(outcome).toEqual({ result: 'failure', reason: 'invalid-credentials' }); // "user" is not the account
    const withAccount = exchange(
      new ScramSha256Client(
        { username: account.username, password: account.password, authorizationId: 'admin,=x' },
        { random: fakeRandom },
      ),
      new ScramSha256Server({ random: fakeRandom }),
      { secretKind: 'scram' },
    );
    expect(withAccount).toEqual({
      result: 'success',
      username: account.username,
      authorizationId: 'admin,=x',
    });
  });
});

describe('saslprep', () => {
  it('maps non-ASCII spaces, drops soft hyphens, normalises NFKC (RFC 4013 §3 examples)', () => {
    expect(saslprep('I\u00adX')).toBe('IX');
    expect(saslprep('user')).toBe('user');
    expect(saslprep('USER')).toBe('USER');
    expect(saslprep('\u00aa')).toBe('a');
    expect(saslprep('\u2168')).toBe('IX');
    expect(saslprep('a\u00a0b')).toBe('a b');
  });
  it('refuses control characters', () => {
    expect(saslprep('\u0007')).toBeNull();
    expect(saslprep('a\u0000b')).toBeNull();
  });
});
