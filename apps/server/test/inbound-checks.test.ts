import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { type DnsStub, dnsblName, requireTool, startDnsStub } from '@smtp/test-support';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InboundChecksConfig, inboundChecksSchema } from '../src/config/inbound-checks-schema.js';
import { dkimPublicKeyValue } from '../src/dkim/dkim-keys.js';
import { signMessage } from '../src/dkim/dkim-signer.js';
import { sealForwardedMessage } from '../src/inbound/checks/arc-seal.js';
import { authenticationResultsValue } from '../src/inbound/checks/authentication-results.js';
import { createDnsLookup, type DnsLookup } from '../src/inbound/checks/dns-lookup.js';
import { InboundCheckMetrics } from '../src/inbound/checks/inbound-check-metrics.js';
import { type InboundCheckResult, InboundChecks } from '../src/inbound/checks/inbound-checks.js';
import { parseMessage } from '../src/mime/parse-message.js';
import { SqliteDatabase } from '../src/sqlite/sqlite-database.js';
import { SqliteGreylistStore } from '../src/sqlite/sqlite-greylist-store.js';
import type { InboundChecksConfigInput } from './support/inbound-checks-settings.js';

// The inbound checks through their entry point (InboundChecks → session → onMailFrom/onRcptTo/
// afterData), with real DNS: node:dns against the shared DNS stub, which publishes SPF, DKIM keys,
// DMARC policies and DNS lists. Messages are signed by our DKIM signer and by dkimpy; ARC sets are
// sealed by mailauth. The greylist lives in a real (in-memory) SQLite database built by the migrations.
const python = requireTool('/usr/bin/python3', 'apt-get install python3-dkim python3-nacl');

const start = Date.parse('2026-12-06T10:00:00Z');
const senderRsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const senderEd25519 = generateKeyPairSync('ed25519').privateKey;
const pythonRsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const pythonEd25519 = generateKeyPairSync('ed25519').privateKey;
const originRsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const listArc = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

const client = '192.0.2.10'; // the address every test domain's SPF record allows, unless it says otherwise
const dkimRecord = (key: KeyObject) =>
  `v=DKIM1; k=${key.asymmetricKeyType === 'ed25519' ? 'ed25519' : 'rsa'}; p=${dkimPublicKeyValue(key)}`;

function message(headers: Record<string, string>, body = 'Hello there.\r\n'): Buffer {
  const fields = {
    To: 'bob@mx.test',
    Subject: 'Lunch',
    Date: 'Sun, 6 Dec 2026 10:00:00 +0000',
    'Message-ID': `<${Math.random().toString(36).slice(2)}@sender.test>`,
    ...headers,
  };
  const header = Object.entries(fields).map(([name, value]) => `${name}: ${value}\r\n`);
  return Buffer.from(`${header.join('')}\r\n${body}`, 'utf8');
}

function signedBySender(raw: Buffer, key: KeyObject = senderRsa, selector = 'rsa1'): Buffer {
  const signature = signMessage(raw, {
    domain: 'sender.test',
    keys: [{ selector, privateKey: key }],
    now: start,
  });
  return Buffer.concat([Buffer.from(signature, 'latin1'), raw]);
}

/** dkimpy (Debian python3-dkim) signs: an independent implementation, RSA or Ed25519 (RFC 8463). */
function signedByDkimpy(raw: Buffer, key: KeyObject, selector: string): Buffer {
  const isEd25519 = key.asymmetricKeyType === 'ed25519';
  const secret = isEd25519
    ? key.export({ type: 'pkcs8', format: 'der' }).subarray(-32).toString('base64')
    : (key.export({ type: 'pkcs1', format: 'pem' }) as string);
  const script = `
import dkim, sys
secret = sys.argv[1].encode()
algorithm = b'ed25519-sha256' if sys.argv[2] == 'ed25519' else b'rsa-sha256'
message = sys.stdin.buffer.read()
signature = dkim.sign(message, sys.argv[3].encode(), b'sender.test', secret, signature_algorithm=algorithm,
    include_headers=[b'from', b'to', b'subject', b'date', b'message-id'])
sys.stdout.buffer.write(signature + message)
`;
  return execFileSync(python, ['-c', script, secret, isEd25519 ? 'ed25519' : 'rsa', selector], {
    input: raw,
  });
}

describe('inbound checks', () => {
  let dns: DnsStub;
  let lookup: DnsLookup;
  let database: SqliteDatabase;
  let greylistStore: SqliteGreylistStore;
  let nowMs = start;
  const registry = new Registry();
  const metrics = new InboundCheckMetrics(registry);

  beforeAll(async () => {
    dns = await startDnsStub({
      'client.test': { a: [client], txt: ['v=spf1 ip4:192.0.2.0/24 -all'] },
      'sender.test': { txt: ['v=spf1 ip4:192.0.2.0/24 -all'] },
      '_dmarc.sender.test': { txt: ['v=DMARC1; p=reject'] },
      'rsa1._domainkey.sender.test': { txt: [dkimRecord(senderRsa)] },
      'ed1._domainkey.sender.test': { txt: [dkimRecord(senderEd25519)] },
      'py1._domainkey.sender.test': { txt: [dkimRecord(pythonRsa)] },
      'pyed._domainkey.sender.test': { txt: [dkimRecord(pythonEd25519)] },
      'quarantine.test': { txt: ['v=spf1 ip4:198.51.100.1 -all'] },
      '_dmarc.quarantine.test': { txt: ['v=DMARC1; p=quarantine'] },
      'spf-fail.test': { txt: ['v=spf1 ip4:198.51.100.1 -all'] },
      'spf-soft.test': { txt: ['v=spf1 ip4:198.51.100.1 ~all'] },
      'spf-none.test': { a: ['198.51.100.1'] },
      'origin.test': { txt: ['v=spf1 ip4:203.0.113.5 -all'] },
      '_dmarc.origin.test': { txt: ['v=DMARC1; p=reject'] },
      'rsa1._domainkey.origin.test': { txt: [dkimRecord(originRsa)] },
      'list.test': { txt: ['v=spf1 ip4:192.0.2.0/24 -all'] },
      'arc1._domainkey.list.test': { txt: [dkimRecord(listArc)] },
      [dnsblName('192.0.2.66', 'bl.test')]: { a: ['127.0.0.2'], txt: ['listed: spam trap hit'] },
      [dnsblName('192.0.2.67', 'bl.test')]: { a: ['127.255.255.254'], txt: ['query via public resolver'] },
      [dnsblName('192.0.2.68', 'wl.test')]: { a: ['127.0.10.2'] },
      [dnsblName('192.0.2.69', 'bl.test')]: { servfail: true },
    });
    lookup = createDnsLookup({ servers: [dns.address], timeoutMs: 2000, tries: 1 });
    database = new SqliteDatabase({ path: ':memory:', parse: parseMessage });
    greylistStore = new SqliteGreylistStore(database.connection);
  });
  afterAll(async () => {
    await database?.close();
    await dns?.close();
  });

  function checksWith(input: InboundChecksConfigInput, dnsLookup: DnsLookup = lookup): InboundChecks {
    const settings: InboundChecksConfig = inboundChecksSchema.parse(input);
    return new InboundChecks({
      settings,
      authservId: 'mx.test',
      hostname: 'mx.test',
      lookup: dnsLookup,
      greylistStore,
      now: () => nowMs,
      metrics,
    });
  }
  const noGreylisting = { greylisting: { enabled: false } };
  const greylistingOn = { greylisting: { enabled: true } };

  /** One transaction through every stage; the stage outcomes, and the result if it got to DATA. */
  async function deliver(
    checks: InboundChecks,
    envelope: { address?: string; helo?: string; sender: string | null; recipient?: string; user?: string },
    raw: Buffer,
  ): Promise<{ mail: unknown; rcpt: unknown; result: InboundCheckResult | null }> {
    const session = checks.onConnect({ address: envelope.address ?? client });
    const mail = await session.onMailFrom({
      helo: envelope.helo ?? 'client.test',
      sender: envelope.sender,
      authenticatedUser: envelope.user ?? null,
    });
    const rcpt = await session.onRcptTo({ recipient: envelope.recipient ?? 'bob@mx.test' });
    const isRefused = (rcpt as { action: string }).action !== 'continue';
    return { mail, rcpt, result: isRefused ? null : await session.afterData(raw) };
  }

  describe('DKIM, SPF and DMARC', () => {
    it('verifies our signer (RSA and Ed25519): dkim, spf and dmarc pass; one Authentication-Results', async () => {
      const checks = checksWith(noGreylisting);
      for (const [key, selector] of [
        [senderRsa, 'rsa1'],
        [senderEd25519, 'ed1'],
      ] as const) {
        const raw = signedBySender(message({ From: 'Alice <alice@sender.test>' }), key, selector);
        const { result } = await deliver(checks, { sender: 'alice@sender.test' }, raw);
        expect(result?.verdicts.dkim).toEqual([
          expect.objectContaining({ result: 'pass', domain: 'sender.test', selector, isAligned: true }),
        ]);
        expect(result?.verdicts.spf.mailFrom).toMatchObject({ result: 'pass', domain: 'sender.test' });
        expect(result?.verdicts.spf.helo).toMatchObject({ result: 'pass', domain: 'client.test' });
        expect(result?.verdicts.dmarc).toMatchObject({
          result: 'pass',
          domain: 'sender.test',
          policy: 'reject',
        });
        expect(result?.decision).toEqual({ action: 'accept' });
        const header = result?.authenticationResults ?? '';
        expect(header).toMatch(/^Authentication-Results: mx\.test;\r\n\tdkim=pass /);
        expect(header).toMatch(/;\r\n\tspf=pass .*smtp\.mailfrom=alice@sender\.test/);
        expect(header).toContain(';\r\n\tspf=pass smtp.helo=client.test');
        expect(header).toContain(';\r\n\tarc=none;');
        expect(header).toMatch(/;\r\n\tdmarc=pass .*header\.from=sender\.test.*\r\n$/);
        expect(header).toContain(`header.s=${selector}`);
        const stored = Buffer.from(result?.message ?? []).toString('latin1');
        expect(stored.startsWith(header)).toBe(true);
        expect(stored.match(/^Authentication-Results:/gim)).toHaveLength(1);
      }
    });

    it('verifies messages signed by dkimpy, RSA and Ed25519', async () => {
      const checks = checksWith(noGreylisting);
      for (const [key, selector] of [
        [pythonRsa, 'py1'],
        [pythonEd25519, 'pyed'],
      ] as const) {
        const raw = signedByDkimpy(message({ From: 'alice@sender.test' }), key, selector);
        const { result } = await deliver(checks, { sender: 'alice@sender.test' }, raw);
        expect(result?.verdicts.dkim.map((signature) => [signature.selector, signature.result])).toEqual([
          [selector, 'pass'],
        ]);
        expect(result?.verdicts.dkim[0]?.algorithm).toBe(
          selector === 'pyed' ? 'ed25519-sha256' : 'rsa-sha256',
        );
      }
    });

    it('fails DKIM on a tampered body', async () => {
      const checks = checksWith(noGreylisting);
      const signed = signedBySender(message({ From: 'alice@sender.test' }, 'Pay invoice 100.\r\n'));
      const tampered = Buffer.from(signed.toString('latin1').replace('100', '900'), 'latin1');
      const { result } = await deliver(checks, { sender: 'alice@sender.test' }, tampered);
      // RFC 6376 §6.3 step 7: the body hash did not verify. Reported as Gmail and OpenDKIM do (neutral,
      // with the reason); what counts is that the signature does not pass.
      expect(result?.verdicts.dkim[0]).toMatchObject({
        result: 'neutral',
        domain: 'sender.test',
        reason: 'body hash did not verify',
      });
      expect(result?.authenticationResults).toMatch(
        /dkim=neutral \(body hash did not verify\) header\.i=@sender\.test/,
      );
      // A changed header breaks the signature itself: fail.
      const retitled = Buffer.from(
        signed.toString('latin1').replace('Subject: Lunch', 'Subject: Lunch!'),
        'latin1',
      );
      const headerTampered = await deliver(checks, { sender: 'alice@sender.test' }, retitled);
      expect(headerTampered.result?.verdicts.dkim[0]?.result).toBe('fail');
      // SPF still passes and aligns, so DMARC passes: the message is not refused for the body alone.
      expect(result?.verdicts.dmarc.result).toBe('pass');
    });

    it('refuses a spoofed From whose domain says p=reject: 550 5.7.1 after DATA', async () => {
      const checks = checksWith(noGreylisting);
      const spoofed = message({ From: 'CEO <ceo@origin.test>' });
      const { mail, rcpt, result } = await deliver(checks, { sender: 'bulk@sender.test' }, spoofed);
      expect(mail).toEqual({ action: 'continue' });
      expect(rcpt).toEqual({ action: 'continue' });
      expect(result?.verdicts.dmarc).toMatchObject({
        result: 'fail',
        domain: 'origin.test',
        policy: 'reject',
        disposition: 'reject',
      });
      expect(result?.decision).toEqual({
        action: 'reject',
        reply: { code: 550, enhanced: '5.7.1', text: 'Rejected by the DMARC policy of origin.test' },
      });
      // Reported only, with enforcement off.
      const lenient = checksWith({ ...noGreylisting, dmarc: { enforce: false } });
      const reported = await deliver(lenient, { sender: 'bulk@sender.test' }, spoofed);
      expect(reported.result?.decision).toEqual({ action: 'accept' });
      expect(reported.result?.verdicts.dmarc.result).toBe('fail');
    });

    it('quarantines a failure whose domain says p=quarantine', async () => {
      const checks = checksWith(noGreylisting);
      const { result } = await deliver(
        checks,
        { sender: 'news@quarantine.test' },
        message({ From: 'news@quarantine.test' }),
      );
      expect(result?.verdicts.spf.mailFrom.result).toBe('fail');
      expect(result?.decision).toEqual({
        action: 'quarantine',
        reason: 'DMARC policy of quarantine.test: quarantine',
      });
    });

    it('reports SPF pass, fail, softfail and none for MAIL FROM', async () => {
      const checks = checksWith(noGreylisting);
      const expected: [string, string][] = [
        ['a@sender.test', 'pass'],
        ['a@spf-fail.test', 'fail'],
        ['a@spf-soft.test', 'softfail'],
        ['a@spf-none.test', 'none'],
      ];
      for (const [sender, spf] of expected) {
        const { result } = await deliver(checks, { sender }, message({ From: sender }));
        expect([sender, result?.verdicts.spf.mailFrom.result]).toEqual([sender, spf]);
        expect(result?.authenticationResults).toContain(`spf=${spf}`);
      }
      // The null sender is checked as postmaster@<HELO> (RFC 7208 §2.4).
      const bounce = await deliver(checks, { sender: null }, message({ From: 'mailer-daemon@client.test' }));
      expect(bounce.result?.verdicts.spf.mailFrom).toMatchObject({ result: 'pass', domain: 'client.test' });
      // spf.rejectFail refuses MAIL FROM itself.
      const strict = checksWith({ ...noGreylisting, spf: { rejectFail: true } });
      const refused = await deliver(
        strict,
        { sender: 'a@spf-fail.test' },
        message({ From: 'a@spf-fail.test' }),
      );
      expect(refused.mail).toMatchObject({ action: 'reject', reply: { code: 550, enhanced: '5.7.23' } });
    });

    it('removes incoming Authentication-Results that claim our authserv-id, keeps others', async () => {
      const checks = checksWith(noGreylisting);
      const forged = message({
        From: 'a@spf-fail.test',
        'Authentication-Results': 'mx.test; dmarc=pass header.from=spf-fail.test',
        'X-Other': 'kept',
      });
      const withForeign = Buffer.concat([
        Buffer.from('Authentication-Results: relay.other; spf=pass\r\n'),
        forged,
      ]);
      const { result } = await deliver(checks, { sender: 'a@spf-fail.test' }, withForeign);
      const stored = Buffer.from(result?.message ?? []).toString('latin1');
      expect(stored.match(/^Authentication-Results: mx\.test/gm)).toHaveLength(1);
      expect(stored).not.toContain('dmarc=pass header.from=spf-fail.test');
      expect(stored).toContain('Authentication-Results: relay.other; spf=pass\r\n');
      expect(stored).toContain('X-Other: kept');
    });

    it('skips the checks for an authenticated client and says so', async () => {
      const checks = checksWith({});
      const { rcpt, result } = await deliver(
        checks,
        { sender: 'a@spf-fail.test', user: 'alice' },
        message({ From: 'ceo@origin.test' }),
      );
      expect(rcpt).toEqual({ action: 'continue' });
      expect(result?.decision).toEqual({ action: 'accept' });
      expect(result?.verdicts.greylist).toEqual({ result: 'skipped', reason: 'authenticated as alice' });
      expect(result?.authenticationResults).toBe(
        'Authentication-Results: mx.test;\r\n\tauth=pass smtp.auth=alice\r\n',
      );
    });
  });

  describe('ARC (RFC 8617)', () => {
    /** origin.test → list.test (adds a subject tag and a footer, seals) → us, from the list's address. */
    async function throughList(afterSeal?: (sealed: string) => string): Promise<Buffer> {
      const original = message(
        { From: 'Alice <alice@origin.test>', To: 'team@list.test' },
        'Agenda attached.\r\n',
      );
      const signature = signMessage(original, {
        domain: 'origin.test',
        keys: [{ selector: 'rsa1', privateKey: originRsa }],
        now: start,
      });
      const modified = Buffer.from(
        `${signature}${original.toString('latin1')}`
          .replace('Subject: Lunch', 'Subject: [team] Lunch')
          .concat('--\r\nteam mailing list\r\n'),
        'latin1',
      );
      const sealed = await sealForwardedMessage(modified, {
        domain: 'list.test',
        selector: 'arc1',
        privateKey: listArc,
        authenticationResults: authenticationResultsValue('list.test', [
          'dkim=pass header.d=origin.test',
          'spf=pass smtp.mailfrom=alice@origin.test',
          'dmarc=pass header.from=origin.test',
        ]),
        chainValidation: 'none',
        nowMs: start,
      });
      const text = sealed.toString('latin1');
      return Buffer.from(afterSeal === undefined ? text : afterSeal(text), 'latin1');
    }

    it('a list-modified message fails DKIM and DMARC but its ARC chain passes; a trusted sealer overrides p=reject', async () => {
      const forwarded = await throughList();
      expect(forwarded.toString('latin1')).toMatch(/^ARC-Seal: i=1; .*cv=none/s);
      const trusting = checksWith({ ...noGreylisting, arc: { trustedSealers: ['list.test'] } });
      const { result } = await deliver(trusting, { sender: 'team-bounces@list.test' }, forwarded);
      expect(result?.verdicts.dkim[0]).toMatchObject({ result: 'neutral', domain: 'origin.test' });
      expect(result?.verdicts.arc).toMatchObject({ result: 'pass', instance: 1, sealer: 'list.test' });
      expect(result?.verdicts.dmarc).toMatchObject({ result: 'fail', policy: 'reject', disposition: 'none' });
      expect(result?.verdicts.dmarc.reason).toContain('ARC chain sealed by trusted list.test passed');
      expect(result?.decision).toEqual({ action: 'accept' });
      expect(result?.authenticationResults).toMatch(/arc=pass/);

      // The same message from a sealer we do not trust: the domain's p=reject applies.
      const wary = checksWith(noGreylisting);
      const refused = await deliver(wary, { sender: 'team-bounces@list.test' }, forwarded);
      expect(refused.result?.verdicts.arc.result).toBe('pass');
      expect(refused.result?.decision).toMatchObject({
        action: 'reject',
        reply: { code: 550, enhanced: '5.7.1' },
      });
    });

    it('a message changed after the seal fails ARC, and the trusted sealer no longer helps', async () => {
      const broken = await throughList((sealed) => sealed.replace('Agenda attached.', 'Agenda changed.'));
      const trusting = checksWith({ ...noGreylisting, arc: { trustedSealers: ['list.test'] } });
      const { result } = await deliver(trusting, { sender: 'team-bounces@list.test' }, broken);
      expect(result?.verdicts.arc.result).toBe('fail');
      expect(result?.decision).toMatchObject({ action: 'reject' });
    });

    it('seals what we forward as instance 2 over an existing chain, which a receiver verifies', async () => {
      const forwarded = await throughList();
      const checks = checksWith({ ...noGreylisting, arc: { trustedSealers: ['list.test'] } });
      const { result } = await deliver(checks, { sender: 'team-bounces@list.test' }, forwarded);
      const ourKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      // ARC signs with rsa-sha256 only (RFC 8617).
      await expect(
        sealForwardedMessage(forwarded, {
          domain: 'mx.test',
          selector: 'ed',
          privateKey: senderEd25519,
          authenticationResults: 'mx.test; none',
          chainValidation: 'pass',
          nowMs: start,
        }),
      ).rejects.toThrow(/RSA keys/);
      dns.zone.set('arc2._domainkey.mx.test', { txt: [dkimRecord(ourKey)] });
      const resealed = await sealForwardedMessage(result?.message ?? new Uint8Array(), {
        domain: 'mx.test',
        selector: 'arc2',
        privateKey: ourKey,
        authenticationResults: (result?.authenticationResults ?? '').replace(
          /^Authentication-Results: |\r\n$/g,
          '',
        ),
        chainValidation: 'pass',
        nowMs: start,
      });
      expect(resealed.toString('latin1')).toMatch(/^ARC-Seal: i=2; a=rsa-sha256; .*cv=pass/s);
      const next = checksWith(noGreylisting);
      const received = await deliver(next, { sender: 'fwd@sender.test' }, resealed);
      expect(received.result?.verdicts.arc).toMatchObject({ result: 'pass', instance: 2, sealer: 'mx.test' });
    });
  });

  describe('greylisting (RFC 6647, Postgrey defaults)', () => {
    it('defers the first attempt with 451 4.7.1, accepts the retry after 300 s, whitelists the client after five passes', async () => {
      nowMs = start;
      const checks = checksWith(greylistingOn);
      const envelope = {
        address: '198.51.100.20',
        helo: 'mail.spf-none.test',
        sender: 'alice@spf-none.test',
      };
      const body = message({ From: 'alice@spf-none.test' });

      const first = await deliver(checks, envelope, body);
      expect(first.rcpt).toMatchObject({ action: 'defer', reply: { code: 451, enhanced: '4.7.1' } });
      nowMs += 120_000;
      expect((await deliver(checks, envelope, body)).rcpt).toMatchObject({ action: 'defer' });
      nowMs += 181_000; // 301 s after the first attempt
      const retry = await deliver(checks, envelope, body);
      expect(retry.rcpt).toEqual({ action: 'continue' });
      expect(retry.result?.verdicts.greylist).toEqual({ result: 'pass', reason: 'retried after 301 s' });
      expect(retry.result?.decision).toEqual({ action: 'accept' });

      // Four more passes of that triplet: five in all.
      for (let pass = 2; pass <= 5; pass++) {
        nowMs += 60_000;
        expect((await deliver(checks, envelope, body)).result?.verdicts.greylist.result).toBe('pass');
      }
      // A triplet never seen, from another address of the client's /24: not greylisted.
      nowMs += 60_000;
      const fresh = await deliver(
        checks,
        { ...envelope, address: '198.51.100.99', recipient: 'carol@mx.test' },
        body,
      );
      expect(fresh.rcpt).toEqual({ action: 'continue' });
      expect(fresh.result?.verdicts.greylist).toEqual({
        result: 'whitelisted',
        reason: 'client auto-whitelisted after 5 passed retries',
      });
      // Another network is still greylisted.
      const other = await deliver(checks, { ...envelope, address: '198.51.101.1' }, body);
      expect(other.rcpt).toMatchObject({ action: 'defer' });
      expect(await checks.pruneGreylist()).toBe(0);
      nowMs += 36 * 86_400_000;
      expect(await checks.pruneGreylist()).toBeGreaterThanOrEqual(3);
    });

    it('does not check trusted clients (inboundChecks.trustedClients, or the relay networks the listener knows)', async () => {
      nowMs = start;
      const checks = checksWith({ ...greylistingOn, trustedClients: ['198.51.100.0/24', '2001:db8::/32'] });
      const body = message({ From: 'ceo@origin.test' });
      for (const address of ['198.51.100.7', '::ffff:198.51.100.8', '2001:db8::9']) {
        const { rcpt, result } = await deliver(checks, { address, sender: 'a@spf-fail.test' }, body);
        expect(rcpt).toEqual({ action: 'continue' });
        expect(result?.decision).toEqual({ action: 'accept' });
        expect(result?.verdicts.greylist).toEqual({ result: 'skipped', reason: 'trusted client' });
      }
      const session = checksWith(greylistingOn).onConnect({ address: '203.0.113.9' });
      await session.onMailFrom({
        helo: 'x.test',
        sender: 'a@spf-fail.test',
        authenticatedUser: null,
        isTrustedClient: true,
      });
      expect(await session.onRcptTo({ recipient: 'bob@mx.test' })).toEqual({ action: 'continue' });
      // Not trusted: greylisted.
      expect(
        (await deliver(checks, { address: '198.51.101.7', sender: 'a@spf-fail.test' }, body)).rcpt,
      ).toMatchObject({
        action: 'defer',
      });
    });

    it('skips greylisting for whitelisted senders and recipients', async () => {
      nowMs = start;
      const checks = checksWith({
        greylisting: {
          enabled: true,
          whitelistSenders: ['friends.test'],
          whitelistRecipients: ['postmaster@mx.test'],
        },
      });
      const body = message({ From: 'a@friends.test' });
      const bySender = await deliver(checks, { address: '203.0.113.40', sender: 'a@friends.test' }, body);
      expect(bySender.result?.verdicts.greylist).toEqual({
        result: 'whitelisted',
        reason: 'sender a@friends.test whitelisted',
      });
      const byRecipient = await deliver(
        checks,
        { address: '203.0.113.41', sender: 'b@else.test', recipient: 'postmaster@mx.test' },
        body,
      );
      expect(byRecipient.rcpt).toEqual({ action: 'continue' });
    });

    it('judges known-good domains after DATA: DKIM-aligned mail passes, unproven mail is deferred', async () => {
      nowMs = start;
      const checks = checksWith({ greylisting: { enabled: true, knownGoodDomains: ['sender.test'] } });
      const signed = signedBySender(message({ From: 'alice@sender.test' }));
      // From an address SPF does not allow: only the DKIM signature proves the domain.
      const proven = await deliver(checks, { address: '203.0.113.50', sender: 'alice@sender.test' }, signed);
      expect(proven.rcpt).toEqual({ action: 'continue' });
      expect(proven.result?.verdicts.greylist.result).toBe('whitelisted');
      expect(proven.result?.decision).toEqual({ action: 'accept' });

      const unsigned = message({ From: 'alice@sender.test' });
      const unproven = await deliver(
        checks,
        { address: '203.0.113.51', sender: 'alice@sender.test' },
        unsigned,
      );
      expect(unproven.rcpt).toEqual({ action: 'continue' });
      // DMARC fails too (p=reject), which wins over the deferral.
      expect(unproven.result?.decision).toMatchObject({ action: 'reject' });
      const lenient = checksWith({
        greylisting: { enabled: true, knownGoodDomains: ['sender.test'] },
        dmarc: { enforce: false },
      });
      const deferred = await deliver(
        lenient,
        { address: '203.0.113.52', sender: 'alice@sender.test' },
        unsigned,
      );
      expect(deferred.result?.decision).toMatchObject({
        action: 'defer',
        reply: { code: 451, enhanced: '4.7.1' },
      });
    });
  });

  describe('DNS lists (RFC 5782)', () => {
    const lists = {
      ...noGreylisting,
      dnsLists: { blockLists: [{ zone: 'bl.test' }], allowLists: [{ zone: 'wl.test' }] },
    };

    it('refuses a listed client with 554 5.7.1 naming the list and its reason', async () => {
      const checks = checksWith(lists);
      const { rcpt } = await deliver(checks, { address: '192.0.2.66', sender: 'a@sender.test' }, message({}));
      expect(rcpt).toEqual({
        action: 'reject',
        reply: {
          code: 554,
          enhanced: '5.7.1',
          text: 'Service unavailable; client [192.0.2.66] blocked using bl.test; listed: spam trap hit',
        },
      });
    });

    it('ignores the 127.255.255.x error answers, SERVFAIL and timeouts', async () => {
      const checks = checksWith(lists);
      const errorAnswer = await deliver(
        checks,
        { address: '192.0.2.67', sender: 'a@sender.test' },
        message({ From: 'a@sender.test' }),
      );
      expect(errorAnswer.rcpt).toEqual({ action: 'continue' });
      expect(errorAnswer.result?.verdicts.dnsLists.entries).toContainEqual(
        expect.objectContaining({ zone: 'bl.test', status: 'error', answers: ['127.255.255.254'] }),
      );
      expect(errorAnswer.result?.verdicts.dnsLists.result).toBe('pass');
      const servfail = await deliver(
        checks,
        { address: '192.0.2.69', sender: 'a@sender.test' },
        message({ From: 'a@sender.test' }),
      );
      expect(servfail.rcpt).toEqual({ action: 'continue' });

      // A list that never answers: the lookup hangs for its names only.
      const hanging: DnsLookup = (name, type) =>
        name.endsWith('.bl.test') ? new Promise(() => {}) : lookup(name, type);
      const slow = checksWith({ ...lists, dnsLists: { ...lists.dnsLists, timeout: 200 } }, hanging);
      const timedOut = await deliver(
        slow,
        { address: '192.0.2.66', sender: 'a@sender.test' },
        message({ From: 'a@sender.test' }),
      );
      expect(timedOut.rcpt).toEqual({ action: 'continue' });
      expect(timedOut.result?.verdicts.dnsLists.entries).toContainEqual(
        expect.objectContaining({ zone: 'bl.test', status: 'error', reason: 'ETIMEOUT' }),
      );
    });

    it('an allow-listed client skips greylisting; weights can outvote a single block list', async () => {
      nowMs = start;
      const checks = checksWith({ ...greylistingOn, dnsLists: lists.dnsLists });
      const allowed = await deliver(
        checks,
        { address: '192.0.2.68', sender: 'x@spf-none.test' },
        message({}),
      );
      expect(allowed.rcpt).toEqual({ action: 'continue' });
      expect(allowed.result?.verdicts.greylist).toEqual({
        result: 'whitelisted',
        reason: 'allowed by wl.test',
      });
      const weighted = checksWith({
        ...noGreylisting,
        dnsLists: { blockLists: [{ zone: 'bl.test', weight: 1 }], threshold: 2 },
      });
      const under = await deliver(
        weighted,
        { address: '192.0.2.66', sender: 'a@sender.test' },
        message({ From: 'a@sender.test' }),
      );
      expect(under.rcpt).toEqual({ action: 'continue' });
      expect(under.result?.verdicts.dnsLists).toMatchObject({ result: 'pass', score: 1 });
    });
  });

  it('never throws on malformed input: odd HELO, sender and client, headerless or binary messages', async () => {
    const checks = checksWith(noGreylisting);
    const messages = [
      Buffer.alloc(0),
      Buffer.from('no header at all'),
      Buffer.from([0, 255, 13, 10, 13, 10, 1, 2]),
      Buffer.from(
        'From: a@sender.test\r\nFrom: b@origin.test\r\nDKIM-Signature: v=1; a=rsa-sha256; d=x; bh=z; b=z\r\n\r\nx',
      ),
      Buffer.from('ARC-Seal: i=1; cv=pass\r\nFrom: <>\r\n\r\n'),
    ];
    const envelopes = [
      { address: 'not-an-address', helo: '[127.0.0.1]', sender: null },
      { address: '2001:db8::1', helo: 'bad helo!', sender: 'x@' },
      { address: client, helo: 'client.test', sender: '"odd local"@sender.test' },
    ];
    const actions = new Set<string>();
    for (const raw of messages)
      for (const envelope of envelopes)
        actions.add((await deliver(checks, envelope, raw)).result?.decision.action ?? 'none');
    expect([...actions]).toEqual(['accept']);
    // Two From addresses: DMARC cannot be evaluated (RFC 7489 §6.6.1).
    const twoFroms = await deliver(checks, { sender: 'a@sender.test' }, messages[3] as Buffer);
    expect(twoFroms.result?.verdicts.dmarc.result).toBe('permerror');
  });

  it('counts every verdict and decision in Prometheus', async () => {
    const text = await registry.metrics();
    expect(text).toMatch(/smtp_inbound_check_results_total\{check="dkim",result="pass"\} [1-9]/);
    expect(text).toMatch(/smtp_inbound_check_results_total\{check="arc",result="pass"\} [1-9]/);
    expect(text).toMatch(
      /smtp_inbound_decisions_total\{stage="rcpt",action="reject",reason="dns_lists"\} [1-9]/,
    );
    expect(text).toMatch(
      /smtp_inbound_decisions_total\{stage="rcpt",action="defer",reason="greylist"\} [1-9]/,
    );
    expect(text).toMatch(/smtp_inbound_decisions_total\{stage="data",action="reject",reason="dmarc"\} [1-9]/);
    // The verdicts are plain JSON for the API.
    const checks = checksWith(noGreylisting);
    const { result } = await deliver(
      checks,
      { sender: 'alice@sender.test' },
      signedBySender(message({ From: 'alice@sender.test' })),
    );
    expect(JSON.parse(JSON.stringify(result?.verdicts))).toEqual(result?.verdicts);
  });
});
