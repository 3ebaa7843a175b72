import { PassThrough } from 'node:stream';
import { MessageAbortedError, SmtpReplyError } from '@smtp/server';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { AppMetrics } from '../observability/metrics.js';
import { storageFailure } from './storage-failure.js';

/** Metrics without a mailbox behind them: these tests never scrape the mailbox gauges. */
function newMetrics(): AppMetrics {
  return new AppMetrics({
    stats: () => Promise.resolve({ messageCount: 0, unreadCount: 0, rawBytes: 0, diskBytes: 0 }),
  });
}

async function rejectsBy(metrics: AppMetrics): Promise<Record<string, number>> {
  const metric = await metrics.rejects.get();
  return Object.fromEntries(metric.values.map((value) => [String(value.labels.reason), value.value]));
}

describe('storageFailure', () => {
  it('turns a failed write into a temporary 451 4.3.0 (the client keeps the message) and logs it', async () => {
    const metrics = newMetrics();
    const logged: string[] = [];
    const output = new PassThrough();
    output.on('data', (line: Buffer) => logged.push(line.toString()));
    const error = storageFailure(new Error('disk full'), {
      metrics,
      logger: createLogger('error', output),
      id: 'M1',
    });
    expect(error).toBeInstanceOf(SmtpReplyError);
    expect((error as SmtpReplyError).reply).toMatchObject({ code: 451, enhanced: '4.3.0' });
    expect(await rejectsBy(metrics)).toEqual({ storage: 1 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(logged.join('')).toMatch(
      /"id":"M1".*could not store the message|could not store the message.*"id":"M1"/,
    );
  });

  it('keeps a policy refusal and an aborted message as they are, counted by reason', async () => {
    const metrics = newMetrics();
    const context = { metrics, logger: createLogger('silent'), id: 'M2' };
    const refusal = new SmtpReplyError({ code: 550, enhanced: '5.7.1', text: 'No' });
    expect(storageFailure(refusal, context)).toBe(refusal);
    const aborted = new MessageAbortedError('too-large');
    expect(storageFailure(aborted, context)).toBe(aborted);
    expect(await rejectsBy(metrics)).toEqual({ policy: 1, 'too-large': 1 });
  });
});
