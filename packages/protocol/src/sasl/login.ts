import { SmtpUsageError } from '../errors.js';
import type { SaslClient, SaslClientCredentials, SaslClientResult } from './sasl-client.js';
import type { SaslSecret, SaslServer, SaslServerStep } from './sasl-server.js';
import { decodeSaslText, encodeUtf8 } from './sasl-text.js';

// The de-facto LOGIN prompts (draft-murchison-sasl-login): base64 "VXNlcm5hbWU6" and "UGFzc3dvcmQ6".
const usernamePrompt = encodeUtf8('Username:');
const passwordPrompt = encodeUtf8('Password:');

/** LOGIN server: username and password each as a 334 answer (the username may come as initial response). */
export class LoginServer implements SaslServer {
  readonly mechanism = 'LOGIN' as const;
  #state: 'new' | 'username' | 'password' | 'done' = 'new';
  #username = '';

  start(initialResponse: Uint8Array | null): SaslServerStep {
    if (this.#state !== 'new') throw new SmtpUsageError('LOGIN: start() called twice');
    if (initialResponse === null) {
      this.#state = 'username';
      return { type: 'challenge', challenge: usernamePrompt };
    }
    this.#state = 'username';
    return this.respond(initialResponse);
  }

  respond(response: Uint8Array): SaslServerStep {
    const text = decodeSaslText(response);
    if (this.#state === 'username') {
      if (text === null || text === '' || text.includes('\0')) return this.#fail();
      this.#username = text;
      this.#state = 'password';
      return { type: 'challenge', challenge: passwordPrompt };
    }
    if (this.#state === 'password') {
      this.#state = 'done';
      if (text === null || text === '' || text.includes('\0')) return this.#fail();
      return {
        type: 'verify',
        credentials: { mechanism: 'LOGIN', username: this.#username, password: text, authorizationId: null },
      };
    }
    throw new SmtpUsageError('LOGIN: respond() without a challenge');
  }

  provideSecret(_secret: SaslSecret): SaslServerStep {
    throw new SmtpUsageError('LOGIN never asks for a secret: check the password in the verify step');
  }

  reject(): SaslServerStep {
    this.#state = 'done';
    return { type: 'failure', reason: 'invalid-credentials' };
  }

  #fail(): SaslServerStep {
    this.#state = 'done';
    return { type: 'failure', reason: 'malformed' };
  }
}

/** LOGIN client: answers the prompts; by their text when recognisable, else username first. */
export class LoginClient implements SaslClient {
  readonly mechanism = 'LOGIN' as const;
  readonly #username: Uint8Array;
  readonly #password: Uint8Array;
  #answered = 0;

  constructor(credentials: SaslClientCredentials) {
    if (credentials.password === undefined) throw new SmtpUsageError('LOGIN needs a password');
    this.#username = encodeUtf8(credentials.username);
    this.#password = encodeUtf8(credentials.password);
  }

  initialResponse(): Uint8Array | null {
    return null;
  }

  respond(challenge: Uint8Array): SaslClientResult {
    const prompt = (decodeSaslText(challenge) ?? '').toLowerCase();
    const wantsPassword = prompt.startsWith('pass') || (!prompt.startsWith('user') && this.#answered > 0);
    this.#answered += 1;
    if (this.#answered > 2) return { ok: false, error: 'LOGIN: more than two challenges from the server' };
    return { ok: true, response: wantsPassword ? this.#password : this.#username };
  }
}
