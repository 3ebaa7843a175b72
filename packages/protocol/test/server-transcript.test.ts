import { describe, expect, it } from 'vitest';
import { parseTranscript, replayServer } from '../src/testing/index.js';

describe('parseTranscript', () => {
  it('reads every line kind', () => {
    const transcript = parseTranscript(
      [
        '# comment',
        '@server hostname=mx.example extensions=PIPELINING greeting="554 go away"',
        '@random server 00ff',
        '@random 0102',
        'S: 220 hi',
        'C: EHLO x',
        'C:',
        'C| a\\r\\n\\0\\x7f\\\\',
        'H: reject 550 5.1.1 No such user',
        'H: accept',
        'H: secret pencil iterations=64',
        'H: accept-each 250 ok ; 452 4.2.2 full',
        '== tls ==',
        '',
      ].join('\r\n'),
    );
    expect([...transcript.server]).toEqual([
      ['hostname', 'mx.example'],
      ['extensions', 'PIPELINING'],
      ['greeting', '554 go away'],
    ]);
    expect(transcript.random.server).toEqual(Uint8Array.from([1, 2]));
    expect(transcript.random.client).toEqual(Uint8Array.from([1, 2]));
    const [server, ehlo, empty, raw, reject, accept, secret, each, tls] = transcript.steps;
    expect(server).toEqual({ kind: 'server', text: '220 hi', lineNumber: 5 });
    expect(ehlo).toMatchObject({ kind: 'client', bytes: new TextEncoder().encode('EHLO x\r\n'), raw: false });
    expect(empty).toMatchObject({ kind: 'client', bytes: Uint8Array.from([13, 10]) });
    expect(raw).toMatchObject({
      kind: 'client',
      raw: true,
      bytes: Uint8Array.from([0x61, 13, 10, 0, 0x7f, 0x5c]),
    });
    expect(reject).toMatchObject({
      decision: { type: 'reject', reply: { code: 550, enhanced: '5.1.1', text: 'No such user' } },
    });
    expect(accept).toMatchObject({ decision: { type: 'accept', text: null } });
    expect(secret).toMatchObject({
      decision: { type: 'secret', password: 'pencil', salt: null, iterations: 64 },
    });
    expect(each).toMatchObject({
      decision: {
        type: 'accept-each',
        replies: [
          { code: 250, text: 'ok' },
          { code: 452, enhanced: '4.2.2', text: 'full' },
        ],
      },
    });
    expect(tls).toEqual({ kind: 'tls', lineNumber: 13 });
  });

  it('names the line of a mistake', () => {
    expect(() => parseTranscript('S: 220 ok\nX: what')).toThrow(/line 2/);
    expect(() => parseTranscript('C| bad \\q escape')).toThrow(/escape/);
    expect(() => parseTranscript('H: maybe')).toThrow(/decision/);
    expect(() => parseTranscript('@random abc')).toThrow(/hex/);
  });
});

describe('replayServer', () => {
  const good = [
    '@server hostname=mx.example extensions=',
    'S: 220 mx.example ESMTP ready',
    'C: NOOP',
    'S: 250 OK',
  ];

  it('matches a correct transcript', () => {
    const replay = replayServer(parseTranscript(good.join('\n')));
    expect(replay.actual).toBe(replay.expected);
  });

  it('shows a wrong or misplaced server line', () => {
    const wrong = replayServer(parseTranscript([...good.slice(0, 3), 'S: 250 2.0.0 OK'].join('\n')));
    expect(wrong.actual).not.toBe(wrong.expected);
    const early = replayServer(parseTranscript([good[0], good[1], good[3], good[2]].join('\n')));
    expect(early.actual).not.toBe(early.expected);
    const split = replayServer(parseTranscript([...good, 'C: NOOP'].join('\n')), { chunkSizes: [1] });
    expect(split.actual).not.toBe(split.expected);
  });

  it('applies H decisions to the event of the C line above them, at any split', () => {
    const text = [
      '@server hostname=mx.example extensions=PIPELINING',
      'S: 220 mx.example ESMTP ready',
      'C: EHLO c.example',
      'C: MAIL FROM:<a@c.example>',
      'C: RCPT TO:<b@mx.example>',
      'H: reject 550 No',
      'C: RCPT TO:<c@mx.example>',
      'S: 250-mx.example',
      'S: 250 PIPELINING',
      'S: 250 Sender OK',
      'S: 550 No',
      'S: 250 Recipient OK',
    ].join('\n');
    for (const chunkSizes of [undefined, [1], [7, 3], [1000]]) {
      const replay = replayServer(parseTranscript(text), chunkSizes ? { chunkSizes } : {});
      expect(replay.actual).toBe(replay.expected);
    }
  });
});
