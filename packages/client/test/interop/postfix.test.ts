import { SmtpCapabilityError, SmtpReplyError } from '@smtp/protocol';
import {
  createTestCertificates,
  type PostfixInstance,
  startPostfix,
  type TestCertificates,
} from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/index.js';

// Postfix 3.7's smtpd (Debian's package, a private instance from @smtp/test-support) as the final
// destination for mx.example: what @smtp/client sends must land in Postfix's Maildir line for line.
describe('@smtp/client → Postfix smtpd', () => {
  let certificates: TestCertificates;
  let postfix: PostfixInstance;

  beforeAll(async () => {
    certificates = createTestCertificates({ ca: true });
    postfix = await startPostfix({
      certificates,
      mailboxDomains: ['mx.example'],
      messageSizeLimit: 100_000,
      rejectRecipients: ['reject@mx.example'],
      // Postfix's smuggling defence (3.7.10+): a line ended by a bare LF drops the session.
      settings: { smtpd_forbid_bare_newline: 'yes' },
    });
  });
  afterAll(async () => {
    await postfix?.stop();
  });

  /** One session: STARTTLS verified against the test CA, then `work`; returns the transcript. */
  async function session<T>(
    work: (opened: Awaited<ReturnType<typeof connect>>) => Promise<T>,
  ): Promise<{ value: T; transcript: string[] }> {
    const transcript: string[] = [];
    const opened = await connect({
      host: 'localhost',
      port: postfix.port,
      tls: { ca: certificates.caPem },
      onTranscriptLine: (line) => transcript.push(line),
    });
    try {
      await opened.ehlo();
      await opened.starttls();
      const value = await work(opened);
      await opened.quit();
      return { value, transcript };
    } catch (error) {
      opened.close();
      throw error;
    }
  }

  /**
   * Delivered = Postfix's fields (Return-Path, X-Original-To, Delivered-To, Received) + exactly what was sent,
   * line for line: Postfix queues lines, not line ends, and its Maildir files end lines with LF.
   */
  function expectTraceThenExactly(stored: Buffer, sent: Buffer): void {
    const sentLines = Buffer.from(sent.toString('latin1').replaceAll('\r\n', '\n'), 'latin1');
    expect(stored.subarray(stored.length - sentLines.length).equals(sentLines)).toBe(true);
    const trace = stored.subarray(0, stored.length - sentLines.length).toString('utf8');
    const fields = trace.split(/\n(?![ \t])/).filter((field) => field !== '');
    expect(fields.map((field) => field.slice(0, field.indexOf(':')))).toEqual([
      'Return-Path',
      'X-Original-To',
      'Delivered-To',
      'Received',
    ]);
  }

  it('sends 8-bit and SMTPUTF8 over verified STARTTLS with BDAT, stored line for line', async () => {
    const content = Buffer.from(
      'From: a@origin.example\r\nTo: jürgen@mx.example\r\nSubject: Grüße\r\n\r\nÜnïcødé body\r\n.leading dot\r\n',
      'utf8',
    );
    const { value: result, transcript } = await session((opened) =>
      opened.data({ from: 'a@origin.example', to: 'jürgen@mx.example', message: content }),
    );
    expect(result.reply.code).toBe(250);
    expect(transcript).toContain('== tls ==');
    expect(transcript).toContainEqual(expect.stringMatching(/^C: MAIL FROM:<a@origin\.example> .*SMTPUTF8/));
    expect(transcript).toContainEqual(expect.stringMatching(/^C: BDAT \d+ LAST$/));
    await postfix.waitForDeliveries(1, (item) => item.to === 'jürgen@mx.example' && item.status === 'sent');
    const [stored] = postfix.mailbox('jürgen@mx.example');
    expect(stored).toBeDefined();
    expectTraceThenExactly(stored as Buffer, content);
    expect(postfix.log()).toMatch(/TLS connection established from unknown\[127\.0\.0\.1\]: TLSv1\.3 /);
  });

  it('sends bare LF and CR as CRLF over BDAT, which Postfix accepts with smtpd_forbid_bare_newline', async () => {
    const content = Buffer.from('Subject: bare\n\nline one\nline two\rline three\r\n');
    const { value: result, transcript } = await session((opened) =>
      opened.data({ from: 'a@origin.example', to: 'bare@mx.example', message: content }),
    );
    expect(result.reply.code).toBe(250);
    expect(transcript).toContainEqual(expect.stringMatching(/^C: BDAT \d+ LAST$/));
    await postfix.waitForDeliveries(1, (item) => item.to === 'bare@mx.example' && item.status === 'sent');
    const [stored] = postfix.mailbox('bare@mx.example');
    expectTraceThenExactly(
      stored as Buffer,
      Buffer.from('Subject: bare\r\n\r\nline one\r\nline two\r\nline three\r\n'),
    );
  });

  it('refuses by itself a message over the SIZE Postfix announces, before MAIL', async () => {
    const big = Buffer.from(`Subject: big\r\n\r\n${'x'.repeat(120_000)}\r\n`);
    const failure = await session((opened) =>
      opened.data({ from: 'a@origin.example', to: 'big@mx.example', message: big }),
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SmtpCapabilityError);
    expect((failure as SmtpCapabilityError).capability).toBe('SIZE');
    expect(postfix.log()).not.toContain('big@mx.example');
  });

  it("gets Postfix's own 552 when a streamed message of unknown size turns out too large", async () => {
    // A stream longer than the peek: its size is unknown before MAIL, so only Postfix can refuse it.
    async function* chunks() {
      yield 'Subject: streamed\r\n\r\n';
      for (let index = 0; index < 100; index++) yield `${'z'.repeat(1000)}\r\n`;
    }
    const failure = await session((opened) =>
      opened.data({ from: 'a@origin.example', to: 'streamed@mx.example', message: chunks() }),
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SmtpReplyError);
    expect((failure as SmtpReplyError).reply).toMatchObject({ code: 552, enhanced: '5.3.4' });
    expect(postfix.mailbox('streamed@mx.example')).toEqual([]);
  });

  it('reports the recipient Postfix rejects and delivers to the other', async () => {
    const content = Buffer.from('Subject: half\r\n\r\nhalf of it\r\n');
    const { value: result } = await session((opened) =>
      opened.data({ from: 'a@origin.example', to: ['reject@mx.example', 'ok@mx.example'], message: content }),
    );
    expect(result.rejected).toEqual([
      expect.objectContaining({
        to: 'reject@mx.example',
        reply: expect.objectContaining({ code: 554, enhanced: '5.7.1' }),
      }),
    ]);
    expect(result.accepted.map((item) => item.to)).toEqual(['ok@mx.example']);
    await postfix.waitForDeliveries(1, (item) => item.to === 'ok@mx.example' && item.status === 'sent');
    const [stored] = postfix.mailbox('ok@mx.example');
    expectTraceThenExactly(stored as Buffer, content);
    expect(postfix.mailbox('reject@mx.example')).toEqual([]);
  });
});
