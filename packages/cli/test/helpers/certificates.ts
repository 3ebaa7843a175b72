import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  readonly certPath: string;
  readonly keyPath: string;
  readonly directory: string;
}

/** A self-signed certificate for localhost/127.0.0.1, made with the openssl CLI at test time. */
export function createTestCertificate(commonName = 'localhost'): TestCertificate {
  const directory = mkdtempSync(join(tmpdir(), 'smtp-cli-cert-'));
  const certPath = join(directory, 'cert.pem');
  const keyPath = join(directory, 'key.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyPath,
        '-out',
        certPath,
        '-days',
        '30',
        '-subj',
        `/CN=${commonName}/O=smtp cli tests`,
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
  } catch (error) {
    throw new Error(
      `openssl is needed for the TLS tests: apt-get install openssl (${(error as Error).message})`,
    );
  }
  return { certPath, keyPath, directory };
}
