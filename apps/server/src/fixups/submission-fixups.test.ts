import { describe, expect, it } from 'vitest';
import { applySubmissionFixups, type SubmissionFixupOptions } from './submission-fixups.js';

const options: SubmissionFixupOptions = {
  receivedHeader:
    'Received: from client.test ([192.0.2.1])\r\n\tby mx.test with ESMTPSA id X1;\r\n\tSun, 06 Dec 2026 09:00:00 +0000\r\n',
  date: 'Sun, 06 Dec 2026 09:00:00 +0000',
  messageId: '<X1@mx.test>',
};
const received = options.receivedHeader;
const addedDate = `Date: ${options.date}\r\n`;
const addedId = `Message-ID: ${options.messageId}\r\n`;

async function run(
  chunks: readonly (string | Uint8Array)[],
  overrides: Partial<SubmissionFixupOptions> = {},
) {
  const encoded = chunks.map((chunk) => (typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk));
  const output: Uint8Array[] = [];
  for await (const piece of applySubmissionFixups(encoded, { ...options, ...overrides })) output.push(piece);
  return Buffer.concat(output).toString('latin1');
}

/** The same message cut at every byte: the output must not depend on where chunks end. */
async function expectSplitIndependent(message: string, expected: string): Promise<void> {
  expect(await run([message])).toBe(expected);
  for (let cut = 0; cut <= message.length; cut += 1) {
    expect(await run([message.slice(0, cut), message.slice(cut)])).toBe(expected);
  }
  expect(await run([...message])).toBe(expected);
}

describe('applySubmissionFixups (RFC 6409 §8)', () => {
  it('adds Date and Message-ID after the last header line, prepends Received, keeps the rest byte-exact', async () => {
    const header = 'From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n';
    const body = '\r\nbody line\r\nDate: not a header, in the body\r\n\r\nend\r\n';
    await expectSplitIndependent(header + body, received + header + addedDate + addedId + body);
  });

  it('keeps existing Date and Message-ID, whatever their case and spacing', async () => {
    const header =
      'DATE: Sat, 05 Dec 2026 10:00:00 +0100\r\nmessage-id :<given@client.test>\r\nSubject: x\r\n';
    const message = `${header}\r\nbody\r\n`;
    await expectSplitIndependent(message, received + message);
  });

  it('adds only what is missing', async () => {
    expect(await run(['Date: Sat, 05 Dec 2026 10:00:00 +0100\r\n\r\nb\r\n'])).toBe(
      `${received}Date: Sat, 05 Dec 2026 10:00:00 +0100\r\n${addedId}\r\nb\r\n`,
    );
    expect(await run(['Message-Id: <m@c.test>\r\n\r\nb\r\n'])).toBe(
      `${received}Message-Id: <m@c.test>\r\n${addedDate}\r\nb\r\n`,
    );
  });

  it('does not take a folded continuation line for a field', async () => {
    const header = 'Subject: about the\r\n Date: field\r\n';
    await expectSplitIndependent(`${header}\r\nb\r\n`, `${received}${header}${addedDate}${addedId}\r\nb\r\n`);
  });

  it('handles a message without header fields (starts with the blank line)', async () => {
    await expectSplitIndependent('\r\nonly body\r\n', `${received}${addedDate}${addedId}\r\nonly body\r\n`);
  });

  it('handles a header-only message, with and without its last CRLF', async () => {
    await expectSplitIndependent('Subject: x\r\n', `${received}Subject: x\r\n${addedDate}${addedId}`);
    expect(await run(['Subject: x'])).toBe(`${received}Subject: x\r\n${addedDate}${addedId}`);
    expect(await run([])).toBe(`${received}${addedDate}${addedId}`);
  });

  it('passes 8-bit bytes through unchanged', async () => {
    const header = Buffer.from('Subject: caf\xc3\xa9 \xff\r\n', 'latin1');
    const body = Buffer.from('\r\n\x00\x80\xfe body\r\n', 'latin1');
    const output = await run([header, body]);
    expect(output).toBe(
      `${received}${header.toString('latin1')}${addedDate}${addedId}${body.toString('latin1')}`,
    );
  });

  it('lets a header block beyond maxHeaderBytes through without the check', async () => {
    const header = `X-Long: ${'a'.repeat(100)}\r\n`;
    const message = `${header}\r\nbody\r\n`;
    expect(await run([header, '\r\nbody\r\n'], { maxHeaderBytes: 50 })).toBe(received + message);
  });

  it('streams: the body is not held once the header block ended', async () => {
    const source = (async function* () {
      yield Buffer.from('Subject: s\r\n\r\nfirst');
      yield Buffer.from(' second');
    })();
    const iterator = applySubmissionFixups(source, options)[Symbol.asyncIterator]();
    const pieces: string[] = [];
    for (let step = 0; step < 4; step += 1) {
      const next = await iterator.next();
      pieces.push(Buffer.from(next.value ?? []).toString());
    }
    // Received, the header, the added fields and the body so far: all out before the next chunk is read.
    expect(pieces.join('')).toBe(`${received}Subject: s\r\n${addedDate}${addedId}\r\nfirst`);
  });

  it('shows the unfolded header fields to onHeader, and a throw there ends the stream', async () => {
    const seen: (readonly string[])[] = [];
    const header =
      'From: "Alice"\r\n <alice@example.com>\r\nTo: b@example.com\r\nfrom: second@example.com\r\n';
    const output = await run([`${header}\r\nbody\r\n`], {
      onHeader: (fields) => {
        seen.push(fields.values('FROM'), fields.values('to'), fields.values('cc'));
      },
    });
    expect(seen).toEqual([['"Alice" <alice@example.com>', 'second@example.com'], ['b@example.com'], []]);
    expect(output).toBe(`${received}${header}${addedDate}${addedId}\r\nbody\r\n`);
    const refusing = run(['From: x@example.com\r\n\r\nbody\r\n'], {
      onHeader: () => {
        throw new Error('not yours');
      },
    });
    await expect(refusing).rejects.toThrow('not yours');
  });

  it('passes a source error through', async () => {
    const source = (async function* () {
      yield Buffer.from('Subject: s\r\n');
      throw new Error('message aborted');
    })();
    const drain = async () => {
      for await (const _piece of applySubmissionFixups(source, options)) {
        // the error surfaces here
      }
    };
    await expect(drain()).rejects.toThrow('message aborted');
  });
});
