import { createSocket, type Socket } from 'node:dgram';
import { createServer, isIPv4, isIPv6, type Server } from 'node:net';

/**
 * One TXT record. A string is one record whose text the stub cuts into character-strings of at most
 * 255 bytes (RFC 1035 §3.3.14), as a long DKIM key is published; an array gives the record's
 * character-strings as they are (each at most 255 bytes), for tests about how a reader joins them.
 */
export type TxtRecord = string | readonly string[];

/** Records of one name. A name that is absent answers NXDOMAIN; `servfail: true` answers SERVFAIL. */
export interface ZoneEntry {
  readonly mx?: readonly { preference: number; exchange: string }[];
  readonly a?: readonly string[];
  readonly aaaa?: readonly string[];
  readonly txt?: readonly TxtRecord[];
  readonly servfail?: boolean;
}

/** The stub's records, changeable while it runs: the next query sees the change. */
export interface DnsZone {
  set(name: string, entry: ZoneEntry): void;
  delete(name: string): void;
  get(name: string): ZoneEntry | undefined;
}

export const dnsRecordTypes = { A: 1, MX: 15, TXT: 16, AAAA: 28, OPT: 41 } as const;
export type DnsRecordTypeName = keyof typeof dnsRecordTypes;

/** A question the stub was asked; `type` is a name for the types it knows, the number otherwise. */
export interface DnsQuery {
  readonly name: string;
  readonly type: DnsRecordTypeName | number;
  readonly transport: 'udp' | 'tcp';
}

export interface DnsStub {
  /** `127.0.0.1:port`, for `--dns-server` or node:dns `Resolver#setServers`. */
  readonly address: string;
  readonly port: number;
  readonly zone: DnsZone;
  /** Every question asked so far, oldest first (tests count lookups, e.g. one probe per domain). */
  readonly queries: readonly DnsQuery[];
  close(): Promise<void>;
}

/** RFC 1035 §4.2.1: without EDNS a UDP answer carries at most 512 bytes. */
const classicUdpLimit = 512;
const maxCharacterString = 255;

/**
 * A tiny authoritative DNS server on a loopback port, UDP and TCP (RFC 1035 §4.1 message format, §4.2.2
 * length-prefixed TCP), enough for node:dns to resolve MX, A, AAAA and TXT: SPF, DKIM
 * (`sel._domainkey.domain`), DMARC (`_dmarc.domain`), MTA-STS (`_mta-sts.domain`) and DNSBL zones
 * (see {@link dnsblName}). An answer too long for the asker's UDP size (512 bytes, or its EDNS0 OPT
 * size) is sent truncated (TC), and the resolver asks again over TCP, as it would a real server.
 */
export async function startDnsStub(records: Readonly<Record<string, ZoneEntry>> = {}): Promise<DnsStub> {
  const entries = new Map<string, ZoneEntry>();
  const zone: DnsZone = {
    set: (name, entry) => {
      validateEntry(name, entry);
      entries.set(normalizeName(name), entry);
    },
    delete: (name) => {
      entries.delete(normalizeName(name));
    },
    get: (name) => entries.get(normalizeName(name)),
  };
  for (const [name, entry] of Object.entries(records)) zone.set(name, entry);
  const queries: DnsQuery[] = [];
  const respond = (query: Buffer, transport: DnsQuery['transport']): Buffer | null => {
    const question = readQuestion(query);
    if (question === null) return null;
    queries.push({ name: question.name, type: typeName(question.type), transport });
    const response = answer(query, question, entries.get(question.name));
    const limit = transport === 'tcp' ? 0xffff : Math.max(classicUdpLimit, question.udpPayloadSize);
    return response.length <= limit ? response : truncated(query, question);
  };

  const { udp, tcp, port } = await bindUdpAndTcp(respond);
  return {
    address: `127.0.0.1:${port}`,
    port,
    zone,
    queries,
    close: async () => {
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}

/**
 * The name a DNSBL is asked about an address (RFC 5782 §2.1: IPv4 octets reversed, §2.4: IPv6
 * nibbles reversed) under the list's zone. A listing is an A record in 127.0.0.0/8 (usually
 * 127.0.0.2) and a TXT record with the reason:
 * `zone.set(dnsblName('192.0.2.99', 'bl.test'), { a: ['127.0.0.2'], txt: ['listed: spam trap'] })`.
 */
export function dnsblName(address: string, listZone: string): string {
  if (isIPv4(address)) return `${address.split('.').reverse().join('.')}.${normalizeName(listZone)}`;
  if (isIPv6(address)) {
    const nibbles = [...ipv6(address)].flatMap((byte) => [byte >> 4, byte & 0x0f]);
    return `${nibbles
      .reverse()
      .map((nibble) => nibble.toString(16))
      .join('.')}.${normalizeName(listZone)}`;
  }
  throw new Error(`not an IP address: ${address}`);
}

/** A TXT record's character-strings as the stub sends them: a long text is cut every 255 bytes. */
export function txtCharacterStrings(record: TxtRecord): Buffer[] {
  if (typeof record !== 'string') return record.map((part) => Buffer.from(part, 'utf8'));
  const bytes = Buffer.from(record, 'utf8');
  if (bytes.length === 0) return [bytes];
  const parts: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += maxCharacterString)
    parts.push(bytes.subarray(offset, offset + maxCharacterString));
  return parts;
}

interface Question {
  readonly name: string;
  readonly type: number;
  /** Offset just past the question section. */
  readonly end: number;
  /** The EDNS0 OPT record's UDP payload size (RFC 6891 §6.2.3), 0 without one. */
  readonly udpPayloadSize: number;
}

function readQuestion(query: Buffer): Question | null {
  if (query.length < 12 || query.readUInt16BE(4) < 1) return null;
  let offset = 12;
  const labels: string[] = [];
  while (offset < query.length && query[offset] !== 0) {
    const length = query[offset] ?? 0;
    labels.push(query.subarray(offset + 1, offset + 1 + length).toString('latin1'));
    offset += 1 + length;
  }
  offset += 1;
  if (offset + 4 > query.length) return null;
  const type = query.readUInt16BE(offset);
  const end = offset + 4;
  return { name: normalizeName(labels.join('.')), type, end, udpPayloadSize: readOptSize(query, end) };
}

/** Looks for an OPT pseudo-record in the additional section (the only one a resolver's query carries). */
function readOptSize(query: Buffer, questionEnd: number): number {
  // A query has no answer or authority records; an OPT record's owner is the root (one zero byte).
  if (query.readUInt16BE(10) === 0) return 0;
  const offset = questionEnd;
  if (offset + 11 > query.length || query[offset] !== 0) return 0;
  if (query.readUInt16BE(offset + 1) !== dnsRecordTypes.OPT) return 0;
  return query.readUInt16BE(offset + 3);
}

function answer(query: Buffer, question: Question, entry: ZoneEntry | undefined): Buffer {
  let rcode = 0;
  const answers: Buffer[] = [];
  if (entry === undefined) rcode = 3;
  else if (entry.servfail) rcode = 2;
  else if (question.type === dnsRecordTypes.MX)
    for (const record of entry.mx ?? [])
      answers.push(
        resourceRecord(
          dnsRecordTypes.MX,
          Buffer.concat([u16(record.preference), encodeName(record.exchange)]),
        ),
      );
  else if (question.type === dnsRecordTypes.A)
    for (const address of entry.a ?? []) answers.push(resourceRecord(dnsRecordTypes.A, ipv4(address)));
  else if (question.type === dnsRecordTypes.AAAA)
    for (const address of entry.aaaa ?? []) answers.push(resourceRecord(dnsRecordTypes.AAAA, ipv6(address)));
  else if (question.type === dnsRecordTypes.TXT)
    for (const record of entry.txt ?? [])
      answers.push(
        resourceRecord(
          dnsRecordTypes.TXT,
          Buffer.concat(txtCharacterStrings(record).flatMap((part) => [Buffer.from([part.length]), part])),
        ),
      );
  return Buffer.concat([
    header(query, rcode, answers.length, false),
    query.subarray(12, question.end),
    ...answers,
  ]);
}

function truncated(query: Buffer, question: Question): Buffer {
  return Buffer.concat([header(query, 0, 0, true), query.subarray(12, question.end)]);
}

function header(query: Buffer, rcode: number, answerCount: number, truncation: boolean): Buffer {
  const bytes = Buffer.alloc(12);
  query.copy(bytes, 0, 0, 2); // id
  // QR, AA, (TC), RD, RA, rcode
  bytes.writeUInt16BE(0x8400 | (truncation ? 0x0200 : 0) | 0x0100 | 0x0080 | rcode, 2);
  bytes.writeUInt16BE(1, 4);
  bytes.writeUInt16BE(answerCount, 6);
  return bytes;
}

function resourceRecord(type: number, data: Buffer): Buffer {
  // Name: a pointer to the question's name at offset 12 (RFC 1035 §4.1.4).
  return Buffer.concat([u16(0xc00c), u16(type), u16(1), Buffer.from([0, 0, 1, 44]), u16(data.length), data]);
}

function encodeName(name: string): Buffer {
  const parts = name
    .replace(/\.$/, '')
    .split('.')
    .filter((part) => part !== '');
  return Buffer.concat([
    ...parts.map((part) => Buffer.concat([Buffer.from([part.length]), Buffer.from(part, 'ascii')])),
    Buffer.from([0]),
  ]);
}

function validateEntry(name: string, entry: ZoneEntry): void {
  for (const address of entry.a ?? []) ipv4(address);
  for (const address of entry.aaaa ?? []) ipv6(address);
  for (const record of entry.txt ?? [])
    for (const part of txtCharacterStrings(record))
      if (part.length > maxCharacterString)
        throw new Error(`${name}: a TXT character-string is at most 255 bytes, got ${part.length}`);
}

function normalizeName(name: string): string {
  return name.replace(/\.$/, '').toLowerCase();
}

function typeName(type: number): DnsRecordTypeName | number {
  const entry = Object.entries(dnsRecordTypes).find(([, value]) => value === type);
  return entry ? (entry[0] as DnsRecordTypeName) : type;
}

/**
 * One port for both transports. TCP is bound first, on a port the kernel picks: the ephemeral range
 * is crowded with TCP connections when many suites run at once, while few UDP sockets exist, so
 * taking the same number for UDP afterwards rarely fails; when it does, try again.
 */
async function bindUdpAndTcp(
  respond: (query: Buffer, transport: DnsQuery['transport']) => Buffer | null,
): Promise<{ udp: Socket; tcp: Server; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const tcp = createServer((socket) => {
      let pending = Buffer.alloc(0);
      socket.on('error', () => socket.destroy());
      socket.on('data', (chunk) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
          const query = pending.subarray(2, 2 + pending.readUInt16BE(0));
          pending = pending.subarray(2 + query.length);
          const response = respond(query, 'tcp');
          if (response) socket.write(Buffer.concat([u16(response.length), response]));
        }
      });
    });
    await listen(tcp, 0);
    const port = (tcp.address() as { port: number }).port;
    const udp: Socket = createSocket('udp4');
    udp.on('message', (query, remote) => {
      const response = respond(query, 'udp');
      if (response) udp.send(response, remote.port, remote.address);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, '127.0.0.1', () => {
          udp.off('error', reject);
          resolve();
        });
      });
      return { udp, tcp, port };
    } catch (error) {
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      if (attempt >= 20) throw error;
    }
  }
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function u16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16BE(value);
  return buffer;
}

function ipv4(address: string): Buffer {
  if (!isIPv4(address)) throw new Error(`not IPv4: ${address}`);
  return Buffer.from(address.split('.').map(Number));
}

function ipv6(address: string): Buffer {
  if (!isIPv6(address)) throw new Error(`not IPv6: ${address}`);
  const [head = '', tail = ''] = address.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::')
    ? [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
    : headGroups;
  return Buffer.concat(groups.map((group) => u16(Number.parseInt(group, 16))));
}
