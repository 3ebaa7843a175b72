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
});
