import { SmtpUsageError } from '../errors.js';
import { constantTimeEqual } from './hash/constant-time-equal.js';
import { hmac } from './hash/hmac.js';
import { md5 } from './hash/md5.js';
import type { SaslClient, SaslClientCredentials, SaslClientResult } from './sasl-client.js';
import type { SaslSecret, SaslServer, SaslServerOptions, SaslServerStep } from './sasl-server.js';
import { decodeSaslText, encodeUtf8, toHex } from './sasl-text.js';

const readUint32 = (bytes: Uint8Array, offset: number): number =>
  (((bytes[offset] ?? 0) << 24) |
    ((bytes[offset + 1] ?? 0) << 16) |
    ((bytes[offset + 2] ?? 0) << 8) |
    (bytes[offset + 3] ?? 0)) >>>
  0;

/** RFC 2195 §2: response = username SP 32 lowercase hex digits of HMAC-MD5(password, challenge). */
const responsePattern = /^(.+) ([0-9a-f]{32})$/s;

/**
 * CRAM-MD5 server (RFC 2195): sends `<random.digits@hostname>`, gets `username digest`, asks the
 * application for the password ('lookup') and verifies the digest itself.
 */
export class CramMd5Server implements SaslServer {
  readonly mechanism = 'CRAM-MD5' as const;
  readonly #challenge: Uint8Array;
  #state: 'new' | 'challenged' | 'lookup' | 'done' = 'new';
  #username = '';
  #digest = '';

  constructor(options: SaslServerOptions) {
    const random = options.random(8);
    this.#challenge = encodeUtf8(`<${readUint32(random, 0)}.${readUint32(random, 4)}@${options.hostname}>`);
  }

  start(initialResponse: Uint8Array | null): SaslServerStep {
    if (this.#state !== 'new') throw new SmtpUsageError('CRAM-MD5: start() called twice');
    if (initialResponse !== null) {
      // The server speaks first in CRAM-MD5: there is no initial response.
      this.#state = 'done';
      return { type: 'failure', reason: 'malformed' };
    }
    this.#state = 'challenged';
    return { type: 'challenge', challenge: this.#challenge };
  }

  respond(response: Uint8Array): SaslServerStep {
    if (this.#state !== 'challenged') throw new SmtpUsageError('CRAM-MD5: respond() without a challenge');
    const match = responsePattern.exec(decodeSaslText(response) ?? '');
    if (match === null || match[1]?.includes('\0')) {
      this.#state = 'done';
      return { type: 'failure', reason: 'malformed' };
    }
    this.#username = match[1] as string;
    this.#digest = match[2] as string;
    this.#state = 'lookup';
    return { type: 'lookup', username: this.#username, authorizationId: null };
  }

  provideSecret(secret: SaslSecret): SaslServerStep {
    if (this.#state !== 'lookup') throw new SmtpUsageError('CRAM-MD5: provideSecret() without a lookup');
    if (!('password' in secret))
      throw new SmtpUsageError('CRAM-MD5 needs the password itself, not SCRAM credentials');
    this.#state = 'done';
    const expected = encodeUtf8(toHex(hmac(md5, encodeUtf8(secret.password), this.#challenge)));
    if (!constantTimeEqual(expected, encodeUtf8(this.#digest)))
      return { type: 'failure', reason: 'invalid-credentials' };
    return { type: 'success', username: this.#username, authorizationId: null };
  }

  reject(): SaslServerStep {
    this.#state = 'done';
    return { type: 'failure', reason: 'invalid-credentials' };
  }
}

/** CRAM-MD5 client (RFC 2195). */
export class CramMd5Client implements SaslClient {
  readonly mechanism = 'CRAM-MD5' as const;
  readonly #username: string;
  readonly #password: Uint8Array;

  constructor(credentials: SaslClientCredentials) {
    if (credentials.password === undefined) throw new SmtpUsageError('CRAM-MD5 needs a password');
    this.#username = credentials.username;
    this.#password = encodeUtf8(credentials.password);
  }

  initialResponse(): Uint8Array | null {
    return null;
  }

  respond(challenge: Uint8Array): SaslClientResult {
    if (challenge.length === 0) return { ok: false, error: 'CRAM-MD5: empty challenge' };
    return {
      ok: true,
      response: encodeUtf8(`${this.#username} ${toHex(hmac(md5, this.#password, challenge))}`),
    };
  }
}
