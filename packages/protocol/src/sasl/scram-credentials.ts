import { SmtpUsageError } from '../errors.js';
import { hmac } from './hash/hmac.js';
import { pbkdf2Sha256 } from './hash/pbkdf2.js';
import { sha256 } from './hash/sha256.js';
import type { ScramStoredCredentials } from './sasl-server.js';
import { encodeUtf8 } from './sasl-text.js';
import { saslprep } from './saslprep.js';

const clientKeyLabel = encodeUtf8('Client Key');
const serverKeyLabel = encodeUtf8('Server Key');

/** RFC 5802 §3: SaltedPassword := Hi(Normalize(password), salt, i). Null when SASLprep refuses the password. */
export function scramSaltedPassword(
  password: string,
  salt: Uint8Array,
  iterations: number,
): Uint8Array | null {
  const prepared = saslprep(password);
  if (prepared === null) return null;
  return pbkdf2Sha256(encodeUtf8(prepared), salt, iterations);
}

/** RFC 5802 §3: ClientKey and ServerKey from the salted password. */
export function scramKeys(saltedPassword: Uint8Array): { clientKey: Uint8Array; serverKey: Uint8Array } {
  return {
    clientKey: hmac(sha256, saltedPassword, clientKeyLabel),
    serverKey: hmac(sha256, saltedPassword, serverKeyLabel),
  };
}

/**
 * What a server stores for SCRAM-SHA-256 (RFC 5802 §3, RFC 7677): salt, iteration count, StoredKey =
 * H(ClientKey) and ServerKey. The password itself need not be kept.
 */
export function deriveScramCredentials(
  password: string,
  options: { salt: Uint8Array; iterations?: number },
): ScramStoredCredentials {
  const iterations = options.iterations ?? 4096; // RFC 7677 §4: at least 4096
  if (!Number.isSafeInteger(iterations) || iterations < 1)
    throw new SmtpUsageError('SCRAM iterations must be >= 1');
  const saltedPassword = scramSaltedPassword(password, options.salt, iterations);
  if (saltedPassword === null) throw new SmtpUsageError('The password is not allowed by SASLprep (RFC 4013)');
  const { clientKey, serverKey } = scramKeys(saltedPassword);
  return { salt: options.salt.slice(), iterations, storedKey: sha256(clientKey), serverKey };
}
