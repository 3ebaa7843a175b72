import { randomBytes } from 'node:crypto';
import { link, mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { AttemptRecord, LeasedDelivery } from '../../queue/delivery-queue.js';
import type { Clock } from '../clock.js';
import type { DeliveryTransport, RecipientAttempt } from './delivery-transport.js';

export interface MaildirTransportOptions {
  /** Maildirs live at <directory>/<domain>/<local part>/ with tmp/, new/ and cur/. */
  readonly directory: string;
  /** Our host name, the last part of each file name (Maildir's uniqueness rule). */
  readonly hostname: string;
  readonly clock: Clock;
  /** The mailbox a recipient is delivered to, or null when it has none (failed 5.1.1). */
  readonly mailboxOf: (recipient: string) => string | null;
}

/**
 * Local delivery into Maildirs (D. J. Bernstein's maildir(5), the format Dovecot and Courier read):
 * one file per recipient, written to tmp/, fsynced, linked into new/ (so a reader never sees a
 * partial message) and the new/ directory fsynced, so a crash after "delivered" loses nothing.
 * Return-Path (RFC 5321 §4.4: the final delivery adds it) and Delivered-To (the mailbox, which
 * lets a forward loop be seen) go in front of the message as spooled.
 */
export function createMaildirTransport(options: MaildirTransportOptions): DeliveryTransport {
  let sequence = 0;
  const host = options.hostname.replaceAll('/', '\\057').replaceAll(':', '\\072');
  const uniqueName = () => {
    const nowMs = options.clock.now();
    const seconds = Math.floor(nowMs / 1000);
    const micros = (nowMs % 1000) * 1000 + Math.floor(Math.random() * 1000);
    sequence += 1;
    // time.MusecPpidQdeliveriesRrandom.host: unique across processes, deliveries and restarts.
    return `${seconds}.M${micros}P${process.pid}Q${sequence}R${randomBytes(8).toString('hex')}.${host}`;
  };
  return {
    async send(job) {
      const recipients: RecipientAttempt[] = [];
      for (const delivery of job.deliveries) {
        const startedAt = options.clock.now();
        const attempt = await deliverOne(delivery, job.raw, uniqueName());
        recipients.push({
          deliveryId: delivery.id,
          attempt: { startedAt, endedAt: options.clock.now(), ...attempt },
        });
      }
      const isAnyDelivered = recipients.some(({ attempt }) => attempt.outcome === 'delivered');
      return { recipients, session: isAnyDelivered ? 'success' : 'other' };
    },
  };

  async function deliverOne(
    delivery: LeasedDelivery,
    raw: Uint8Array,
    name: string,
  ): Promise<Omit<AttemptRecord, 'startedAt' | 'endedAt'>> {
    const mailbox = options.mailboxOf(delivery.recipient);
    const maildir = mailbox === null ? null : maildirOf(options.directory, mailbox);
    // Maildir++ (Courier, Dovecot): a folder is a Maildir named .Name inside the mailbox's own.
    const folder = maildir === null || !isFlaggedAsSpam(raw) ? maildir : join(maildir, junkFolder);
    if (mailbox === null || folder === null)
      return {
        mxHost: 'maildir',
        tls: null,
        outcome: 'failed',
        status: '5.1.1',
        rule: 'permanent',
        reply: { code: 550, enhanced: '5.1.1', lines: [`<${delivery.recipient}>: no such mailbox here`] },
        error: null,
        transcript: '',
      };
    const header = `Return-Path: <${delivery.sender}>\r\nDelivered-To: ${mailbox}\r\n`;
    const temporary = join(folder, 'tmp', name);
    const final = join(folder, 'new', name);
    try {
      await Promise.all(
        ['tmp', 'new', 'cur'].map((sub) => mkdir(join(folder, sub), { recursive: true, mode: 0o700 })),
      );
      const file = await open(temporary, 'wx', 0o600);
      try {
        await file.writev([Buffer.from(header, 'utf8'), raw]);
        await file.sync();
      } finally {
        await file.close();
      }
      // link(), not rename(): it never replaces an existing file (maildir(5)).
      await link(temporary, final);
      await unlink(temporary);
      const directory = await open(join(folder, 'new'), 'r');
      try {
        await directory.sync();
      } finally {
        await directory.close();
      }
      return {
        mxHost: 'maildir',
        tls: null,
        outcome: 'delivered',
        status: '2.0.0',
        rule: 'accepted',
        reply: null,
        error: null,
        transcript: `delivered to ${final}`,
      };
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      const code = (error as NodeJS.ErrnoException).code;
      const isFull = code === 'ENOSPC' || code === 'EDQUOT';
      // A full or broken disk heals; the queue retries on its schedule and bounces at give-up.
      return {
        mxHost: 'maildir',
        tls: null,
        outcome: 'deferred',
        status: isFull ? '4.2.2' : '4.3.0',
        rule: isFull ? 'mailbox-full' : 'temporary',
        reply: null,
        error: `${final}: ${error instanceof Error ? error.message : String(error)}`,
        transcript: '',
      };
    }
  }
}

/** The Maildir++ folder quarantined mail goes to, as Dovecot and Thunderbird name it. */
export const junkFolder = '.Junk';

/**
 * The header section has `X-Spam-Flag: YES`: the mx listener's mark of DMARC p=quarantine, or an
 * earlier filter's (SpamAssassin's convention, which the usual Dovecot sieve rule files the same way).
 */
export function isFlaggedAsSpam(raw: Uint8Array): boolean {
  const text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const header = end < 0 ? text : text.slice(0, end + 2);
  return /^X-Spam-Flag:[ \t]*YES[ \t]*\r?$/im.test(header);
}

/** <directory>/<domain>/<local part>, or null for a name that could leave the directory. */
export function maildirOf(directory: string, mailbox: string): string | null {
  const at = mailbox.lastIndexOf('@');
  const localPart = mailbox.slice(0, at).toLowerCase();
  const domain = mailbox.slice(at + 1).toLowerCase();
  const isSafe = (part: string) => part.length > 0 && !part.startsWith('.') && !/[/\\\0]/.test(part);
  return at > 0 && isSafe(localPart) && isSafe(domain) ? join(directory, domain, localPart) : null;
}
