import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporaryDirectory } from '../../../test/support/messages.js';
import type { LeasedDelivery } from '../../queue/delivery-queue.js';
import { createMaildirTransport, isFlaggedAsSpam, maildirOf } from './maildir-transport.js';

function delivery(id: number, recipient: string): LeasedDelivery {
  return {
    id,
    messageId: 'M1',
    sender: 'sender@remote.test',
    recipient,
    domain: recipient.slice(recipient.indexOf('@') + 1),
    notify: null,
    originalRecipient: null,
    arrivedAt: 0,
    state: { status: 'in-flight', attempts: 0, lease: { holder: 'test', fencing: 1, expiresAt: 1 } },
    lastReply: null,
    lastStatus: null,
    lease: { holder: 'test', fencing: 1, expiresAt: 1 },
  } as unknown as LeasedDelivery;
}

const raw = Buffer.from('Subject: hi\r\n\r\nbody\r\n');
const job = (deliveries: LeasedDelivery[]) => ({
  messageId: 'M1',
  domain: 'example.test',
  envelope: { from: 'sender@remote.test', to: [], mailParameters: {}, rcptParameters: [] },
  deliveries,
  raw,
});
const clock = { now: () => Date.UTC(2026, 11, 6), sleep: async () => undefined } as never;

describe('the Maildir transport', () => {
  it('writes one uniquely named file per recipient into new/, with Return-Path and Delivered-To', async () => {
    const directory = temporaryDirectory();
    const transport = createMaildirTransport({
      directory: directory.path,
      hostname: 'mx:local/test',
      clock,
      mailboxOf: (recipient) => (recipient.startsWith('nobody') ? null : recipient.replace(/\+[^@]*/, '')),
    });
    const result = await transport.send(
      job([
        delivery(1, 'alice@example.test'),
        delivery(2, 'alice+x@example.test'),
        delivery(3, 'nobody@example.test'),
      ]),
      new AbortController().signal,
    );
    expect(result.recipients.map(({ attempt }) => [attempt.outcome, attempt.status])).toEqual([
      ['delivered', '2.0.0'],
      ['delivered', '2.0.0'],
      ['failed', '5.1.1'],
    ]);
    const names = readdirSync(join(directory.path, 'example.test', 'alice', 'new'));
    expect(names).toHaveLength(2);
    // maildir(5): "/" and ":" of the host name are escaped; the names differ.
    for (const name of names) expect(name).toMatch(/^\d+\.M\d+P\d+Q\d+R[0-9a-f]{16}\.mx\\072local\\057test$/);
    const text = readFileSync(
      join(directory.path, 'example.test', 'alice', 'new', names[0] as string),
      'latin1',
    );
    expect(text).toBe(
      `Return-Path: <sender@remote.test>\r\nDelivered-To: alice@example.test\r\n${raw.toString('latin1')}`,
    );
    expect(readdirSync(join(directory.path, 'example.test', 'alice', 'tmp'))).toEqual([]);
    directory.remove();
  });

  it('files a message flagged X-Spam-Flag: YES into the .Junk Maildir++ folder, creating it', async () => {
    const directory = temporaryDirectory();
    const transport = createMaildirTransport({
      directory: directory.path,
      hostname: 'mx',
      clock,
      mailboxOf: (recipient) => recipient,
    });
    const flagged = Buffer.from('Received: by mx\r\nX-Spam-Flag: YES\r\nSubject: hi\r\n\r\nbody\r\n');
    const result = await transport.send(
      { ...job([delivery(1, 'alice@example.test')]), raw: flagged },
      new AbortController().signal,
    );
    expect(result.recipients[0]?.attempt.outcome).toBe('delivered');
    const junk = join(directory.path, 'example.test', 'alice', '.Junk');
    expect(readdirSync(join(junk, 'new'))).toHaveLength(1);
    expect(readdirSync(junk).sort()).toEqual(['cur', 'new', 'tmp']);
    expect(readdirSync(join(directory.path, 'example.test', 'alice')).sort()).toEqual(['.Junk']);
    directory.remove();
  });

  it('reads the spam flag from the header section only', () => {
    expect(isFlaggedAsSpam(Buffer.from('A: 1\r\nx-spam-flag:  yes\r\n\r\nbody\r\n'))).toBe(true);
    expect(isFlaggedAsSpam(Buffer.from('X-Spam-Flag: NO\r\n\r\nX-Spam-Flag: YES\r\n'))).toBe(false);
    expect(isFlaggedAsSpam(Buffer.from('Subject: X-Spam-Flag: YES\r\n\r\n'))).toBe(false);
  });

  it('defers (4.3.0) when the Maildir cannot be written, so the queue keeps the message', async () => {
    const directory = temporaryDirectory();
    writeFileSync(join(directory.path, 'example.test'), 'a file where the domain directory should be');
    const transport = createMaildirTransport({
      directory: directory.path,
      hostname: 'mx',
      clock,
      mailboxOf: (recipient) => recipient,
    });
    const result = await transport.send(
      job([delivery(1, 'alice@example.test')]),
      new AbortController().signal,
    );
    expect(result.recipients[0]?.attempt).toMatchObject({ outcome: 'deferred', status: '4.3.0' });
    directory.remove();
  });

  it('never leaves the directory: names with slashes or leading dots have no Maildir', () => {
    expect(maildirOf('/m', 'alice@example.test')).toBe('/m/example.test/alice');
    expect(maildirOf('/m', '../x@example.test')).toBeNull();
    expect(maildirOf('/m', 'a/b@example.test')).toBeNull();
    expect(maildirOf('/m', 'alice@..')).toBeNull();
  });
});
