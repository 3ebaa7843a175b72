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
    const read = await readCertificateFiles(options.certFile, options.keyFile);
    // Fails at start, in one line naming the files, not at the first handshake or deep in a listener.
    if ('problem' in read)
      throw new StartupError(
        read.problem === 'unreadable'
          ? `cannot read ${options.setting}.${read.part}File ${read.file} (${read.reason})`
          : `${options.setting}: ${options.certFile} and ${options.keyFile} are not a usable PEM certificate and key (${read.reason})`,
        exitCodes.config,
        null,
      );
    return { ...read.pair, source: 'configured' };
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

/** A PEM certificate and its key, as the servers take them. */
export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

/** Why a configured pair cannot be served: a file that cannot be read, or files TLS will not load. */
export type PairProblem =
  | {
      readonly problem: 'unreadable';
      readonly part: 'cert' | 'key';
      readonly file: string;
      readonly reason: string;
    }
  | { readonly problem: 'unusable'; readonly reason: string };

/**
 * Reads a configured certificate and key and loads them as a TLS server will (a key for another
 * certificate fails here, not at a handshake): at start, at each reload, and in `smtp-app check`.
 * The files are read one after the other, so with both missing the certificate is the one named.
 */
export async function readCertificateFiles(
  certFile: string,
  keyFile: string,
): Promise<{ readonly pair: PemPair } | PairProblem> {
  const texts: string[] = [];
  for (const [part, file] of [
    ['cert', certFile],
    ['key', keyFile],
  ] as const) {
    try {
      texts.push(await readFile(file, 'utf8'));
    } catch (error) {
      return {
        problem: 'unreadable',
        part,
        file,
        reason: (error as { code?: string }).code ?? String(error),
      };
    }
  }
  const [cert = '', key = ''] = texts;
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    return { problem: 'unusable', reason: error instanceof Error ? error.message : String(error) };
  }
  return { pair: { cert, key } };
}
