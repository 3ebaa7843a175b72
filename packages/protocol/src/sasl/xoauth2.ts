import { SmtpUsageError } from '../errors.js';
import { type BearerTokenCredentials, BearerTokenServer } from './bearer-token-server.js';
import type { SaslClient, SaslClientCredentials, SaslClientResult } from './sasl-client.js';
import type { SaslServerOptions } from './sasl-server.js';
import { decodeSaslText, encodeUtf8 } from './sasl-text.js';

/** Bearer token characters (RFC 6750 §2.1: b64token). */
const tokenPattern = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Google's XOAUTH2: `user=<user>^Aauth=Bearer <token>^A^A`. */
export function parseXoauth2Message(message: Uint8Array): BearerTokenCredentials | null {
  const text = decodeSaslText(message);
  if (text === null || !text.endsWith('\x01\x01')) return null;
  let username: string | null = null;
  let token: string | null = null;
  for (const pair of text.slice(0, -2).split('\x01')) {
    const separator = pair.indexOf('=');
    if (separator <= 0) return null;
    const key = pair.slice(0, separator);
    const value = pair.slice(separator + 1);
    if (key === 'user') username = value;
    else if (key === 'auth') {
      const match = /^Bearer +(.+)$/i.exec(value);
      if (match === null || !tokenPattern.test(match[1] as string)) return null;
      token = match[1] as string;
    }
  }
  if (username === null || username === '' || username.includes('\0') || token === null) return null;
  // As with OAUTHBEARER, the token names the user; `user=` is the identity the client asks to act as.
  return { mechanism: 'XOAUTH2', username, token, authorizationId: username };
}

export function createXoauth2Server(options: Pick<SaslServerOptions, 'oauthScope'>): BearerTokenServer {
  return new BearerTokenServer('XOAUTH2', parseXoauth2Message, options.oauthScope);
}

/** XOAUTH2 client: everything in the initial response; after an error challenge, an empty answer. */
export class Xoauth2Client implements SaslClient {
  readonly mechanism = 'XOAUTH2' as const;
  readonly #message: Uint8Array;
  #sent = false;

  constructor(credentials: SaslClientCredentials) {
    if (credentials.token === undefined) throw new SmtpUsageError('XOAUTH2 needs a token');
    if (/[\x00-\x1f\x7f]/.test(credentials.username + credentials.token)) {
      throw new SmtpUsageError('XOAUTH2 username and token must not contain control characters');
    }
    this.#message = encodeUtf8(`user=${credentials.username}\x01auth=Bearer ${credentials.token}\x01\x01`);
  }

  initialResponse(): Uint8Array | null {
    this.#sent = true;
    return this.#message;
  }

  respond(challenge: Uint8Array): SaslClientResult {
    if (!this.#sent && challenge.length === 0) {
      this.#sent = true;
      return { ok: true, response: this.#message };
    }
    // The JSON error: acknowledge with an empty line; the server then answers 535.
    return { ok: true, response: new Uint8Array(0) };
  }
}
