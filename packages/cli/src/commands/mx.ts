import {
  createMtaStsFetcher,
  fetchMtaStsPolicy,
  lookUpMtaStsRecord,
  lookUpTlsRptRecord,
  type MtaStsFetcher,
  type MxResolver,
  resolveMx,
} from '@smtp/client';
import {
  domainToAscii,
  isMxAllowedByPolicy,
  type MtaStsPolicy,
  mtaStsPolicyUrl,
  parseDomain,
  parseMtaStsPolicy,
} from '@smtp/protocol';
import { Command, Option } from 'commander';
import { usageError } from '../cli-error.js';
import { type ExitCode, exitCodes } from '../exit-codes.js';
import { createResolver, dnsServerOption } from '../mx/create-resolver.js';
import { parseDurationMs } from '../options/parse-number.js';
import { printJson, type Terminal } from '../output/terminal.js';
import type { CommandContext } from '../program-context.js';

interface MxFlags {
  readonly dnsServer?: string;
  readonly timeout?: string;
  readonly port?: string;
  readonly json?: boolean;
  /** commander's --no-mta-sts */
  readonly mtaSts?: boolean;
}

const examples = `
Examples:
  $ smtp mx example.com
  $ smtp mx example.com --dns-server 1.1.1.1 --json
  $ SMTP_DNS_SERVER=127.0.0.1:5353 smtp mx test.example

Exit codes: 0 hosts found, 2 temporary DNS failure (SERVFAIL), 3 the domain accepts no mail
            (Null MX, RFC 7505) or does not exist, 4 DNS server unreachable or timed out
`;

interface HostPlan {
  exchange: string;
  preference: number;
  implicit: boolean;
  ipv6: string[];
  ipv4: string[];
  error: string | null;
  /** Whether the domain's MTA-STS policy lists this host; null without a policy (or in mode none). */
  mtaStsAllowed: boolean | null;
}

/** RFC 8461: the policy id from DNS, the policy fetched over HTTPS, or why it could not be. */
interface MtaStsReport {
  id: string | null;
  policy: MtaStsPolicy | null;
  error: string | null;
}

interface MxReport {
  command: 'mx';
  domain: string;
  exitCode: ExitCode;
  result: 'hosts' | 'null-mx' | 'no-domain' | 'temporary' | 'network';
  hosts: HostPlan[];
  /** Connection attempts in order: every address of the first host (IPv6 first), then the next host. */
  plan: { exchange: string; address: string; port: number }[];
  /** null with --no-mta-sts or when the domain has no hosts. */
  mtaSts: MtaStsReport | null;
  /** RFC 8460: where the domain wants TLS failure reports; null when it publishes none (or with --no-mta-sts). */
  tlsRpt: { rua: readonly string[] } | null;
  error: string | null;
}

export function createMxCommand(context: CommandContext): Command {
  return new Command('mx')
    .summary(
      'look up where mail for a domain goes: MX records, A/AAAA fallback, Null MX, MTA-STS, delivery plan',
    )
    .description(
      'Resolve the MX records of a domain (RFC 5321 §5.1) in preference order, the addresses of each host, the implicit MX ' +
        '(A/AAAA of the domain itself) when there is none, Null MX (RFC 7505), the MTA-STS policy (RFC 8461) and which ' +
        'hosts it allows, and the order in which a sender tries them.',
    )
    .argument('<domain>', 'the domain after the @ of an address')
    .addOption(dnsServerOption('ask this DNS server (comma-separated list) instead of the system resolvers'))
    .addOption(
      new Option('--timeout <duration>', 'timeout for each DNS query and for the MTA-STS policy fetch')
        .default('5s')
        .env('SMTP_TIMEOUT'),
    )
    .option('--port <port>', 'SMTP port for the plan', '25')
    .option('--json', 'print one JSON document (schemas/mx.schema.json)')
    .option(
      '--no-mta-sts',
      'skip the MTA-STS policy (RFC 8461: TXT record and HTTPS fetch) and the TLS-RPT record',
    )
    .addHelpText('after', examples)
    .action(async (domain: string, flags: MxFlags) => {
      context.setExitCode(await runMx(domain, flags, context.terminal));
    });
}

/**
 * The name DNS is asked for: from a domain or an address, without a trailing dot, and in A-label form
 * for an internationalized name (RFC 6531 §3.2: bücher.example is looked up as xn--bcher-kva.example).
 */
function lookupName(input: string): string {
  const text = input.trim().replace(/^.*@/, '').replace(/\.$/, '');
  const parsed = parseDomain(text, { mode: 'strict', smtpUtf8: true });
  const name = parsed.ok && parsed.value.kind === 'name' ? domainToAscii(parsed.value.name) : null;
  if (name === null) throw usageError(`'${input}' is not a domain name: give e.g. example.com`);
  return name;
}

async function runMx(domainInput: string, flags: MxFlags, terminal: Terminal): Promise<ExitCode> {
  const domain = lookupName(domainInput);
  const port = Number(flags.port ?? '25');
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw usageError(`--port '${flags.port}': give 1..65535`);
  const timeoutMs = parseDurationMs(flags.timeout ?? '5s', '--timeout');
  const resolver = createResolver({
    ...(flags.dnsServer !== undefined ? { servers: flags.dnsServer } : {}),
    timeoutMs,
  });
  const report: MxReport = {
    command: 'mx',
    domain,
    exitCode: exitCodes.ok,
    result: 'hosts',
    hosts: [],
    plan: [],
    mtaSts: null,
    tlsRpt: null,
    error: null,
  };
  // Equal preferences keep the DNS order here, so the output is stable; a sender shuffles them.
  const resolution = await resolveMx(domain, resolver, () => 0);
  if (resolution.kind === 'null-mx') {
    report.result = 'null-mx';
    report.exitCode = exitCodes.permanent;
  } else if (resolution.kind === 'no-domain') {
    report.result = 'no-domain';
    report.exitCode = exitCodes.permanent;
    report.error = `${domain} does not exist (NXDOMAIN)`;
  } else if (resolution.kind === 'temporary') {
    const code = errorCode(resolution.error);
    const isNetwork = code === 'ETIMEOUT' || code === 'ECONNREFUSED' || code === 'ETIMEDOUT';
    report.result = isNetwork ? 'network' : 'temporary';
    report.exitCode = isNetwork ? exitCodes.network : exitCodes.temporary;
    report.error = `DNS lookup failed (${code ?? 'error'})${isNetwork ? ': the DNS server did not answer; check --dns-server or the network' : ': try again later'}`;
  } else {
    const [hosts, mtaSts, tlsRpt] = await Promise.all([
      Promise.all(resolution.hosts.map((host) => resolveHost(host, resolver))),
      flags.mtaSts === false
        ? null
        : lookUpMtaSts(domain, resolver, timeoutMs, {
            // With --dns-server, mta-sts.<domain> is looked up there too, not in the system's DNS.
            fetchPolicy:
              flags.dnsServer !== undefined ? createMtaStsFetcher({ resolver }) : fetchMtaStsPolicy,
          }),
      flags.mtaSts === false ? null : lookUpTlsRptRecord(domain, resolver),
    ]);
    report.tlsRpt = tlsRpt;
    const policy = mtaSts?.policy ?? null;
    if (policy !== null && policy.mode !== 'none')
      for (const host of hosts) host.mtaStsAllowed = isMxAllowedByPolicy(host.exchange, policy);
    report.hosts = hosts;
    report.mtaSts = mtaSts;
    // RFC 8461 §4.1: a sender that honours an enforced policy skips the hosts it does not list.
    const enforced = policy?.mode === 'enforce';
    report.plan = hosts
      .filter((host) => !enforced || host.mtaStsAllowed === true)
      .flatMap((host) =>
        [...host.ipv6, ...host.ipv4].map((address) => ({ exchange: host.exchange, address, port })),
      );
    if (report.plan.length === 0) {
      report.exitCode = exitCodes.temporary;
      report.error = 'no host has an address: mail cannot be delivered until the A/AAAA records exist';
      if (resolution.hosts.every((host) => host.implicit)) {
        report.exitCode = exitCodes.permanent;
        report.error = `${domain} has no MX and no A/AAAA records: it receives no mail`;
      }
    }
  }
  if (flags.json) printJson(terminal, report);
  else printMx(terminal, report);
  return report.exitCode;
}

async function resolveHost(
  host: { exchange: string; preference: number; implicit: boolean },
  resolver: MxResolver,
): Promise<HostPlan> {
  const [v6, v4] = await Promise.allSettled([
    resolver.resolve6(host.exchange),
    resolver.resolve4(host.exchange),
  ]);
  const failures = [v6, v4]
    .filter((item) => item.status === 'rejected')
    .map((item) => errorCode((item as PromiseRejectedResult).reason));
  const hardFailure = failures.find((code) => code !== 'ENODATA' && code !== 'ENOTFOUND');
  return {
    exchange: host.exchange,
    preference: host.preference,
    implicit: host.implicit,
    ipv6: v6.status === 'fulfilled' ? [...v6.value] : [],
    ipv4: v4.status === 'fulfilled' ? [...v4.value] : [],
    mtaStsAllowed: null,
    error: hardFailure
      ? `address lookup failed (${hardFailure})`
      : failures.includes('ENOTFOUND')
        ? 'host name does not exist'
        : null,
  };
}

/** The policy id from DNS and, when there is one, the policy from `https://mta-sts.<domain>/`. */
async function lookUpMtaSts(
  domain: string,
  resolver: MxResolver,
  timeoutMs: number,
  options: { fetchPolicy: MtaStsFetcher },
): Promise<MtaStsReport> {
  const record = await lookUpMtaStsRecord(domain, resolver);
  if (record === null) return { id: null, policy: null, error: null };
  const url = mtaStsPolicyUrl(domain);
  try {
    const policy = parseMtaStsPolicy(await options.fetchPolicy(url, AbortSignal.timeout(timeoutMs)));
    return { id: record.id, policy, error: policy === null ? `${url} is not a valid STSv1 policy` : null };
  } catch (error) {
    const cause = (error as Error).cause as Error | undefined;
    const detail = cause?.message ?? (error as Error).message;
    return { id: record.id, policy: null, error: `the policy could not be fetched from ${url}: ${detail}` };
  }
}

function printMx(terminal: Terminal, report: MxReport): void {
  const colors = terminal.colors;
  if (report.result === 'null-mx') {
    terminal.out(
      `${report.domain}: ${colors.red('Null MX')}: the domain accepts no mail (RFC 7505); senders bounce at once`,
    );
    return;
  }
  if (report.result !== 'hosts') {
    terminal.error(terminal.errorColors.red(`smtp mx: ${report.error}`));
    return;
  }
  const implicit = report.hosts.length === 1 && report.hosts[0]?.implicit;
  terminal.out(
    implicit
      ? `${report.domain}: no MX records; the domain itself is the mail host (implicit MX, RFC 5321 §5.1)`
      : `${report.domain}: ${report.hosts.length} MX host(s), lowest preference first`,
  );
  for (const host of report.hosts) {
    const addresses = [...host.ipv6, ...host.ipv4];
    const notAllowed =
      host.mtaStsAllowed === false ? colors.yellow('  (not listed in the MTA-STS policy)') : '';
    terminal.out(
      `  ${colors.cyan(String(host.preference).padStart(5))}  ${colors.bold(host.exchange)}${host.error ? colors.yellow(`  (${host.error})`) : ''}${notAllowed}`,
    );
    for (const address of addresses) terminal.out(`         ${address}`);
    if (addresses.length === 0 && !host.error) terminal.out(colors.yellow('         no A/AAAA records'));
  }
  if (report.mtaSts !== null) {
    terminal.out(describeMtaSts(report.mtaSts, colors));
    terminal.out(
      report.tlsRpt === null
        ? 'TLS-RPT: no reporting address published (no _smtp._tls TXT record)'
        : `TLS-RPT: failures are reported to ${report.tlsRpt.rua.join(', ')}`,
    );
  }
  if (report.plan.length > 0) {
    terminal.out('delivery plan:');
    report.plan.forEach((step, index) => {
      const address = step.address.includes(':') ? `[${step.address}]` : step.address;
      terminal.out(`  ${index + 1}. ${address}:${step.port} (${step.exchange})`);
    });
  }
  if (report.error) terminal.error(terminal.errorColors.yellow(`smtp mx: ${report.error}`));
}

function describeMtaSts(mtaSts: MtaStsReport, colors: Terminal['colors']): string {
  if (mtaSts.id === null) return 'MTA-STS: no policy published (no _mta-sts TXT record)';
  if (mtaSts.policy === null) return colors.yellow(`MTA-STS: policy id ${mtaSts.id}, but ${mtaSts.error}`);
  const { mode, maxAgeSeconds, mx } = mtaSts.policy;
  const hosts = mx.length > 0 ? `, mx ${mx.join(', ')}` : '';
  const effect =
    mode === 'enforce'
      ? ': senders use TLS with a valid certificate, to listed hosts only'
      : mode === 'testing'
        ? ': failures are only reported'
        : '';
  return `MTA-STS: mode ${colors.bold(mode)}${effect} (policy id ${mtaSts.id}, max_age ${maxAgeSeconds} s${hosts})`;
}

function errorCode(error: unknown): string | null {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : null;
}
