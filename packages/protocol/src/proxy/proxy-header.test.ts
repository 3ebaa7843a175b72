import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { SmtpUsageError } from '../errors.js';
import { crc32c } from './crc32c.js';
import { formatIpv6, parseIpv6 } from './ip-address.js';
import {
  type ProxyHeader,
  parseProxyHeader,
  serializeProxyHeaderV1,
  serializeProxyHeaderV2,
} from './proxy-header.js';

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (character) => character.charCodeAt(0));
}

function concat(...parts: (Uint8Array | readonly number[])[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

// proxy-protocol.txt §2.2
const signature = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

function invalidReason(bytes: Uint8Array): string {
  const result = parseProxyHeader(bytes);
  if (result.status !== 'invalid') throw new Error(`expected invalid, got ${JSON.stringify(result)}`);
  return result.reason;
}

describe('parseProxyHeader, v1 (§2.1)', () => {
  it('reads the example line of §2.1 and leaves the data after it', () => {
    const line = 'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n';
    expect(parseProxyHeader(ascii(`${line}GET / HTTP/1.1\r\n`))).toEqual({
      status: 'ok',
      header: {
        version: 1,
        command: 'PROXY',
        protocol: 'TCP4',
        source: { address: '192.168.0.1', port: 56324 },
        destination: { address: '192.168.0.11', port: 443 },
      },
      consumedBytes: line.length,
    });
  });

  it('reads TCP6 and gives addresses in RFC 5952 form', () => {
    const result = parseProxyHeader(ascii('PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::FFFF:192.0.2.1 0 65535\r\n'));
    expect(result).toMatchObject({
      status: 'ok',
      header: {
        protocol: 'TCP6',
        source: { address: '2001:db8::1', port: 0 },
        destination: { address: '::ffff:192.0.2.1', port: 65535 },
      },
    });
  });

  it('reads UNKNOWN and ignores the rest of its line', () => {
    for (const line of ['PROXY UNKNOWN\r\n', 'PROXY UNKNOWN whatever \x01 is here\r\n']) {
      expect(parseProxyHeader(ascii(line))).toEqual({
        status: 'ok',
        header: { version: 1, command: 'PROXY', protocol: 'UNKNOWN' },
        consumedBytes: line.length,
      });
    }
  });

  it('accepts the worst-case line of exactly 107 bytes', () => {
    const address = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
    const line = `PROXY UNKNOWN ${address} ${address} 65535 65535\r\n`;
    expect(line.length).toBe(107);
    expect(parseProxyHeader(ascii(line))).toMatchObject({ status: 'ok', consumedBytes: 107 });
  });

  it('refuses a line longer than 107 bytes as soon as 107 bytes lack a CRLF', () => {
    expect(invalidReason(ascii(`PROXY UNKNOWN ${'x'.repeat(93)}`))).toContain('107');
    expect(parseProxyHeader(ascii(`PROXY UNKNOWN ${'x'.repeat(92)}`)).status).toBe('incomplete');
  });

  it('is incomplete until the CRLF arrives', () => {
    for (const text of [
      'P',
      'PROX',
      'PROXY ',
      'PROXY TCP4 1.2.3.4 5.6.7.8 1 2',
      'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r',
    ]) {
      expect(parseProxyHeader(ascii(text))).toEqual({ status: 'incomplete' });
    }
    expect(parseProxyHeader(new Uint8Array(0))).toEqual({ status: 'incomplete' });
  });

  it('refuses what does not match the protocol exactly, with a reason', () => {
    expect(invalidReason(ascii('GET / HTTP/1.1\r\n'))).toContain('signature');
    expect(invalidReason(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n'))).toContain('bare LF');
    expect(invalidReason(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1\r2\r\n'))).toContain('CR');
    expect(invalidReason(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n'))).toContain('out of range');
    expect(invalidReason(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 080 25\r\n'))).toContain('leading zeros');
    expect(invalidReason(ascii('PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n'))).toContain('source address');
    expect(invalidReason(ascii('PROXY TCP4 1.2.3.4 256.6.7.8 1 2\r\n'))).toContain('destination address');
    expect(invalidReason(ascii('PROXY TCP4 ::1 ::1 1 2\r\n'))).toContain('address');
    expect(invalidReason(ascii('PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n'))).toContain('address');
    expect(invalidReason(ascii('PROXY TCP6 1::2::3 ::1 1 2\r\n'))).toContain('address');
    expect(invalidReason(ascii('PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n'))).toContain('exactly');
    expect(invalidReason(ascii('PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n'))).toContain('TCP5');
    expect(invalidReason(ascii('PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n'))).toContain('tcp4');
  });
});

describe('parseProxyHeader, v2 (§2.2)', () => {
  const ipv4Block = [192, 0, 2, 1, 198, 51, 100, 7, 0xdb, 0xc4, 0x00, 0x19]; // ports 56260, 25

  it('reads TCP over IPv4', () => {
    const bytes = concat(signature, [0x21, 0x11, 0x00, 12], ipv4Block, ascii('EHLO x\r\n'));
    expect(parseProxyHeader(bytes)).toEqual({
      status: 'ok',
      header: {
        version: 2,
        command: 'PROXY',
        protocol: 'TCP4',
        source: { address: '192.0.2.1', port: 56260 },
        destination: { address: '198.51.100.7', port: 25 },
      },
      consumedBytes: 28,
    });
  });

  it('reads UDP over IPv6 and TLVs after the addresses', () => {
    const source = parseIpv6('2001:db8::1') as Uint8Array;
    const destination = parseIpv6('2001:db8::2') as Uint8Array;
    const tlvs = [0x02, 0x00, 0x0b, ...ascii('mx.example.'), 0x05, 0x00, 0x02, 0xab, 0xcd];
    const block = concat(source, destination, [0x01, 0x00, 0x02, 0x00], tlvs);
    const bytes = concat(signature, [0x21, 0x22, 0x00, block.length], block);
    expect(parseProxyHeader(bytes)).toEqual({
      status: 'ok',
      header: {
        version: 2,
        command: 'PROXY',
        protocol: 'UDP6',
        source: { address: '2001:db8::1', port: 256 },
        destination: { address: '2001:db8::2', port: 512 },
        tlvs: new Map([
          [0x02, ascii('mx.example.')],
          [0x05, new Uint8Array([0xab, 0xcd])],
        ]),
      },
      consumedBytes: 16 + block.length,
    });
  });

  it('reads AF_UNIX paths up to their NUL', () => {
    const block = new Uint8Array(216);
    block.set(ascii('/run/proxy.sock'), 0);
    block.set(ascii('/run/smtp.sock'), 108);
    const result = parseProxyHeader(concat(signature, [0x21, 0x31, 0x00, 216], block));
    expect(result).toMatchObject({
      status: 'ok',
      header: {
        protocol: 'UNIX',
        source: { address: '/run/proxy.sock', port: 0 },
        destination: { address: '/run/smtp.sock', port: 0 },
      },
    });
  });

  it('reads LOCAL and ignores its address block, whatever its length', () => {
    for (const bytes of [
      concat(signature, [0x20, 0x00, 0x00, 0x00]),
      concat(signature, [0x20, 0x11, 0x00, 12], ipv4Block),
      concat(signature, [0x20, 0x11, 0x00, 3], [1, 2, 3]),
    ]) {
      expect(parseProxyHeader(bytes)).toEqual({
        status: 'ok',
        header: { version: 2, command: 'LOCAL', protocol: 'UNKNOWN' },
        consumedBytes: bytes.length,
      });
    }
  });

  it('reads AF_UNSPEC as UNKNOWN without addresses and skips the block', () => {
    const bytes = concat(signature, [0x21, 0x00, 0x00, 0x00]);
    expect(parseProxyHeader(bytes)).toEqual({
      status: 'ok',
      header: { version: 2, command: 'PROXY', protocol: 'UNKNOWN' },
      consumedBytes: 16,
    });
    expect(parseProxyHeader(concat(signature, [0x21, 0x10, 0x00, 12], ipv4Block))).toMatchObject({
      status: 'ok',
      header: { protocol: 'UNKNOWN' },
      consumedBytes: 28,
    });
  });

  it('is incomplete until the whole header has arrived', () => {
    const bytes = concat(signature, [0x21, 0x11, 0x00, 12], ipv4Block);
    for (let length = 0; length < bytes.length; length += 1) {
      expect(parseProxyHeader(bytes.subarray(0, length))).toEqual({ status: 'incomplete' });
    }
  });

  it('refuses bad versions, commands, families, transports and short blocks', () => {
    expect(invalidReason(concat(signature, [0x11, 0x11, 0x00, 12], ipv4Block))).toContain('version');
    expect(invalidReason(concat(signature, [0x22, 0x11, 0x00, 12], ipv4Block))).toContain('command');
    expect(invalidReason(concat(signature, [0x21, 0x41, 0x00, 12], ipv4Block))).toContain('family');
    expect(invalidReason(concat(signature, [0x21, 0x13, 0x00, 12], ipv4Block))).toContain('transport');
    expect(invalidReason(concat(signature, [0x21, 0x21, 0x00, 12], ipv4Block))).toContain('address block');
    expect(invalidReason(concat(signature.slice(0, 11), [0x0b, 0x21]))).toContain('signature');
  });

  it('refuses TLVs that run past the header', () => {
    expect(
      invalidReason(concat(signature, [0x21, 0x11, 0x00, 16], ipv4Block, [0x05, 0x00, 0x02, 0xab])),
    ).toContain('TLV');
    expect(invalidReason(concat(signature, [0x21, 0x11, 0x00, 14], ipv4Block, [0x05, 0x00]))).toContain(
      'TLV',
    );
  });

  it('checks a CRC32C TLV (§2.2.3)', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283); // RFC 3720 / iSCSI check value
    const header: ProxyHeader = {
      version: 2,
      command: 'PROXY',
      protocol: 'TCP4',
      source: { address: '192.0.2.1', port: 1 },
      destination: { address: '192.0.2.2', port: 2 },
    };
    const bytes = serializeProxyHeaderV2(header, { checksum: true });
    expect(parseProxyHeader(bytes)).toMatchObject({
      status: 'ok',
      header: { tlvs: new Map([[0x03, bytes.slice(-4)]]) },
    });
    const tampered = bytes.slice();
    tampered[16] = 10; // source address 10.0.2.1
    expect(invalidReason(tampered)).toContain('CRC32C');
  });
});

describe('serializers', () => {
  it('write the §2.1 example line and the short UNKNOWN form', () => {
    const header: ProxyHeader = {
      version: 1,
      command: 'PROXY',
      protocol: 'TCP4',
      source: { address: '192.168.0.1', port: 56324 },
      destination: { address: '192.168.0.11', port: 443 },
    };
    expect(serializeProxyHeaderV1(header)).toEqual(
      ascii('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n'),
    );
    expect(serializeProxyHeaderV1({ version: 1, command: 'PROXY', protocol: 'UNKNOWN' })).toEqual(
      ascii('PROXY UNKNOWN\r\n'),
    );
    expect(serializeProxyHeaderV1({ version: 2, command: 'LOCAL', protocol: 'UNKNOWN' })).toEqual(
      ascii('PROXY UNKNOWN\r\n'),
    );
  });

  it('write LOCAL as v2 with AF_UNSPEC and no addresses', () => {
    expect(serializeProxyHeaderV2({ version: 2, command: 'LOCAL', protocol: 'TCP4' })).toEqual(
      concat(signature, [0x20, 0x00, 0x00, 0x00]),
    );
  });

  it('throw SmtpUsageError for what cannot be written', () => {
    const source = { address: '192.0.2.1', port: 1 };
    expect(() =>
      serializeProxyHeaderV1({ version: 1, command: 'PROXY', protocol: 'UDP4', source, destination: source }),
    ).toThrow(SmtpUsageError);
    expect(() => serializeProxyHeaderV1({ version: 1, command: 'PROXY', protocol: 'TCP4', source })).toThrow(
      SmtpUsageError,
    );
    expect(() =>
      serializeProxyHeaderV2({
        version: 2,
        command: 'PROXY',
        protocol: 'TCP4',
        source,
        destination: { address: '::1', port: 1 },
      }),
    ).toThrow(SmtpUsageError);
    expect(() =>
      serializeProxyHeaderV2({
        version: 2,
        command: 'PROXY',
        protocol: 'TCP4',
        source,
        destination: { ...source, port: 70000 },
      }),
    ).toThrow(SmtpUsageError);
    expect(() =>
      serializeProxyHeaderV2({
        version: 2,
        command: 'PROXY',
        protocol: 'UNIX',
        source: { address: 'x'.repeat(108), port: 0 },
        destination: source,
      }),
    ).toThrow(SmtpUsageError);
  });
});

describe('ip addresses', () => {
  it('formats IPv6 per RFC 5952 §4: longest zero run, first on a tie, never a single group', () => {
    const cases: [string, string][] = [
      ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['0:0:0:0:0:0:0:0', '::'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
      ['FE80::', 'fe80::'],
    ];
    for (const [input, expected] of cases) expect(formatIpv6(parseIpv6(input) as Uint8Array)).toBe(expected);
  });
});

// Properties

const ipv4Arbitrary = fc
  .tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255))
  .map((parts) => parts.join('.'));
const ipv6Arbitrary = fc
  .array(fc.constantFrom(0, 0, 0, 1, 0xffff, 0xdb8, 0x2001), { minLength: 8, maxLength: 8 })
  .map((groups) => formatIpv6(new Uint8Array(groups.flatMap((group) => [group >> 8, group & 0xff]))));
const portArbitrary = fc.integer({ min: 0, max: 65535 });
const endpoint = (address: fc.Arbitrary<string>) => fc.record({ address, port: portArbitrary });

const v1Arbitrary: fc.Arbitrary<ProxyHeader> = fc.oneof(
  fc.record({
    version: fc.constant(1 as const),
    command: fc.constant('PROXY' as const),
    protocol: fc.constant('TCP4' as const),
    source: endpoint(ipv4Arbitrary),
    destination: endpoint(ipv4Arbitrary),
  }),
  fc.record({
    version: fc.constant(1 as const),
    command: fc.constant('PROXY' as const),
    protocol: fc.constant('TCP6' as const),
    source: endpoint(ipv6Arbitrary),
    destination: endpoint(ipv6Arbitrary),
  }),
  fc.constant<ProxyHeader>({ version: 1, command: 'PROXY', protocol: 'UNKNOWN' }),
);

const tlvsArbitrary = fc
  .uniqueArray(
    fc.tuple(
      fc.integer({ min: 0, max: 255 }).filter((type) => type !== 0x03),
      fc.uint8Array({ maxLength: 20 }),
    ),
    {
      selector: ([type]) => type,
      maxLength: 4,
    },
  )
  .map((entries) => new Map(entries));
const unixPathArbitrary = fc.string({ unit: fc.constantFrom('/', 'a', 'é', '.', '-'), maxLength: 50 });
const v2Arbitrary: fc.Arbitrary<ProxyHeader> = fc
  .tuple(
    fc.oneof(
      fc.record({
        protocol: fc.constantFrom('TCP4' as const, 'UDP4' as const),
        source: endpoint(ipv4Arbitrary),
        destination: endpoint(ipv4Arbitrary),
      }),
      fc.record({
        protocol: fc.constantFrom('TCP6' as const, 'UDP6' as const),
        source: endpoint(ipv6Arbitrary),
        destination: endpoint(ipv6Arbitrary),
      }),
      fc.record({
        protocol: fc.constantFrom('UNIX' as const, 'UNIX_DGRAM' as const),
        source: fc.record({ address: unixPathArbitrary, port: fc.constant(0) }),
        destination: fc.record({ address: unixPathArbitrary, port: fc.constant(0) }),
      }),
      fc.record({ protocol: fc.constant('UNKNOWN' as const) }),
    ),
    fc.constantFrom('PROXY' as const, 'LOCAL' as const),
    tlvsArbitrary,
  )
  .map(([addressing, command, tlvs]): ProxyHeader => {
    const base = command === 'LOCAL' ? { protocol: 'UNKNOWN' as const } : addressing;
    return { version: 2, command, ...base, ...(tlvs.size > 0 ? { tlvs } : {}) };
  });

const trailingArbitrary = fc.uint8Array({ maxLength: 20 });

test.prop([
  fc.oneof(
    v1Arbitrary.map((header) => [header, serializeProxyHeaderV1(header)] as const),
    v2Arbitrary.map((header) => [header, serializeProxyHeaderV2(header)] as const),
  ),
  trailingArbitrary,
])('parses serialized headers back; every shorter prefix is incomplete', ([header, bytes], trailing) => {
  expect(parseProxyHeader(concat(bytes, trailing))).toEqual({
    status: 'ok',
    header,
    consumedBytes: bytes.length,
  });
  for (let length = 0; length < bytes.length; length += 1) {
    expect(parseProxyHeader(bytes.subarray(0, length))).toEqual({ status: 'incomplete' });
  }
});

test.prop([v2Arbitrary])('a CRC32C-protected header parses back with its checksum TLV', (header) => {
  const bytes = serializeProxyHeaderV2(header, { checksum: true });
  const result = parseProxyHeader(bytes);
  expect(result).toMatchObject({ status: 'ok', consumedBytes: bytes.length });
});

test.prop([
  fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.uint8Array({ maxLength: 300 }).map((tail) => concat(signature, tail)),
    fc.uint8Array({ maxLength: 120 }).map((tail) => concat(ascii('PROXY '), tail)),
    fc
      .array(
        fc.constantFrom(
          'PROXY ',
          'TCP4 ',
          'TCP6 ',
          'UNKNOWN',
          '1.2.3.4 ',
          '::1 ',
          '65535 ',
          ' ',
          '\r',
          '\n',
          ':',
          '0',
        ),
        { maxLength: 12 },
      )
      .map((parts) => ascii(parts.join(''))),
  ),
])('never throws on arbitrary bytes, and only returns one of the three statuses', (bytes) => {
  const result = parseProxyHeader(bytes);
  expect(['incomplete', 'invalid', 'ok']).toContain(result.status);
  if (result.status === 'ok') expect(result.consumedBytes).toBeLessThanOrEqual(bytes.length);
  if (result.status === 'invalid') expect(result.reason.length).toBeGreaterThan(0);
});
