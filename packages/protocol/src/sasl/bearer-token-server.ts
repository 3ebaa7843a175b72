import { SmtpUsageError } from '../errors.js';
import { oauthErrorChallenge } from './oauth-error.js';
import type { SaslCredentials, SaslSecret, SaslServer, SaslServerStep } from './sasl-server.js';

export type BearerTokenCredentials = Extract<SaslCredentials, { mechanism: 'XOAUTH2' | 'OAUTHBEARER' }>;

/**
 * The server side shared by XOAUTH2 and OAUTHBEARER: one client message with a bearer token, the
 * application verifies it; on rejection the error JSON goes out as a 334, the client's answer to it is
 * read, and only then does the session send 535.
 */
export class BearerTokenServer implements SaslServer {
  readonly mechanism: 'XOAUTH2' | 'OAUTHBEARER';
  readonly #parse: (message: Uint8Array) => BearerTokenCredentials | null;
  readonly #scope: string | undefined;
  #state: 'new' | 'waiting' | 'verify' | 'error-sent' | 'done' = 'new';

  constructor(
    mechanism: 'XOAUTH2' | 'OAUTHBEARER',
    parse: (message: Uint8Array) => BearerTokenCredentials | null,
    scope: string | undefined,
  ) {
    this.mechanism = mechanism;
    this.#parse = parse;
    this.#scope = scope;
  }

  start(initialResponse: Uint8Array | null): SaslServerStep {
    if (this.#state !== 'new') throw new SmtpUsageError(`${this.mechanism}: start() called twice`);
    if (initialResponse === null) {
      this.#state = 'waiting';
      return { type: 'challenge', challenge: new Uint8Array(0) };
    }
    return this.#verify(initialResponse);
  }

  respond(response: Uint8Array): SaslServerStep {
    if (this.#state === 'waiting') return this.#verify(response);
    if (this.#state === 'error-sent') {
      // RFC 7628 §3.2.3: the client acknowledges the error (%x01, or empty for XOAUTH2); then 535.
      this.#state = 'done';
      return { type: 'failure', reason: 'invalid-credentials' };
    }
    throw new SmtpUsageError(`${this.mechanism}: respond() without a challenge`);
  }

  provideSecret(_secret: SaslSecret): SaslServerStep {
    throw new SmtpUsageError(`${this.mechanism} never asks for a secret: check the token in the verify step`);
  }

  reject(): SaslServerStep {
    if (this.#state !== 'verify') {
      this.#state = 'done';
      return { type: 'failure', reason: 'invalid-credentials' };
    }
    this.#state = 'error-sent';
    return { type: 'failure', reason: 'invalid-credentials', challenge: oauthErrorChallenge(this.#scope) };
  }

  #verify(message: Uint8Array): SaslServerStep {
    const credentials = this.#parse(message);
    if (credentials === null) {
      this.#state = 'done';
      return { type: 'failure', reason: 'malformed' };
    }
    this.#state = 'verify';
    return { type: 'verify', credentials };
  }
}
