import { SmtpCapabilityError, SmtpReplyError } from '@smtp/protocol';
import { describe, expect, it } from 'vitest';
import { ClientRefusalError } from './client-refusal-error.js';
import { describeError } from './describe-error.js';
import { exitCodes } from './exit-codes.js';

describe('describeError: who refused', () => {
  it('gives a 5xx from the server exit 3 and names the server, the command and its reply', () => {
    const described = describeError(
      new SmtpReplyError(
        {
          code: 554,
          enhanced: '5.7.1',
          text: '<reject@plain.example>: Recipient address rejected: Access denied',
        },
        { command: 'RCPT TO:<reject@plain.example>' },
      ),
    );
    expect(described.exitCode).toBe(exitCodes.permanent);
    expect(described.refusal).toEqual({
      by: 'server',
      command: 'RCPT TO:<reject@plain.example>',
      reply: {
        code: 554,
        enhanced: '5.7.1',
        lines: ['<reject@plain.example>: Recipient address rejected: Access denied'],
      },
    });
  });

  it.each([
    ['SIZE', "The message (300000 bytes) exceeds the server's limit of 200000 bytes"],
    ['REQUIRETLS', 'The server does not offer REQUIRETLS (RFC 8689)'],
    ['SMTPUTF8', 'Internationalized addresses need the SMTPUTF8 extension (RFC 6531)'],
  ])('gives the client refusing by itself (%s) its own exit code, never 3', (extension, message) => {
    const described = describeError(new SmtpCapabilityError(extension, message));
    expect(described.exitCode).toBe(exitCodes.refusedByClient);
    expect(described.exitCode).not.toBe(exitCodes.permanent);
    expect(described.refusal).toEqual({ by: 'client', extension, reason: message });
    expect(described.message).toBe(`not sent, refused by smtp itself: ${message}`);
  });

  it('treats the CLI refusing AUTH without TLS as the client refusing, with the reason', () => {
    const described = describeError(
      new ClientRefusalError('AUTH', '127.0.0.1:25 offers no AUTH without TLS (try --starttls)'),
    );
    expect(described).toMatchObject({
      exitCode: exitCodes.refusedByClient,
      kind: 'capability',
      refusal: { by: 'client', extension: 'AUTH' },
    });
  });

  it('names nobody when the network failed', () => {
    expect(describeError(new Error('boom')).refusal).toBeNull();
  });
});
