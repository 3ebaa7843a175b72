import { describe, expect, it } from 'vitest';
import type { Mailbox } from '../address/mailbox.js';
import type { RcptParameters } from '../command/command.js';
import type { Recipient } from '../server/server-events.js';
import { deliveredRecipients } from './delivered-recipients.js';

const mailbox = (localPart: string): Mailbox => ({
  localPart,
  domain: { kind: 'name', name: 'example.test' },
});
const recipient = (to: Recipient['to'], parameters: Partial<RcptParameters> = {}): Recipient => ({
  to,
  parameters: { unknown: [], ...parameters },
});
const ourDomain = { kind: 'name', name: 'mx.example.test' } as const;

describe('deliveredRecipients', () => {
  it('lists, in RCPT order, only the recipients whose NOTIFY holds SUCCESS, with their ORCPT', () => {
    const orcpt = { addressType: 'rfc822', address: 'Bob@Example.test' };
    const recipients = [
      recipient(mailbox('alice'), { notify: ['SUCCESS'] }),
      recipient(mailbox('bob'), { notify: ['FAILURE', 'SUCCESS'], orcpt }),
      recipient(mailbox('carol'), { notify: ['FAILURE', 'DELAY'] }),
      recipient(mailbox('dave'), { notify: 'NEVER' }),
      recipient(mailbox('erin')),
    ];
    expect(deliveredRecipients(mailbox('sender'), recipients, ourDomain)).toEqual([
      { finalRecipient: mailbox('alice'), action: 'delivered', status: '2.0.0' },
      { finalRecipient: mailbox('bob'), originalRecipient: orcpt, action: 'delivered', status: '2.0.0' },
    ]);
  });

  it('owes nothing to the null reverse-path <>', () => {
    expect(
      deliveredRecipients(null, [recipient(mailbox('alice'), { notify: ['SUCCESS'] })], ourDomain),
    ).toEqual([]);
  });

  it('names RCPT TO:<Postmaster> as postmaster at our domain', () => {
    const [report] = deliveredRecipients(
      mailbox('sender'),
      [recipient('Postmaster', { notify: ['SUCCESS'] })],
      ourDomain,
    );
    expect(report?.finalRecipient).toEqual({ localPart: 'postmaster', domain: ourDomain });
  });
});
