import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { type DnsStub, requireTool, startDnsStub } from '@smtp/test-support';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dkimPublicKeyValue } from './dkim-keys.js';
import { DkimStreamSigner, signMessage } from './dkim-signer.js';

// Signed here, verified by two implementations nobody here wrote: mailauth (Node) and dkimpy
// (Debian python3-dkim), both reading the key records from the DNS stub.
const python = requireTool('/usr/bin/python3', 'apt-get install python3-dkim python3-nacl');
const pythonVerify = `
import dkim, json, sys
records = json.loads(sys.argv[1])
def dnsfunc(name, timeout=5):
    return records.get(name.decode().rstrip('.'), '').encode()
message = sys.stdin.buffer.read()
d = dkim.DKIM(message)
count = len([h for h in d.headers if h[0].lower() == b'dkim-signature'])
def verify(index):
    try:
        return d.verify(idx=index, dnsfunc=dnsfunc)
    except dkim.ValidationError:
        return False
print(json.dumps([verify(i) for i in range(count)]))
`;

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const ed25519 = generateKeyPairSync('ed25519').privateKey;
const now = Date.parse('2026-12-06T10:00:00Z');

const message = Buffer.from(
  [
    'From: Alice <alice@sender.test>',
    'To: bob@remote.test',
    'Subject: Lunch   at\r\n\tnoon, café',
    'Date: Sun, 6 Dec 2026 10:00:00 +0000',
    'Message-ID: <m1@sender.test>',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'X-Unsigned: not in h=',
    '',
    'Shall we meet  at noon?   ',
    '',
    'Alice',
    '',
    '',
  ].join('\r\n'),
  'utf8',
);

describe('DKIM signing', () => {
  let dns: DnsStub;
  let resolver: Resolver;

  beforeAll(async () => {
    dns = await startDnsStub({
      'rsa1._domainkey.sender.test': { txt: [`v=DKIM1; k=rsa; p=${dkimPublicKeyValue(rsa)}`] },
      'ed1._domainkey.sender.test': { txt: [`v=DKIM1; k=ed25519; p=${dkimPublicKeyValue(ed25519)}`] },
    });
    resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([dns.address]);
  });
  afterAll(async () => {
    await dns?.close();
  });

  const sign = (keys: { selector: string; privateKey: KeyObject }[]) =>
    signMessage(message, { domain: 'sender.test', keys, now });

  const bothKeys = () => [
    { selector: 'rsa1', privateKey: rsa },
    { selector: 'ed1', privateKey: ed25519 },
  ];

  async function mailauthResults(signed: Buffer) {
    const result = await dkimVerify(signed, {
      resolver: (name: string, type: string) => resolver.resolve(name, type as 'TXT'),
      curTime: new Date(now + 60_000),
    });
    return result.results.map((entry) => ({ selector: entry.selector, result: entry.status.result }));
  }

  async function pythonResults(signed: Buffer): Promise<boolean[]> {
    const records: Record<string, string> = {};
    for (const name of ['rsa1._domainkey.sender.test', 'ed1._domainkey.sender.test'])
      records[name] = (await resolver.resolveTxt(name)).map((parts) => parts.join('')).join('');
    const output = execFileSync(python, ['-c', pythonVerify, JSON.stringify(records)], { input: signed });
    return JSON.parse(output.toString()) as boolean[];
  }

  it('signs with RSA and Ed25519 in one pass; mailauth verifies both', async () => {
    const signatures = sign(bothKeys());
    expect(signatures.match(/^DKIM-Signature:/gm)).toHaveLength(2);
    expect(signatures).toContain('a=rsa-sha256');
    expect(signatures).toContain('a=ed25519-sha256');
    expect(signatures).toContain('c=relaxed/relaxed');
    expect(signatures).toContain(`t=${now / 1000}`);
    // Oversigned: one more from/to/cc/subject/date/reply-to than present (Cc and Reply-To cannot be added); X-Unsigned not signed.
    expect(signatures).toContain(
      'h=from:from:to:to:cc:subject:subject:date:date:message-id:reply-to:mime-version:content-type;',
    );
    expect(await mailauthResults(Buffer.concat([Buffer.from(signatures), message]))).toEqual([
      { selector: 'rsa1', result: 'pass' },
      { selector: 'ed1', result: 'pass' },
    ]);
  });

  it('python3-dkim (dkimpy) verifies both signatures too', async () => {
    const signed = Buffer.concat([Buffer.from(sign(bothKeys())), message]);
    expect(await pythonResults(signed)).toEqual([true, true]);
  });

  it('fails verification when the body is changed after signing', async () => {
    const signed = Buffer.concat([Buffer.from(sign(bothKeys())), message]);
    const tampered = Buffer.from(signed.toString('latin1').replace('meet  at noon', 'meet at one'), 'latin1');
    expect(await mailauthResults(tampered)).toEqual([
      { selector: 'rsa1', result: 'neutral' },
      { selector: 'ed1', result: 'neutral' },
    ]);
    expect(await pythonResults(tampered)).toEqual([false, false]);
  });

  it('fails verification when a second From is added (oversigning), and passes after harmless rewrapping', async () => {
    const signatures = sign(bothKeys());
    const addedFrom = Buffer.concat([
      Buffer.from(signatures),
      Buffer.from('From: mallory@evil.test\r\n'),
      message,
    ]);
    expect((await mailauthResults(addedFrom)).map((entry) => entry.result)).toEqual(['fail', 'fail']);
    expect(await pythonResults(addedFrom)).toEqual([false, false]);
    // Relaxed canonicalization survives what relays do: re-folding headers, trailing spaces, trailing empty lines.
    const rewrapped = Buffer.from(
      Buffer.concat([Buffer.from(signatures), message])
        .toString('latin1')
        .replace('Subject: Lunch   at\r\n\tnoon', 'Subject:  Lunch at noon')
        .replace('Alice\r\n\r\n\r\n', 'Alice  \r\n'),
      'latin1',
    );
    expect((await mailauthResults(rewrapped)).map((entry) => entry.result)).toEqual(['pass', 'pass']);
    expect(await pythonResults(rewrapped)).toEqual([true, true]);
  });

  it('gives the same signatures streamed in small chunks as in one piece', () => {
    const signer = new DkimStreamSigner({ domain: 'sender.test', keys: bothKeys(), now });
    for (let offset = 0; offset < message.length; offset += 7)
      signer.update(message.subarray(offset, offset + 7));
    const streamed = signer.finish();
    // RSA PKCS#1 v1.5 and Ed25519 are deterministic: equal input, equal signature.
    expect(streamed).toBe(sign(bothKeys()));
  });

  it('signs a message with no body', async () => {
    const headersOnly = Buffer.from('From: alice@sender.test\r\nSubject: empty\r\n');
    const signatures = signMessage(headersOnly, { domain: 'sender.test', keys: bothKeys(), now });
    const signed = Buffer.concat([Buffer.from(signatures), headersOnly, Buffer.from('\r\n')]);
    expect((await mailauthResults(signed)).map((entry) => entry.result)).toEqual(['pass', 'pass']);
    expect(await pythonResults(signed)).toEqual([true, true]);
  });

  it('refuses keys it cannot sign with', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 512 }).privateKey;
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(() => signMessage(message, { domain: 'd.test', keys: [], now })).toThrow(/at least one key/);
    expect(() => sign([{ selector: 's', privateKey: small }])).toThrow(
      /at least 1024 bits, this one has 512/,
    );
    expect(() => sign([{ selector: 's', privateKey: ec }])).toThrow(/RSA or Ed25519 keys, not ec/);
  });
});
