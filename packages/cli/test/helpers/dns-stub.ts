import { createSocket, type Socket } from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';

/** Records of one name. A name that is absent answers NXDOMAIN; `servfail: true` answers SERVFAIL. */
export interface ZoneEntry {
  readonly mx?: readonly { preference: number; exchange: string }[];
  readonly a?: readonly string[];
  readonly aaaa?: readonly string[];
  /** TXT records, each one character-string (at most 255 bytes). */
  readonly txt?: readonly string[];
  readonly servfail?: boolean;
}

const typeA = 1;
const typeMx = 15;
const typeAaaa = 28;
const typeTxt = 16;

/**
 * A tiny authoritative DNS server on a loopback UDP port (RFC 1035 §4.1 message format), enough for
 * node:dns to resolve MX, A, AAAA and TXT: the CLI is pointed at it with --dns-server, so `smtp mx` runs
 * its real resolver code against records the test controls.
 */
export async function startDnsStub(
  zone: Readonly<Record<string, ZoneEntry>>,
): Promise<{ address: string; close(): Promise<void> }> {
  const socket: Socket = createSocket('udp4');
  socket.on('message', (query, remote) => {
    const response = answer(query, zone);
    if (response) socket.send(response, remote.port, remote.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

function answer(query: Buffer, zone: Readonly<Record<string, ZoneEntry>>): Buffer | null {
  if (query.length < 12) return null;
  let offset = 12;
  const labels: string[] = [];
  while (offset < query.length && query[offset] !== 0) {
    const length = query[offset] ?? 0;
    labels.push(query.subarray(offset + 1, offset + 1 + length).toString('ascii'));
    offset += 1 + length;
  }
  offset += 1;
  const type = query.readUInt16BE(offset);
  const questionEnd = offset + 4;
  const name = labels.join('.').toLowerCase();
  const entry = zone[name];
  let rcode = 0;
  const answers: Buffer[] = [];
  if (entry === undefined) rcode = 3;
  else if (entry.servfail) rcode = 2;
  else if (type === typeMx)
    for (const record of entry.mx ?? [])
      answers.push(
        resourceRecord(typeMx, Buffer.concat([u16(record.preference), encodeName(record.exchange)])),
      );
  else if (type === typeA)
    for (const address of entry.a ?? []) answers.push(resourceRecord(typeA, ipv4(address)));
  else if (type === typeAaaa)
    for (const address of entry.aaaa ?? []) answers.push(resourceRecord(typeAaaa, ipv6(address)));
  else if (type === typeTxt)
    for (const text of entry.txt ?? [])
      answers.push(
        resourceRecord(typeTxt, Buffer.concat([Buffer.from([text.length]), Buffer.from(text, 'ascii')])),
      );
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  header.writeUInt16BE(0x8400 | 0x0100 | 0x0080 | rcode, 2); // QR, AA, RD, RA, rcode
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  return Buffer.concat([header, query.subarray(12, questionEnd), ...answers]);
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
