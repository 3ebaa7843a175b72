import { SmtpUsageError } from '../errors.js';
import { type BearerTokenCredentials, BearerTokenServer } from './bearer-token-server.js';
import { parseGs2Header } from './gs2-header.js';
import type {
  SaslClient,
  SaslClientCredentials,
  SaslClientOptions,
  SaslClientResult,
} from './sasl-client.js';
import type { SaslServerOptions } from './sasl-server.js';
import { decodeSaslText, encodeUtf8 } from './sasl-text.js';
import { encodeSaslname } from './saslname.js';

/** RFC 7628 §3.1: key = 1*ALPHA; value = *(VCHAR / SP / HTAB / CR / LF). */
const kvpairPattern = /^([A-Za-z]+)=([\x21-\x7e \t\r\n]*)$/;
/** RFC 7628 §3.1 / RFC 6750 §2.1: "Bearer" 1*SP b64token. */
const authPattern = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** client-resp = gs2-header kvsep *kvpair kvsep (RFC 7628 §3.1). */
export function parseOauthbearerMessage(message: Uint8Array): BearerTokenCredentials | null {
  const text = decodeSaslText(message);
  if (text === null) return null;
  const header = parseGs2Header(text);
  if (header === null || text[header.headerLength] !== '\x01' || !text.endsWith('\x01\x01')) return null;
  const body = text.slice(header.headerLength + 1, -1);
  let token: string | null = null;
  for (const pair of body.slice(0, -1).split('\x01')) {
    const match = kvpairPattern.exec(pair);
    if (match === null) return null;
    if (match[1] === 'auth') {
      const auth = authPattern.exec(match[2] as string);
      if (auth === null || token !== null) return null;
      token = auth[1] as string;
    }
  }
  if (token === null) return null;
  // The user is whoever the token names; the GS2 authzid is what the client asks to act as. It is the
  // only name the message carries, so it is the username the token is checked against as well.
  return {
    mechanism: 'OAUTHBEARER',
    username: header.authorizationId ?? '',
    token,
    authorizationId: header.authorizationId,
  };
}

export function createOauthbearerServer(options: Pick<SaslServerOptions, 'oauthScope'>): BearerTokenServer {
  return new BearerTokenServer('OAUTHBEARER', parseOauthbearerMessage, options.oauthScope);
}

/** OAUTHBEARER client (RFC 7628 §3.1); answers an error challenge with the dummy %x01 (§3.2.3). */
export class OauthbearerClient implements SaslClient {
  readonly mechanism = 'OAUTHBEARER' as const;
  readonly #message: Uint8Array;
  #sent = false;

  constructor(credentials: SaslClientCredentials, options: SaslClientOptions = {}) {
    const { username, token } = credentials;
    if (token === undefined) throw new SmtpUsageError('OAUTHBEARER needs a token');
    const fields = [username, token, options.host ?? ''];
    if (fields.some((field) => /[\x00-\x1f\x7f]/.test(field))) {
      throw new SmtpUsageError('OAUTHBEARER fields must not contain control characters');
    }
    let message = `n,${username === '' ? '' : `a=${encodeSaslname(username)}`},\x01`;
    if (options.host !== undefined) message += `host=${options.host}\x01`;
    if (options.port !== undefined) message += `port=${options.port}\x01`;
    message += `auth=Bearer ${token}\x01\x01`;
    this.#message = encodeUtf8(message);
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
    return { ok: true, response: new Uint8Array([0x01]) };
  }
}
