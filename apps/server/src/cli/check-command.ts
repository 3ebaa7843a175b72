import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { AppConfig } from '../config/config-schema.js';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { outboundTrust } from '../delivery/outbound-trust.js';
import { outboundSource } from '../delivery/source-addresses.js';
import { exitCodes } from '../exit-codes.js';
import { describeCertificate, expiryWarningMs } from '../smtp/certificate-reloader.js';
import { readCertificateFiles } from '../smtp/tls-certificate.js';
import { StartupError } from '../startup-error.js';

/** One line of the report. */
interface Finding {
  readonly kind: 'ok' | 'warning' | 'problem';
  readonly text: string;
}

export interface CheckCommandIo {
  readonly stdout: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * `smtp-app check [flags]` (as `nginx -t`, `postfix check`): reads the configuration the app would
 * start with, then what the start would find wrong outside it — certificate files that do not load
 * or match (or expire soon), outbound source addresses this machine lacks, a CA file that is not
 * one, a data directory it cannot write — without listening or touching the store, so it can run
 * next to the running app, before a reload. One line per finding; exit 0, or 78 with problems.
 */
export async function runCheckCommand(argv: readonly string[], io: CheckCommandIo): Promise<number> {
  let loaded: ReturnType<typeof loadConfig>;
  try {
    loaded = loadConfig({ argv, env: io.env });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stdout.write(`${format({ kind: 'problem', text: error.message.replaceAll('\n', ' ') })}\n`);
    return exitCodes.config;
  }
  const { config, configFile } = loaded;
  const findings: Finding[] = [
    {
      kind: 'ok',
      text: `configuration ${configFile ?? '(defaults, environment and flags)'}: mode ${config.mode}`,
    },
    ...(await Promise.all(certificateSettings(config).map(checkCertificate))),
    ...(config.mode === 'mta' ? await checkOutbound(config) : []),
    checkDataDir(resolve(config.storage.dataDir)),
  ];
  for (const finding of findings) io.stdout.write(`${format(finding)}\n`);
  const problems = findings.filter((finding) => finding.kind === 'problem').length;
  io.stdout.write(
    problems === 0 ? 'configuration OK\n' : `${problems} problem${problems === 1 ? '' : 's'}\n`,
  );
  return problems === 0 ? exitCodes.ok : exitCodes.config;
}

function format(finding: Finding): string {
  return `${finding.kind.padEnd(8)} ${finding.text}`;
}

interface CertificateSetting {
  readonly setting: string;
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
}

/** The *.tls settings the app would use in this mode (app.ts decides the same way). */
function certificateSettings(config: AppConfig): CertificateSetting[] {
  const settings: CertificateSetting[] = [];
  if (config.mode === 'mta')
    settings.push({ setting: 'mta.tls', certFile: config.mta.tls.certFile, keyFile: config.mta.tls.keyFile });
  else {
    const { tls } = config.smtp;
    const pop3 = config.pop3.port !== undefined || config.pop3.implicitTlsPort !== undefined;
    if (tls.starttls || tls.required || tls.implicitPort !== undefined || pop3)
      settings.push({ setting: 'smtp.tls', certFile: tls.certFile, keyFile: tls.keyFile });
  }
  if (config.http.tls.enabled)
    settings.push({
      setting: 'http.tls',
      certFile: config.http.tls.certFile,
      keyFile: config.http.tls.keyFile,
    });
  return settings;
}

async function checkCertificate({ setting, certFile, keyFile }: CertificateSetting): Promise<Finding> {
  if (certFile === undefined && keyFile === undefined)
    return { kind: 'ok', text: `${setting}: a self-signed certificate (generated in <dataDir>/tls)` };
  if (certFile === undefined || keyFile === undefined)
    return { kind: 'problem', text: `${setting}: certFile and keyFile must be set together` };
  const read = await readCertificateFiles(certFile, keyFile);
  if ('problem' in read)
    return {
      kind: 'problem',
      text:
        read.problem === 'unreadable'
          ? `${setting}: cannot read ${read.file} (${read.reason})`
          : `${setting}: ${certFile} and ${keyFile} are not a usable certificate and key (${read.reason})`,
    };
  const described = describeCertificate(read.pair.cert);
  if (described === null) return { kind: 'ok', text: `${setting}: ${certFile}` };
  const leftMs = described.notAfter.getTime() - Date.now();
  const expiry = `${described.subject}, expires ${described.notAfter.toISOString().slice(0, 10)}`;
  if (leftMs <= 0) return { kind: 'problem', text: `${setting}: ${certFile} has expired (${expiry})` };
  const days = Math.floor(leftMs / 86_400_000);
  return {
    kind: leftMs < expiryWarningMs ? 'warning' : 'ok',
    text: `${setting}: ${certFile} (${expiry}, in ${days} day${days === 1 ? '' : 's'})`,
  };
}

async function checkOutbound(config: AppConfig): Promise<Finding[]> {
  const findings: Finding[] = [];
  const { outbound } = config.mta;
  try {
    await outboundSource(outbound);
    const sources = [outbound.sourceAddress, outbound.sourceAddress6].filter(
      (address) => address !== undefined,
    );
    if (sources.length > 0)
      findings.push({ kind: 'ok', text: `mta.outbound: sending from ${sources.join(' and ')}` });
  } catch (error) {
    if (!(error instanceof StartupError)) throw error;
    findings.push({ kind: 'problem', text: error.message });
  }
  try {
    const trusted = await outboundTrust(outbound.caFile);
    if (trusted !== null) findings.push({ kind: 'ok', text: `mta.outbound.caFile: ${outbound.caFile}` });
  } catch (error) {
    if (!(error instanceof StartupError)) throw error;
    findings.push({ kind: 'problem', text: error.message });
  }
  return findings;
}

/** Writable, or creatable where its nearest existing parent is writable; never created here. */
function checkDataDir(dataDir: string): Finding {
  let existing = dataDir;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  try {
    if (!statSync(existing).isDirectory())
      return { kind: 'problem', text: `storage.dataDir ${dataDir}: ${existing} is a file, not a directory` };
    accessSync(existing, constants.W_OK);
  } catch (error) {
    const reason = (error as { code?: string }).code ?? String(error);
    return {
      kind: 'problem',
      text: `storage.dataDir ${dataDir}: this user may not write in ${existing} (${reason})`,
    };
  }
  return {
    kind: 'ok',
    text: `storage.dataDir ${dataDir}${existing === dataDir ? ' (writable)' : ' (created at the first start)'}`,
  };
}
