import { createTestCertificates } from '@smtp/test-support';

/** The server's TLS options: a key and a certificate, as PEM text. */
export interface TestCertificate {
  readonly key: string;
  readonly cert: string;
}

/** A fresh self-signed certificate for `name` (and 127.0.0.1). */
export function createCertificate(name: string): TestCertificate {
  const { keyPem, certPem } = createTestCertificates({ hostname: name });
  return { key: keyPem, cert: certPem };
}
