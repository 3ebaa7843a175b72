import { dirname } from 'node:path';
import { createTestCertificates } from '@smtp/test-support';

export interface TestCertificate {
  readonly certPath: string;
  readonly keyPath: string;
  /** The certificate's temporary directory, removed at exit: a place for other test files. */
  readonly directory: string;
}

/** A self-signed certificate for localhost and 127.0.0.1, its subject CN `commonName`, valid 30 days. */
export function createTestCertificate(commonName = 'localhost'): TestCertificate {
  const { certPath, keyPath } = createTestCertificates({
    commonName,
    organization: 'smtp cli tests',
    days: 30,
  });
  return { certPath, keyPath, directory: dirname(certPath) };
}
