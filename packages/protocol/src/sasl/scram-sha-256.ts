import { decodeBase64, encodeBase64 } from '../bytes/base64.js';
import { SmtpUsageError } from '../errors.js';
import { defaultRandom } from './default-random.js';
import { parseGs2Header } from './gs2-header.js';
import { constantTimeEqual } from './hash/constant-time-equal.js';
import { hmac } from './hash/hmac.js';
import { sha256 } from './hash/sha256.js';
import type { SaslClient, SaslClientCredentials, SaslClientResult } from './sasl-client.js';
import type { SaslSecret, SaslServer, SaslServerStep, ScramStoredCredentials } from './sasl-server.js';
import { decodeSaslText, encodeUtf8 } from './sasl-text.js';
import { decodeSaslname, encodeSaslname } from './saslname.js';
import { saslprep } from './saslprep.js';
import { deriveScramCredentials, scramKeys, scramSaltedPassword } from './scram-credentials.js';

/** RFC 5802 §7: printable = %x21-2B / %x2D-7E (no comma). */
const noncePattern = /^[\x21-\x2b\x2d-\x7e]+$/;
/** A server could ask for billions of iterations to stall the client; RFC 7677 §4 asks for >= 4096. */
const maxIterations = 1_000_000;
const nonceBytes = 18;

const malformed: SaslServerStep = { type: 'failure', reason: 'malformed' };

function xor(left: Uint8Array, right: Uint8Array): Uint8Array {
  const result = new Uint8Array(left.length);
  for (let index = 0; index < left.length; index++)
    result[index] = (left[index] as number) ^ (right[index] as number);
  return result;
}

/** Test seam for RFC 7677 §3's fixed nonces; production code uses `random`. */
export interface ScramNonceOptions {
  readonly random?: (length: number) => Uint8Array;
  /** Our part of the nonce, instead of base64(random(18)). Printable, no comma. */
  readonly nonce?: string;
}

/**
 * SCRAM-SHA-256 server (RFC 5802, RFC 7677) without channel binding ("n" or "y" GS2 flag only).
 * client-first → 'lookup' → provideSecret → server-first → client-final → proof checked against
 * StoredKey → server-final (as a 334, RFC 4954 §4) → empty line → 'success'.
 */
export class ScramSha256Server implements SaslServer {
  readonly mechanism = 'SCRAM-SHA-256' as const;
  readonly #random: (length: number) => Uint8Array;
  readonly #fixedNonce: string | undefined;
  #state: 'new' | 'waiting' | 'lookup' | 'server-first' | 'server-final' | 'done' = 'new';
  #gs2Header = '';
  #clientFirstBare = '';
  #clientNonce = '';
  #username = '';
  #authorizationId: string | null = null;
  #serverFirst = '';
  #nonce = '';
  #credentials: ScramStoredCredentials | null = null;

  constructor(options: ScramNonceOptions = {}) {
    this.#random = options.random ?? defaultRandom;
    this.#fixedNonce = options.nonce;
  }

  start(initialResponse: Uint8Array | null): SaslServerStep {
    if (this.#state !== 'new') throw new SmtpUsageError('SCRAM-SHA-256: start() called twice');
    if (initialResponse === null) {
      this.#state = 'waiting';
      return { type: 'challenge', challenge: new Uint8Array(0) };
    }
    return this.#clientFirst(initialResponse);
  }

  respond(response: Uint8Array): SaslServerStep {
    switch (this.#state) {
      case 'waiting':
        return this.#clientFirst(response);
      case 'server-first':
        return this.#clientFinal(response);
      case 'server-final':
        this.#state = 'done';
        return response.length === 0
          ? { type: 'success', username: this.#username, authorizationId: this.#authorizationId }
          : malformed;
      default:
        throw new SmtpUsageError(`SCRAM-SHA-256: respond() in state ${this.#state}`);
    }
  }

  provideSecret(secret: SaslSecret): SaslServerStep {
    if (this.#state !== 'lookup') throw new SmtpUsageError('SCRAM-SHA-256: provideSecret() without a lookup');
    let credentials: ScramStoredCredentials;
    if ('scram' in secret) {
      credentials = secret.scram;
    } else {
      try {
        credentials = deriveScramCredentials(secret.password, { salt: this.#random(16) });
      } catch {
        return this.reject(); // a stored password SASLprep refuses can never match
      }
    }
    this.#credentials = credentials;
    this.#nonce = this.#clientNonce + (this.#fixedNonce ?? encodeBase64(this.#random(nonceBytes)));
    this.#serverFirst = `r=${this.#nonce},s=${encodeBase64(credentials.salt)},i=${credentials.iterations}`;
    this.#state = 'server-first';
    return { type: 'challenge', challenge: encodeUtf8(this.#serverFirst) };
  }

  reject(): SaslServerStep {
    this.#state = 'done';
    return { type: 'failure', reason: 'invalid-credentials' };
  }

  #fail(): SaslServerStep {
    this.#state = 'done';
    return malformed;
  }

  #clientFirst(message: Uint8Array): SaslServerStep {
    const text = decodeSaslText(message);
    if (text === null) return this.#fail();
    const header = parseGs2Header(text);
    if (header === null) return this.#fail();
    const bare = text.slice(header.headerLength);
    // client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]; "m=" is refused.
    const match = /^n=([^,]*),r=([^,]*)(?:,.*)?$/s.exec(bare);
    if (match === null || !noncePattern.test(match[2] as string)) return this.#fail();
    const decoded = decodeSaslname(match[1] as string);
    const username = decoded === null ? null : saslprep(decoded);
    if (username === null || username === '') return this.#fail();
    this.#gs2Header = text.slice(0, header.headerLength);
    this.#clientFirstBare = bare;
    this.#clientNonce = match[2] as string;
    this.#username = username;
    this.#authorizationId = header.authorizationId;
    this.#state = 'lookup';
    return { type: 'lookup', username, authorizationId: header.authorizationId };
  }

  #clientFinal(message: Uint8Array): SaslServerStep {
    const credentials = this.#credentials as ScramStoredCredentials;
    const text = decodeSaslText(message);
    if (text === null) return this.#fail();
    const proofIndex = text.lastIndexOf(',p=');
    if (proofIndex < 0) return this.#fail();
    const withoutProof = text.slice(0, proofIndex);
    const expectedStart = `c=${encodeBase64(encodeUtf8(this.#gs2Header))},r=${this.#nonce}`;
    if (withoutProof !== expectedStart && !withoutProof.startsWith(`${expectedStart},`)) return this.#fail();
    const proof = decodeBase64(text.slice(proofIndex + 3));
    if (proof === null || proof.length !== 32) return this.#fail();
    const authMessage = encodeUtf8(`${this.#clientFirstBare},${this.#serverFirst},${withoutProof}`);
    // RFC 5802 §3: ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); H(ClientKey) must be StoredKey.
    const clientKey = xor(proof, hmac(sha256, credentials.storedKey, authMessage));
    if (!constantTimeEqual(sha256(clientKey), credentials.storedKey)) return this.reject();
    const serverSignature = hmac(sha256, credentials.serverKey, authMessage);
    this.#state = 'server-final';
    return { type: 'challenge', challenge: encodeUtf8(`v=${encodeBase64(serverSignature)}`) };
  }
}

/** SCRAM-SHA-256 client (RFC 5802, RFC 7677), GS2 flag "n": verifies the ServerSignature before success. */
export class ScramSha256Client implements SaslClient {
  readonly mechanism = 'SCRAM-SHA-256' as const;
  readonly #password: string;
  readonly #gs2Header: string;
  readonly #clientFirstBare: string;
  readonly #clientNonce: string;
  #state: 'first' | 'final' | 'done' = 'first';
  #serverSignature: Uint8Array | null = null;

  constructor(credentials: SaslClientCredentials, options: ScramNonceOptions = {}) {
    if (credentials.password === undefined) throw new SmtpUsageError('SCRAM-SHA-256 needs a password');
    const username = saslprep(credentials.username);
    if (username === null || username === '')
      throw new SmtpUsageError('The username is not allowed by SASLprep');
    this.#password = credentials.password;
    this.#gs2Header =
      credentials.authorizationId === undefined
        ? 'n,,'
        : `n,a=${encodeSaslname(credentials.authorizationId)},`;
    this.#clientNonce = options.nonce ?? encodeBase64((options.random ?? defaultRandom)(nonceBytes));
    if (!noncePattern.test(this.#clientNonce))
      throw new SmtpUsageError('SCRAM nonce must be printable, without ","');
    this.#clientFirstBare = `n=${encodeSaslname(username)},r=${this.#clientNonce}`;
  }

  initialResponse(): Uint8Array | null {
    return encodeUtf8(this.#gs2Header + this.#clientFirstBare);
  }

  respond(challenge: Uint8Array): SaslClientResult {
    const text = decodeSaslText(challenge);
    if (this.#state === 'first') return this.#serverFirst(text);
    if (this.#state === 'final') {
      this.#state = 'done';
      if (text?.startsWith('e=')) return { ok: false, error: `SCRAM-SHA-256: server error ${text.slice(2)}` };
      const signature = text?.startsWith('v=') ? decodeBase64(text.slice(2)) : null;
      if (signature === null || !constantTimeEqual(signature, this.#serverSignature as Uint8Array)) {
        return {
          ok: false,
          error: 'SCRAM-SHA-256: server signature mismatch (the server does not know the password)',
        };
      }
      return { ok: true, response: new Uint8Array(0) };
    }
    return { ok: false, error: 'SCRAM-SHA-256: unexpected challenge after the exchange ended' };
  }

  #serverFirst(text: string | null): SaslClientResult {
    this.#state = 'done';
    const match = text === null ? null : /^r=([^,]*),s=([^,]*),i=([0-9]{1,9})(?:,.*)?$/s.exec(text);
    if (text === null || match === null)
      return { ok: false, error: 'SCRAM-SHA-256: malformed server-first-message' };
    const nonce = match[1] as string;
    const salt = decodeBase64(match[2] as string);
    const iterations = Number(match[3]);
    if (
      !nonce.startsWith(this.#clientNonce) ||
      nonce.length === this.#clientNonce.length ||
      !noncePattern.test(nonce)
    ) {
      return { ok: false, error: 'SCRAM-SHA-256: the server nonce does not extend ours' };
    }
    if (salt === null || salt.length === 0) return { ok: false, error: 'SCRAM-SHA-256: bad salt' };
    if (iterations < 1 || iterations > maxIterations) {
      return { ok: false, error: `SCRAM-SHA-256: iteration count ${iterations} out of range` };
    }
    const saltedPassword = scramSaltedPassword(this.#password, salt, iterations);
    if (saltedPassword === null)
      return { ok: false, error: 'SCRAM-SHA-256: the password is not allowed by SASLprep' };
    const { clientKey, serverKey } = scramKeys(saltedPassword);
    const withoutProof = `c=${encodeBase64(encodeUtf8(this.#gs2Header))},r=${nonce}`;
    const authMessage = encodeUtf8(`${this.#clientFirstBare},${text},${withoutProof}`);
    const proof = xor(clientKey, hmac(sha256, sha256(clientKey), authMessage));
    this.#serverSignature = hmac(sha256, serverKey, authMessage);
    this.#state = 'final';
    return { ok: true, response: encodeUtf8(`${withoutProof},p=${encodeBase64(proof)}`) };
  }
}
