import { createPublicKey, sign, verify } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dkimPublicKeyValue, loadOrCreateDkimKeys } from './dkim-keys.js';

const selectors = { rsa: 'rsa1', ed25519: 'ed1' };

describe('DKIM keys', () => {
  let directory: string;
  beforeEach(() => {
    directory = join(mkdtempSync(join(tmpdir(), 'dkim-keys-')), 'dkim');
  });
  afterEach(() => rmSync(join(directory, '..'), { recursive: true, force: true }));

  it('makes an RSA-2048 and an Ed25519 key on first start, 0600 in a 0700 directory', () => {
    const first = loadOrCreateDkimKeys(directory, selectors);
    expect(first.created).toBe(true);
    expect(first.keys.map((key) => [key.algorithm, key.selector, key.path])).toEqual([
      ['rsa', 'rsa1', join(directory, 'rsa1.rsa.pem')],
      ['ed25519', 'ed1', join(directory, 'ed1.ed25519.pem')],
    ]);
    expect(statSync(directory).mode & 0o777).toBe(0o700);
    for (const key of first.keys) expect(statSync(key.path).mode & 0o777).toBe(0o600);
    expect(first.keys[0]?.privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(readFileSync(first.keys[1]?.path ?? '', 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('loads the same keys on the next start instead of making new ones', () => {
    const first = loadOrCreateDkimKeys(directory, selectors);
    const second = loadOrCreateDkimKeys(directory, selectors);
    expect(second.created).toBe(false);
    expect(second.keys.map((key) => key.publicKeyValue)).toEqual(first.keys.map((key) => key.publicKeyValue));
  });

  it('refuses a key file others can read, a key of the wrong kind and a selector that is no DNS label', () => {
    const { keys } = loadOrCreateDkimKeys(directory, selectors);
    chmodSync(keys[0]?.path ?? '', 0o644);
    expect(() => loadOrCreateDkimKeys(directory, selectors)).toThrow(
      /can be read by others \(mode 644\): run chmod 600/,
    );
    chmodSync(keys[0]?.path ?? '', 0o600);
    writeFileSync(join(directory, 'wrong.rsa.pem'), readFileSync(keys[1]?.path ?? ''), { mode: 0o600 });
    expect(() => loadOrCreateDkimKeys(directory, { rsa: 'wrong', ed25519: 'ed1' })).toThrow(
      /wrong\.rsa\.pem holds an ed25519 key, not rsa/,
    );
    expect(() => loadOrCreateDkimKeys(directory, { rsa: 'bad selector', ed25519: 'ed1' })).toThrow(
      /not a DNS name/,
    );
  });

  it('publishes RSA keys as SubjectPublicKeyInfo and Ed25519 keys as the bare 32 bytes (RFC 8463 §4.2)', () => {
    const { keys } = loadOrCreateDkimKeys(directory, selectors);
    const [rsa, ed25519] = keys;
    if (rsa === undefined || ed25519 === undefined) throw new Error('keys missing');
    const rsaPublic = createPublicKey({
      key: Buffer.from(rsa.publicKeyValue, 'base64'),
      format: 'der',
      type: 'spki',
    });
    const data = Buffer.from('proof');
    expect(verify('sha256', data, rsaPublic, sign('sha256', data, rsa.privateKey))).toBe(true);
    const raw = Buffer.from(ed25519.publicKeyValue, 'base64');
    expect(raw).toHaveLength(32);
    const edPublic = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
      format: 'jwk',
    });
    expect(verify(null, data, edPublic, sign(null, data, ed25519.privateKey))).toBe(true);
    expect(dkimPublicKeyValue(createPublicKey(ed25519.privateKey))).toBe(ed25519.publicKeyValue);
  });
});
