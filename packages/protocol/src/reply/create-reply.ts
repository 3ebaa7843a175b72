import { SmtpUsageError } from '../errors.js';
import type { EnhancedStatus, Reply, ReplyInit } from './reply.js';

const enhancedPattern = /^([245])\.(\d{1,3})\.(\d{1,3})$/;

export function isEnhancedStatus(text: string): text is EnhancedStatus {
  return enhancedPattern.test(text);
}

/**
 * Builds a Reply from what a caller wrote, and refuses what can never be right on the wire: a code
 * outside 200..599, an enhanced status whose class differs from the code's (RFC 3463 §2), an enhanced
 * status on a 3xx reply (RFC 2034 §4), or CR in the text. Text containing LF becomes several lines.
 * These are our caller's mistakes, so they throw SmtpUsageError.
 */
export function createReply(init: ReplyInit): Reply {
  const { code, enhanced } = init;
  if (!Number.isInteger(code) || code < 200 || code > 599) {
    throw new SmtpUsageError(`Reply code must be an integer from 200 to 599, got ${code}`);
  }
  if (enhanced !== undefined) {
    const match = enhancedPattern.exec(enhanced);
    if (!match) throw new SmtpUsageError(`Not an enhanced status code: ${enhanced}`);
    if (code >= 300 && code < 400)
      throw new SmtpUsageError('3xx replies carry no enhanced status (RFC 2034 §4)');
    if (Number(match[1]) !== Math.floor(code / 100)) {
      throw new SmtpUsageError(`Enhanced status ${enhanced} does not match the class of reply code ${code}`);
    }
  }
  const texts = typeof init.text === 'string' ? [init.text] : init.text;
  const lines: string[] = [];
  for (const text of texts) {
    if (text.includes('\r')) throw new SmtpUsageError('Reply text must not contain CR');
    for (const line of text.split('\n')) lines.push(line);
  }
  if (lines.length === 0) lines.push('');
  return { code, enhanced: enhanced ?? null, lines };
}
