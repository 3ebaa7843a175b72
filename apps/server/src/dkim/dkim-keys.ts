import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const dkimKeyAlgorithms = ['rsa', 'ed25519'] as const;
export type DkimKeyAlgorithm = (typeof dkimKeyAlgorithms)[number];

export interface DkimKeyPair {
  readonly algorithm: DkimKeyAlgorithm;
  readonly selector: string;
  readonly privateKey: KeyObject;
  /** The p= value of its DNS record (see {@link dkimPublicKeyValue}). */
  readonly publicKeyValue: string;
  readonly path: string;
}

export interface LoadedDkimKeys {
  readonly keys: readonly DkimKeyPair[];
  /** Whether any key was made just now: the first start, when the app prints the DNS records. */
  readonly created: boolean;
}

/**
 * The DKIM keys in `directory` (`<selector>.<algorithm>.pem`, PKCS#8), made on first start: RSA-2048
 * (what every verifier knows) and Ed25519 (RFC 8463: short, fast; not yet checked everywhere), signed
 * with both. Files are written 0600 in a 0700 directory, and a key file others can read is refused,
 * as ssh refuses one.
 */
export function loadOrCreateDkimKeys(
  directory: string,
  selectors: Readonly<Record<DkimKeyAlgorithm, string>>,
): LoadedDkimKeys {
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  let created = false;
  const keys = dkimKeyAlgorithms.map((algorithm) => {
    const selector = selectors[algorithm];
    if (
      !/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(
        selector,
      )
    )
      throw new Error(`DKIM selector ${JSON.stringify(selector)} is not a DNS name (RFC 6376 §3.1)`);
    const path = join(directory, `${selector}.${algorithm}.pem`);
    let pem: string;
    try {
      const mode = statSync(path).mode & 0o777;
      if ((mode & 0o077) !== 0)
        throw new Error(`${path} can be read by others (mode ${mode.toString(8)}): run chmod 600 ${path}`);
      pem = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      pem = generatePem(algorithm);
      writeFileSync(path, pem, { mode: 0o600, flag: 'wx' });
      chmodSync(path, 0o600); // the umask cannot widen it, but a pre-set ACL default might
      created = true;
    }
    const privateKey = createPrivateKey(pem);
    if (privateKey.asymmetricKeyType !== algorithm)
      throw new Error(`${path} holds an ${privateKey.asymmetricKeyType} key, not ${algorithm}`);
    return { algorithm, selector, privateKey, publicKeyValue: dkimPublicKeyValue(privateKey), path };
  });
  return { keys, created };
}

/**
 * p= of a DKIM key record: for RSA the base64 SubjectPublicKeyInfo (RFC 6376 §3.6.1), for Ed25519 the
 * base64 of the bare 32-byte key (RFC 8463 §4.2).
 */
export function dkimPublicKeyValue(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return (publicKey.asymmetricKeyType === 'ed25519' ? der.subarray(der.length - 32) : der).toString('base64');
}

function generatePem(algorithm: DkimKeyAlgorithm): string {
  const privateKeyEncoding = { type: 'pkcs8', format: 'pem' } as const;
  const publicKeyEncoding = { type: 'spki', format: 'pem' } as const;
  return algorithm === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding, publicKeyEncoding }).privateKey
    : generateKeyPairSync('ed25519', { privateKeyEncoding, publicKeyEncoding }).privateKey;
}
