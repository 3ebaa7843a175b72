import { SmtpUsageError } from '../errors.js';
import type { SaslClient, SaslClientCredentials, SaslClientResult } from './sasl-client.js';
import type { SaslSecret, SaslServer, SaslServerStep } from './sasl-server.js';
import { decodeSaslText, encodeUtf8 } from './sasl-text.js';

const malformed: SaslServerStep = { type: 'failure', reason: 'malformed' };

/** RFC 4616 §2: message = [authzid] NUL authcid NUL passwd; authcid and passwd are 1*SAFE (no NUL). */
function parsePlainMessage(bytes: Uint8Array): SaslServerStep {
  const text = decodeSaslText(bytes);
  if (text === null) return malformed;
  const fields = text.split('\0');
  if (fields.length !== 3) return malformed;
  const [authorizationId = '', username = '', password = ''] = fields;
  if (username === '' || password === '') return malformed;
  return {
    type: 'verify',
    credentials: {
      mechanism: 'PLAIN',
      username,
      password,
      authorizationId: authorizationId === '' ? null : authorizationId,
    },
  };
}

/** PLAIN server (RFC 4616): the initial response, or one answer to an empty 334. */
export class PlainServer implements SaslServer {
  readonly mechanism = 'PLAIN' as const;
  #state: 'new' | 'waiting' | 'done' = 'new';

  start(initialResponse: Uint8Array | null): SaslServerStep {
    if (this.#state !== 'new') throw new SmtpUsageError('PLAIN: start() called twice');
    if (initialResponse === null) {
      this.#state = 'waiting';
      return { type: 'challenge', challenge: new Uint8Array(0) };
    }
    this.#state = 'done';
    return parsePlainMessage(initialResponse);
  }

  respond(response: Uint8Array): SaslServerStep {
    if (this.#state !== 'waiting') throw new SmtpUsageError('PLAIN: respond() without a challenge');
    this.#state = 'done';
    return parsePlainMessage(response);
  }

  provideSecret(_secret: SaslSecret): SaslServerStep {
    throw new SmtpUsageError('PLAIN never asks for a secret: check the password in the verify step');
  }

  reject(): SaslServerStep {
    this.#state = 'done';
    return { type: 'failure', reason: 'invalid-credentials' };
  }
}

/** PLAIN client (RFC 4616): everything in the initial response. */
export class PlainClient implements SaslClient {
  readonly mechanism = 'PLAIN' as const;
  readonly #message: Uint8Array;

  constructor(credentials: SaslClientCredentials) {
    const { username, password, authorizationId = '' } = credentials;
    if (password === undefined) throw new SmtpUsageError('PLAIN needs a password');
    if (username === '' || password === '')
      throw new SmtpUsageError('PLAIN needs a non-empty username and password');
    if ([username, password, authorizationId].some((field) => field.includes('\0'))) {
      throw new SmtpUsageError('PLAIN credentials must not contain NUL');
    }
    this.#message = encodeUtf8(`${authorizationId}\0${username}\0${password}`);
  }

  initialResponse(): Uint8Array | null {
    return this.#message;
  }

  /** A server that ignored the initial response sends an empty 334: answer with the message again. */
  respond(challenge: Uint8Array): SaslClientResult {
    if (challenge.length !== 0) return { ok: false, error: 'PLAIN: unexpected challenge from the server' };
    return { ok: true, response: this.#message };
  }
}
