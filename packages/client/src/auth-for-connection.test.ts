import { describe, expect, it } from 'vitest';
import { authForConnection } from './auth-for-connection.js';
import { SmtpTlsError } from './errors.js';

const auth = { username: 'alice', password: 's3cret' } as const;
const remote = {
  server: 'smtp.example.com:587',
  isTlsActive: false,
  isLocal: false,
  plaintextReason: 'smtp.example.com:587 does not offer STARTTLS',
} as const;

describe('authForConnection', () => {
  it('sends credentials over TLS as given', () => {
    expect(authForConnection(auth, { ...remote, isTlsActive: true })).toBe(auth);
  });

  it('allows plaintext mechanisms to a loopback server by default', () => {
    expect(authForConnection(auth, { ...remote, isLocal: true })).toEqual({ ...auth, allowPlaintext: true });
  });

  it('keeps an explicit allowPlaintext: false on loopback', () => {
    const strict = { ...auth, allowPlaintext: false };
    expect(authForConnection(strict, { ...remote, isLocal: true })).toBe(strict);
  });

  it('refuses AUTH without TLS to a non-loopback server, naming what to set', () => {
    const attempt = () => authForConnection(auth, remote);
    expect(attempt).toThrow(SmtpTlsError);
    expect(attempt).toThrow(/does not offer STARTTLS.*secure: true.*auth\.allowPlaintext: true/);
  });

  it('refuses it even with allowPlaintext: false (SCRAM would still be open to a hijack after AUTH)', () => {
    expect(() => authForConnection({ ...auth, allowPlaintext: false }, remote)).toThrow(SmtpTlsError);
  });

  it('sends it anyway with allowPlaintext: true', () => {
    const loose = { ...auth, allowPlaintext: true };
    expect(authForConnection(loose, remote)).toBe(loose);
  });
});
