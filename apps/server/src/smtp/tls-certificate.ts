import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { exitCodes } from '../exit-codes.js';
import { StartupError } from '../startup-error.js';

export interface CertificatePair {
  readonly cert: string;
  readonly key: string;
  /** Where it came from, for the startup log. */
  readonly source: 'configured' | 'generated' | 'generated-earlier';
}

/**
 * The configured PEM files, or a self-signed certificate for `hostname` kept in <dataDir>/tls so it
 * stays the same across restarts (clients can pin it).
 */
export async function loadCertificate(options: {
  /** The config section the files come from, for error messages: 'smtp.tls', 'mta.tls', 'http.tls'. */
  readonly setting: string;
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
  readonly dataDir: string;
  readonly hostname: string;
}): Promise<CertificatePair> {
  if (options.certFile !== undefined || options.keyFile !== undefined) {
    if (options.certFile === undefined || options.keyFile === undefined) {
      throw new StartupError(
        `${options.setting}.certFile and ${options.setting}.keyFile must be set together`,
        exitCodes.config,
        null,
      );
    }
    // One after the other: with both missing, the error always names the certificate file first.
    const cert = await readPem(options.certFile, `${options.setting}.certFile`);
    const key = await readPem(options.keyFile, `${options.setting}.keyFile`);
    checkPair(cert, key, { setting: options.setting, certFile: options.certFile, keyFile: options.keyFile });
    return { cert, key, source: 'configured' };
  }
  const directory = join(options.dataDir, 'tls');
  const certPath = join(directory, 'self-signed-cert.pem');
  const keyPath = join(directory, 'self-signed-key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) {
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    return { cert, key, source: 'generated-earlier' };
  }
  const notAfterDate = new Date();
  notAfterDate.setFullYear(notAfterDate.getFullYear() + 2);
  // Loaded only to make a certificate: its X.509 stack takes a tenth of a second to load.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: options.hostname }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate,
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: options.hostname },
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  await mkdir(directory, { recursive: true });
  await writeFile(keyPath, pems.private, { mode: 0o600 });
  await writeFile(certPath, pems.cert);
  return { cert: pems.cert, key: pems.private, source: 'generated' };
}

async function readPem(file: string, setting: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as { code?: string }).code ?? String(error);
    throw new StartupError(`cannot read ${setting} ${file} (${reason})`, exitCodes.config, error);
  }
}

/** Fails at start, in one line naming the files, instead of at the first TLS handshake or deep in a listener. */
function checkPair(
  cert: string,
  key: string,
  options: { readonly setting: string; readonly certFile: string; readonly keyFile: string },
): void {
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new StartupError(
      `${options.setting}: ${options.certFile} and ${options.keyFile} are not a usable PEM certificate and key (${reason})`,
      exitCodes.config,
      error,
    );
  }
}
