// The README's first example, verbatim between the markers: if this fails, fix the README too.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ServerSession } from '../src/index.js';

describe('README example', () => {
  it('runs a transaction through a ServerSession fed bytes', () => {
    const written: string[] = [];
    const log = (line: string) => written.push(line);
    // --- readme example start ---
    const session = new ServerSession({ hostname: 'mx.example' });
    const encoder = new TextEncoder();
    const decoder = new TextDecoder();

    session.greet(); // queues 220
    session.receive(
      encoder.encode(
        'EHLO client.example\r\nMAIL FROM:<a@client.example>\r\nRCPT TO:<nobody@mx.example>\r\n' +
          'RCPT TO:<b@mx.example>\r\nDATA\r\nHello\r\n..dot-stuffed line\r\n.\r\nQUIT\r\n',
      ),
    );
    const body: Uint8Array[] = [];
    for (let event = session.nextEvent(); event !== null; event = session.nextEvent()) {
      if (event.type === 'rcpt' && event.to !== 'Postmaster' && event.to.localPart === 'nobody')
        session.reject({ code: 550, enhanced: '5.1.1', text: 'No such user' });
      else if (event.type === 'message-chunk')
        body.push(event.bytes); // a view: keep it, no copy needed
      else if (event.type === 'message-end') session.accept({ text: 'Queued as 8F3A' });
      else if (session.pending !== null) session.accept(); // hello, mail, rcpt
    }
    log(decoder.decode(session.takeOutput() ?? new Uint8Array()));
    log(body.map((chunk) => decoder.decode(chunk)).join(''));
    // --- readme example end ---
    // RFC 5321 §4.2 / RFC 2034 §4: enhanced codes on 2xx/4xx/5xx, none on the 220, the EHLO reply or 354.
    expect(written[0]).toBe(
      [
        '220 mx.example ESMTP ready',
        '250-mx.example',
        '250-PIPELINING',
        '250-SIZE',
        '250-8BITMIME',
        '250-SMTPUTF8',
        '250-ENHANCEDSTATUSCODES',
        '250-CHUNKING',
        '250-BINARYMIME',
        '250-DSN',
        '250 VRFY',
        '250 2.1.0 Sender OK',
        '550 5.1.1 No such user',
        '250 2.1.5 Recipient OK',
        '354 End data with <CR><LF>.<CR><LF>',
        '250 2.0.0 Queued as 8F3A',
        '221 2.0.0 Bye',
        '',
      ].join('\r\n'),
    );
    // RFC 5321 §4.5.2: the leading dot is removed, the terminating "." is not part of the message.
    expect(written[1]).toBe('Hello\r\n.dot-stuffed line\r\n');
  });

  it('is the code shown in README.md', () => {
    const source = readFileSync(new URL(import.meta.url), 'utf8');
    const start = source.indexOf('// --- readme example start ---\n');
    const end = source.indexOf('    // --- readme example end ---');
    const example = source
      .slice(source.indexOf('\n', start) + 1, end)
      .split('\n')
      .map((line) => line.replace(/^ {4}/, ''))
      .join('\n');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme, 'README.md must show the example of test/readme-example.test.ts unchanged').toContain(
      example,
    );
  });
});
