import { readdirSync, readFileSync } from 'node:fs';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { SmtpProtocolError } from '../src/errors.js';
import { type ClientReplay, parseTranscript, replayClient, replayServer } from '../src/testing/index.js';

// Client half of the transcript tests (house guide §2.6): fixtures with an @client directive are replayed
// against ClientSession (feed the S lines, expect the C lines) whole, byte by byte and at fast-check split
// points of the server's bytes; the client's output and events must not change with the split.

const directory = new URL('./transcripts/', import.meta.url);

/**
 * Shared fixtures whose C lines are deliberately not what a correct client writes: they exercise the
 * server. The client scenarios they touch are covered by `clientFixtures` below instead.
 */
const serverOnly: Record<string, string> = {
  'auth-plain.smtp': 'AUTH twice, then MAIL with AUTH=<> and no RCPT',
  'bdat.smtp':
    'BDAT before the RCPT replies (RFC 3030 §2: the client collects them first), bare LF, DATA after BDAT',
  'binarymime.smtp': 'DATA with BODY=BINARYMIME (RFC 3030 §3 forbids it; the client throws instead)',
  'lmtp.smtp': 'EHLO to an LMTP server (an LMTP client says LHLO)',
  'pipelining.smtp':
    'a second transaction pipelined before the first one’s replies, RSET after a refused MAIL',
  'starttls.smtp': 'MAIL without RCPT, STARTTLS twice, MAIL before EHLO after TLS',
};

const files = readdirSync(directory)
  .filter((name) => name.endsWith('.smtp'))
  .sort()
  .filter(
    (name) => /^@client\b/m.test(readFileSync(new URL(name, directory), 'utf8')) && !(name in serverOnly),
  );

/** Client scenarios, each also replayed against ServerSession so both sides agree on every byte. */
const clientFixtures: Record<string, string> = {
  'client-bdat-pipelined': `
@server hostname=mx.example extensions=PIPELINING,CHUNKING,ENHANCEDSTATUSCODES
@client name=client.example
S: 220 mx.example ESMTP ready
C: EHLO client.example
S: 250-mx.example
S: 250-PIPELINING
S: 250-ENHANCEDSTATUSCODES
S: 250 CHUNKING
C: MAIL FROM:<a@client.example>
C: RCPT TO:<b@mx.example>
S: 250 2.1.0 Sender OK
S: 250 2.1.5 Recipient OK
C| BDAT 12\\r\\nSubject: x\\r\\n
C| BDAT 9\\r\\n\\r\\n.\\r\\nbody
C: BDAT 0 LAST
S: 250 2.0.0 Chunk received
S: 250 2.0.0 Chunk received
S: 250 2.0.0 Message accepted
C: MAIL FROM:<a@client.example>
C: RCPT TO:<b@mx.example>
S: 250 2.1.0 Sender OK
S: 250 2.1.5 Recipient OK
C| BDAT 7 LAST\\r\\nhello\\r\\n
C: QUIT
S: 250 2.0.0 Message accepted
S: 221 2.0.0 Bye
`,
  'client-lmtp': `
@server hostname=lmtp.example mode=lmtp extensions=PIPELINING,ENHANCEDSTATUSCODES
@client name=client.example
S: 220 lmtp.example LMTP ready
C: LHLO client.example
S: 250-lmtp.example
S: 250-PIPELINING
S: 250 ENHANCEDSTATUSCODES
C: MAIL FROM:<a@client.example>
C: RCPT TO:<b@lmtp.example>
C: RCPT TO:<x@lmtp.example>
H: reject 550 5.1.1 No such user
C: RCPT TO:<c@lmtp.example>
C: DATA
S: 250 2.1.0 Sender OK
S: 250 2.1.5 Recipient OK
S: 550 5.1.1 No such user
S: 250 2.1.5 Recipient OK
S: 354 End data with <CR><LF>.<CR><LF>
C: Subject: hi
C:
C: hello
C: .
H: accept-each 250 2.0.0 Delivered to b ; 452 4.2.2 Mailbox of c is full
S: 250 2.0.0 Delivered to b
S: 452 4.2.2 Mailbox of c is full
C: QUIT
S: 221 2.0.0 Bye
`,
  'client-starttls': `
@server hostname=mx.example extensions=PIPELINING,STARTTLS,REQUIRETLS,ENHANCEDSTATUSCODES
@client name=client.example
S: 220 mx.example ESMTP ready
C: EHLO client.example
S: 250-mx.example
S: 250-PIPELINING
S: 250-ENHANCEDSTATUSCODES
S: 250 STARTTLS
C: STARTTLS
S: 220 2.0.0 Ready to start TLS
== tls ==
C: EHLO client.example
S: 250-mx.example
S: 250-PIPELINING
S: 250-ENHANCEDSTATUSCODES
S: 250 REQUIRETLS
C: MAIL FROM:<a@client.example> REQUIRETLS
C: RCPT TO:<b@mx.example>
C: DATA
S: 250 2.1.0 Sender OK
S: 250 2.1.5 Recipient OK
S: 354 End data with <CR><LF>.<CR><LF>
C: ..dot
C: .
S: 250 2.0.0 Message accepted
`,
  'client-no-valid-recipients': `
# RFC 2920 §3.1: every RCPT refused but DATA accepted → a single dot; without PIPELINING no DATA, RSET.
@server hostname=mx.example extensions=PIPELINING,ENHANCEDSTATUSCODES
@client name=client.example
S: 220 mx.example ESMTP ready
C: EHLO client.example
S: 250-mx.example
S: 250-PIPELINING
S: 250 ENHANCEDSTATUSCODES
C: MAIL FROM:<a@client.example>
C: RCPT TO:<nobody@mx.example>
H: reject 550 5.1.1 No such user
C: DATA
S: 250 2.1.0 Sender OK
S: 550 5.1.1 No such user
S: 554 5.5.1 No valid recipients
C: RSET
S: 250 2.0.0 Reset OK
C: QUIT
S: 221 2.0.0 Bye
`,
  'client-no-pipelining': `
@server hostname=mx.example extensions=ENHANCEDSTATUSCODES
@client name=client.example
S: 220 mx.example ESMTP ready
C: EHLO client.example
S: 250-mx.example
S: 250 ENHANCEDSTATUSCODES
C: MAIL FROM:<>
S: 250 2.1.0 Sender OK
C: RCPT TO:<nobody@mx.example>
H: reject 550 5.1.1 No such user
S: 550 5.1.1 No such user
C: RSET
S: 250 2.0.0 Reset OK
C: MAIL FROM:<>
S: 250 2.1.0 Sender OK
C: RCPT TO:<Postmaster>
S: 250 2.1.5 Recipient OK
C: DATA
S: 354 End data with <CR><LF>.<CR><LF>
C: .
S: 250 2.0.0 Message accepted
C: QUIT
S: 221 2.0.0 Bye
`,
  'client-refused-greeting': `
# RFC 5321 §3.1: a 554 greeting; the client sends QUIT and waits for the reply.
@server hostname=mx.example greeting="554 No service here"
@client name=client.example
S: 554 mx.example No service here
C: QUIT
S: 221 2.0.0 Bye
`,
};

const summarize = (replay: ClientReplay): unknown => JSON.parse(JSON.stringify(replay.events));

function replayEverySplit(name: string, text: string): void {
  describe(name, () => {
    const transcript = parseTranscript(text);
    const whole = replayClient(transcript);

    it('replays whole', () => {
      expect(whole.actual).toBe(whole.expected);
      const errors = whole.events.flatMap((event) => (event.type === 'error' ? [event.error] : []));
      expect(errors.filter((error) => error instanceof SmtpProtocolError)).toEqual([]);
    });

    it('replays byte by byte', () => {
      const replay = replayClient(transcript, { chunkSizes: [1] });
      expect(replay.actual).toBe(replay.expected);
      expect(summarize(replay)).toEqual(summarize(whole));
    });

    test.prop([fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 })], { numRuns: 25 })(
      'replays at any split',
      (chunkSizes) => {
        const replay = replayClient(transcript, { chunkSizes });
        expect(replay.actual).toBe(replay.expected);
        expect(summarize(replay)).toEqual(summarize(whole));
      },
    );
  });
}

it('finds client fixtures', () => {
  expect(files.length).toBeGreaterThanOrEqual(5);
});

for (const file of files) replayEverySplit(file, readFileSync(new URL(file, directory), 'utf8'));

describe('client fixtures', () => {
  for (const [name, text] of Object.entries(clientFixtures)) {
    replayEverySplit(name, text);
    it(`${name}: the server agrees`, () => {
      const replay = replayServer(parseTranscript(text));
      expect(replay.actual).toBe(replay.expected);
    });
  }
});
