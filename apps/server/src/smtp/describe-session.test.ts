import { parseMailParameters } from '@smtp/protocol';
import type { SessionEnvelope } from '@smtp/server';
import { describe, expect, it } from 'vitest';
import { describeEnvelope } from './describe-session.js';

const strict = { mode: 'strict', smtpUtf8: false } as const;

function envelopeWith(parameters: string): SessionEnvelope {
  const parsed = parseMailParameters(parameters, strict);
  if (!parsed.ok) throw new Error(`test parameters must parse: ${parameters}`);
  return {
    from: { localPart: 'a', domain: { kind: 'name', name: 'client.test' } },
    parameters: parsed.value,
    recipients: [
      { to: { localPart: 'b', domain: { kind: 'name', name: 'mx.test' } }, parameters: { unknown: [] } },
    ],
  } as unknown as SessionEnvelope;
}

describe('describeEnvelope', () => {
  it('keeps every MAIL parameter the core types, decoded, and the unknown ones as sent', () => {
    const described = describeEnvelope(
      envelopeWith(
        'SIZE=10 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=a+2Bb AUTH=<> BY=120;R REQUIRETLS MT-PRIORITY=-3 X-TAG=blue',
      ),
    );
    expect(described.from).toBe('a@client.test');
    expect(described.to).toEqual(['b@mx.test']);
    expect(described.mailParameters).toEqual({
      SIZE: '10',
      BODY: '8BITMIME',
      SMTPUTF8: '',
      RET: 'HDRS',
      ENVID: 'a+b',
      AUTH: '<>',
      BY: '120;R',
      REQUIRETLS: '',
      'MT-PRIORITY': '-3',
      'X-TAG': 'blue',
    });
  });

  it('is empty without an envelope', () => {
    expect(describeEnvelope(null)).toEqual({ from: '', to: [], mailParameters: {}, rcptParameters: [] });
  });
});
