import { isIP } from 'node:net';

/**
 * The DNS records a domain needs before this server's mail is welcome elsewhere, as data and as the
 * readable block the app prints on first start. Pure: the keys' p= values and the address come in.
 */

export interface DnsRecordsInput {
  /** This server's name: the MX target, the EHLO name, where PTR should point. */
  readonly hostname: string;
  /** The mail domains we send for and receive. */
  readonly domains: readonly string[];
  readonly selectors: { readonly rsa: string; readonly ed25519: string };
  /** The p= values (see dkimPublicKeyValue). */
  readonly keys: { readonly rsa: string; readonly ed25519: string };
  /** The public address, for A/AAAA, SPF and the PTR reminder; without it SPF names the MX. */
  readonly ip?: string;
  /** The MTA-STS policy id; change it whenever the policy file changes (RFC 8461 §3.1). */
  readonly mtaStsPolicyId?: string;
}

export interface DnsRecord {
  readonly name: string;
  readonly type: 'A' | 'AAAA' | 'MX' | 'TXT';
  /** For TXT the whole text, to be cut into 255-byte strings by the zone (see {@link zoneLine}). */
  readonly value: string;
  readonly purpose: string;
}

export function dnsRecordsToPublish(input: DnsRecordsInput): DnsRecord[] {
  const hostname = input.hostname.replace(/\.$/, '').toLowerCase();
  const family = input.ip === undefined ? 0 : isIP(input.ip);
  if (input.ip !== undefined && family === 0) throw new Error(`not an IP address: ${input.ip}`);
  const records: DnsRecord[] = [];
  if (input.ip !== undefined)
    records.push({
      name: hostname,
      type: family === 6 ? 'AAAA' : 'A',
      value: input.ip,
      purpose: `this server; its PTR record should name ${hostname}`,
    });
  const spfAddress = input.ip === undefined ? '' : ` ${family === 6 ? 'ip6' : 'ip4'}:${input.ip}`;
  for (const rawDomain of input.domains) {
    const domain = rawDomain.replace(/\.$/, '').toLowerCase();
    records.push(
      {
        name: domain,
        type: 'MX',
        value: `10 ${hostname}.`,
        purpose: 'where mail for the domain goes (RFC 5321 §5)',
      },
      {
        name: domain,
        type: 'TXT',
        value: `v=spf1 mx${spfAddress} -all`,
        purpose: 'SPF: who may send as the domain (RFC 7208)',
      },
      {
        name: `${input.selectors.rsa}._domainkey.${domain}`,
        type: 'TXT',
        value: `v=DKIM1; k=rsa; p=${input.keys.rsa}`,
        purpose: 'DKIM RSA key (RFC 6376)',
      },
      {
        name: `${input.selectors.ed25519}._domainkey.${domain}`,
        type: 'TXT',
        value: `v=DKIM1; k=ed25519; p=${input.keys.ed25519}`,
        purpose: 'DKIM Ed25519 key (RFC 8463)',
      },
      {
        name: `_dmarc.${domain}`,
        type: 'TXT',
        value: `v=DMARC1; p=none; rua=mailto:postmaster@${domain}`,
        purpose: 'DMARC (RFC 7489): reports first; tighten to p=quarantine once they look clean',
      },
      {
        name: `_mta-sts.${domain}`,
        type: 'TXT',
        value: `v=STSv1; id=${input.mtaStsPolicyId ?? '1'}`,
        purpose: `MTA-STS (RFC 8461): serve https://mta-sts.${domain}/.well-known/mta-sts.txt naming mx: ${hostname}`,
      },
      {
        name: `_smtp._tls.${domain}`,
        type: 'TXT',
        value: `v=TLSRPTv1; rua=mailto:postmaster@${domain}`,
        purpose: 'TLS-RPT (RFC 8460): where others report TLS failures',
      },
    );
  }
  return records;
}

/** One record in zone-file form; TXT text in quoted strings of at most 255 bytes (RFC 1035 §3.3.14). */
export function zoneLine(record: DnsRecord): string {
  const name = `${record.name}.`;
  if (record.type !== 'TXT') return `${name} IN ${record.type} ${record.value}`;
  const strings: string[] = [];
  for (let offset = 0; offset < record.value.length; offset += 255)
    strings.push(`"${record.value.slice(offset, offset + 255).replace(/["\\]/g, '\\$&')}"`);
  return `${name} IN TXT ${strings.length === 1 ? strings[0] : `( ${strings.join(' ')} )`}`;
}

/** The block printed on first start: each record with a comment on what it is for. */
export function formatDnsRecords(records: readonly DnsRecord[]): string {
  return records.map((record) => `; ${record.purpose}\n${zoneLine(record)}`).join('\n');
}
