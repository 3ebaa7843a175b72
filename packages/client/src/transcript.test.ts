import { describe, expect, it } from 'vitest';
import { TranscriptRecorder } from './transcript.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('TranscriptRecorder', () => {
  it('writes C:/S: lines however the bytes are split', () => {
    const recorder = new TranscriptRecorder();
    recorder.server(bytes('220 mx.test ESMTP\r\n250-mx'));
    recorder.client(bytes('EHLO client.test\r\n'));
    recorder.server(bytes('.test\r\n250 PIPELINING\r\n'));
    expect(recorder.lines).toEqual([
      'S: 220 mx.test ESMTP',
      'C: EHLO client.test',
      'S: 250-mx.test',
      'S: 250 PIPELINING',
    ]);
  });

  it('masks AUTH initial responses and the lines that answer challenges', () => {
    const recorder = new TranscriptRecorder();
    recorder.client(bytes('AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n'));
    recorder.client(bytes('AUTH LOGIN\r\n'));
    recorder.client(bytes('YWxpY2U=\r\nczNjcmV0\r\n'));
    recorder.setMasking(false);
    recorder.client(bytes('MAIL FROM:<a@b.test>\r\n'));
    expect(recorder.lines).toEqual([
      'C: AUTH PLAIN ***',
      'C: AUTH LOGIN',
      'C: ***',
      'C: ***',
      'C: MAIL FROM:<a@b.test>',
    ]);
    expect(recorder.toString()).not.toContain('AGFsaWNlAHMzY3JldA');
  });

  it('summarises message data instead of copying it', () => {
    const recorder = new TranscriptRecorder();
    recorder.body(1000);
    recorder.body(24);
    recorder.bodyEnd();
    expect(recorder.lines).toEqual(['# 1024 bytes of message data']);
  });

  it('shows each BDAT command line and notes its octets instead of the data (RFC 3030 §2)', () => {
    const recorder = new TranscriptRecorder();
    const chunk = bytes('BDAT 9 LAST\r\nnot a command, data');
    // The first chunk's data looks like a BDAT line on purpose: it must be counted, not shown.
    recorder.bdat([bytes('BDAT 18\r\n'), chunk.subarray(0, 18)]);
    recorder.bdat([bytes('BDAT 1024 LAST\r\n'), new Uint8Array(1000), new Uint8Array(24)]);
    recorder.bodyEnd();
    recorder.client(bytes('QUIT\r\n'));
    expect(recorder.lines).toEqual([
      'C: BDAT 18',
      '# <18 octets>',
      'C: BDAT 1024 LAST',
      '# <1024 octets>',
      'C: QUIT',
    ]);
  });

  it('reads a BDAT line and its data from one part, and a chunk split across writes', () => {
    const recorder = new TranscriptRecorder();
    recorder.bdat([bytes('BDAT 5\r\nabc')]);
    recorder.bdat([bytes('deBDAT 0 LAST\r\n')]);
    recorder.bodyEnd();
    expect(recorder.lines).toEqual(['C: BDAT 5', '# <5 octets>', 'C: BDAT 0 LAST', '# <0 octets>']);
  });
});
