import { describe, expect, it } from 'vitest';
import { describeRcptParameters, parseRcptParameters } from '../src/index.js';

const strict = { mode: 'strict', smtpUtf8: true } as const;

function parsed(text: string) {
  const result = parseRcptParameters(text, strict);
  if (!result.ok) throw new Error(`did not parse: ${text}`);
  return result.value;
}

describe('describeRcptParameters', () => {
  it('lists nothing for a RCPT without parameters', () => {
    expect(describeRcptParameters(parsed(''))).toEqual([]);
  });

  it('gives NOTIFY and ORCPT in wire order with the xtext decoded (RFC 3461 §4.2)', () => {
    expect(describeRcptParameters(parsed('ORCPT=rfc822;bob+2Bx@example.com NOTIFY=SUCCESS,FAILURE'))).toEqual(
      [
        ['NOTIFY', 'SUCCESS,FAILURE'],
        ['ORCPT', 'rfc822;bob+x@example.com'],
      ],
    );
  });

  it('gives NOTIFY=NEVER as written', () => {
    expect(describeRcptParameters(parsed('NOTIFY=NEVER'))).toEqual([['NOTIFY', 'NEVER']]);
  });

  it('decodes a utf-8 ORCPT (RFC 6533 §3)', () => {
    expect(describeRcptParameters(parsed('ORCPT=utf-8;j\\x{F6}rg@example.com'))).toEqual([
      ['ORCPT', 'utf-8;jörg@example.com'],
    ]);
  });

  it('keeps unknown parameters after the known ones, a flag with an empty value', () => {
    expect(describeRcptParameters(parsed('X-TRACE=abc NOTIFY=DELAY X-FLAG'))).toEqual([
      ['NOTIFY', 'DELAY'],
      ['X-TRACE', 'abc'],
      ['X-FLAG', ''],
    ]);
  });
});
