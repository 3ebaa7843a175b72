import picocolors from 'picocolors';
import { describe, expect, it } from 'vitest';
import { TranscriptPrinter } from './transcript-printer.js';

describe('TranscriptPrinter', () => {
  it('masks every client line from AUTH to the first non-334 reply, even if the source did not', () => {
    const printed: string[] = [];
    const printer = new TranscriptPrinter(picocolors.createColors(false), (line) => printed.push(line));
    for (const line of [
      'C: AUTH PLAIN AGFsaWNlAHMzY3JldA==',
      'S: 235 2.7.0 OK',
      'C: AUTH LOGIN',
      'S: 334 VXNlcm5hbWU6',
      'C: YWxpY2U=',
      'S: 334 UGFzc3dvcmQ6',
      'C: czNjcmV0',
      'S: 235 2.7.0 OK',
      'C: MAIL FROM:<a@b.example>',
    ]) {
      printer.print(line);
    }
    expect(printed).toEqual([
      'C: AUTH PLAIN ***',
      'S: 235 2.7.0 OK',
      'C: AUTH LOGIN',
      'S: 334 VXNlcm5hbWU6',
      'C: ***',
      'S: 334 UGFzc3dvcmQ6',
      'C: ***',
      'S: 235 2.7.0 OK',
      'C: MAIL FROM:<a@b.example>',
    ]);
  });

  it('colours by side when colours are on', () => {
    const printer = new TranscriptPrinter(picocolors.createColors(true), () => {});
    expect(printer.format('C: EHLO x')).toContain('\u001b[');
    expect(picocolors.createColors(false).cyan('x')).toBe('x');
  });
});
