import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from './require-tool.js';

/** A server certificate and its key, as PEM text and as files (for peers that read files). */
export interface TestCertificates {
  readonly certPem: string;
  readonly keyPem: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** The certificate a client trusts to verify certPem: a test CA's, or certPem itself when self-signed. */
  readonly caPem: string;
}

export interface TestCertificateOptions {
  /** The name in subjectAltName (with IP 127.0.0.1). Default localhost. */
  readonly hostname?: string;
  /** The subject's CN. Default: the hostname. */
  readonly commonName?: string;
  /** The subject's O, when given. */
  readonly organization?: string;
  /** Default 2. */
  readonly days?: number;
  /** Issue it from a throwaway CA (caPem) instead of signing it itself. */
  readonly ca?: boolean;
}

/**
 * A fresh certificate made with the openssl CLI at test time, self-signed or issued by a throwaway
 * CA (for tests of chain verification). Its files are removed when the process exits.
 */
export function createTestCertificates(options: TestCertificateOptions = {}): TestCertificates {
  const { hostname = 'localhost', commonName = hostname, days = 2, ca = false } = options;
  const subject = `/CN=${commonName}${options.organization === undefined ? '' : `/O=${options.organization}`}`;
  const openssl = requireTool('openssl', 'apt-get install openssl');
  const directory = mkdtempSync(join(tmpdir(), 'smtp-test-certs-'));
  process.once('exit', () => rmSync(directory, { recursive: true, force: true }));
  const run = (args: readonly string[]) => execFileSync(openssl, args, { cwd: directory, stdio: 'pipe' });
  const subjectAltName = `subjectAltName=DNS:${hostname},IP:127.0.0.1`;
  // P-256 keys: made in milliseconds, where RSA takes a noticeable part of a second.
  const newKey = (file: string) => [
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    file,
  ];
  const validity = ['-days', String(days)];
  if (ca) {
    run(['req', '-x509', ...newKey('ca.key'), '-out', 'ca.pem', ...validity, '-subj', '/CN=smtp test CA']);
    run(['req', ...newKey('server.key'), '-out', 'server.csr', '-subj', subject]);
    writeFileSync(join(directory, 'san.ext'), `${subjectAltName}\n`);
    const issuer = ['-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial'];
    run([
      'x509',
      '-req',
      '-in',
      'server.csr',
      ...issuer,
      '-out',
      'server.pem',
      ...validity,
      '-extfile',
      'san.ext',
    ]);
  } else {
    const extension = ['-addext', subjectAltName];
    run([
      'req',
      '-x509',
      ...newKey('server.key'),
      '-out',
      'server.pem',
      ...validity,
      '-subj',
      subject,
      ...extension,
    ]);
  }
  const certPath = join(directory, 'server.pem');
  const keyPath = join(directory, 'server.key');
  const certPem = readFileSync(certPath, 'utf8');
  return {
    certPem,
    keyPem: readFileSync(keyPath, 'utf8'),
    certPath,
    keyPath,
    caPem: ca ? readFileSync(join(directory, 'ca.pem'), 'utf8') : certPem,
  };
}
