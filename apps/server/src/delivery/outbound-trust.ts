import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import { exitCodes } from '../exit-codes.js';
import { StartupError } from '../startup-error.js';

/**
 * The certificates verified TLS trusts (tlsPolicy verify, MTA-STS): Node's bundled authorities and
 * those of mta.outbound.caFile, which are added, not put in their place (a `ca` list given to TLS
 * replaces the default one). Null without a file: Node's defaults as they are.
 */
export async function outboundTrust(caFile: string | undefined): Promise<readonly string[] | null> {
  if (caFile === undefined) return null;
  let text: string;
  try {
    text = await readFile(caFile, 'utf8');
  } catch (error) {
    const reason = (error as { code?: string }).code ?? String(error);
    throw new StartupError(`cannot read mta.outbound.caFile ${caFile} (${reason})`, exitCodes.config, error);
  }
  const certificates = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  try {
    if (certificates.length === 0) throw new Error('no PEM certificate in it');
    for (const certificate of certificates) new X509Certificate(certificate);
  } catch (error) {
    throw new StartupError(
      `mta.outbound.caFile ${caFile} is not a PEM certificate list (${(error as Error).message})`,
      exitCodes.config,
      error,
    );
  }
  return [...rootCertificates, ...certificates];
}
