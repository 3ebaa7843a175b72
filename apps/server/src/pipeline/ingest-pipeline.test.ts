import { SmtpReplyError } from '@smtp/protocol';
import { describe, expect, it } from 'vitest';
import { IngestPipeline, type IngestStage } from './ingest-pipeline.js';

const input = {
  id: 'X1',
  receivedAtMs: 0,
  envelope: { from: 'a@example.com', to: ['b@example.com'], mailParameters: {}, rcptParameters: [{}] },
  session: null,
  source: [new TextEncoder().encode('Subject: x\r\n\r\nbody\r\n')],
};

const recording = (name: string, log: string[]): IngestStage => ({
  name,
  async run() {
    log.push(name);
  },
});

describe('IngestPipeline', () => {
  it('runs stages in order and lets later modes insert stages by name', async () => {
    const log: string[] = [];
    const pipeline = new IngestPipeline([
      recording('receive', log),
      recording('store', log),
      recording('notify', log),
    ]);
    const extended = pipeline.withStage(recording('dkim', log), 'store').withStage(recording('relay', log));
    expect(extended.stageNames).toEqual(['receive', 'dkim', 'store', 'notify', 'relay']);
    expect(pipeline.stageNames).toEqual(['receive', 'store', 'notify']); // unchanged
    await extended.run(input);
    expect(log).toEqual(['receive', 'dkim', 'store', 'notify', 'relay']);
  });

  it('stops at a stage that rejects, before later stages run', async () => {
    const log: string[] = [];
    const reject: IngestStage = {
      name: 'policy',
      async run() {
        throw new SmtpReplyError({ code: 550, enhanced: '5.7.1', text: 'No thanks' });
      },
    };
    const pipeline = new IngestPipeline([recording('receive', log), reject, recording('store', log)]);
    await expect(pipeline.run(input)).rejects.toMatchObject({ code: 550 });
    expect(log).toEqual(['receive']);
  });
});

describe('IngestPipeline with a reply point', () => {
  it('resolves accept() after the reply stage and runs the rest in the background', async () => {
    const log: string[] = [];
    let releaseParse = () => {};
    const slowParse: IngestStage = {
      name: 'parse',
      run: () =>
        new Promise<void>((resolve) => {
          releaseParse = () => {
            log.push('parse');
            resolve();
          };
        }),
    };
    const pipeline = new IngestPipeline([recording('store', log), slowParse, recording('notify', log)], {
      replyAfter: 'store',
    });
    await pipeline.accept(input);
    expect(log).toEqual(['store']);
    expect(pipeline.pendingCount).toBe(1);
    expect(await pipeline.settled({ id: 'X1', timeoutMs: 20 })).toBe(false);
    releaseParse();
    expect(await pipeline.settled({ timeoutMs: 1000 })).toBe(true);
    expect(log).toEqual(['store', 'parse', 'notify']);
    expect(pipeline.pendingCount).toBe(0);
  });

  it('reports a failing background stage without failing the accepted message', async () => {
    const errors: unknown[] = [];
    const failing: IngestStage = {
      name: 'parse',
      run() {
        throw new Error('boom'); // even a synchronous throw must not leave the message pending
      },
    };
    const pipeline = new IngestPipeline([recording('store', []), failing], {
      replyAfter: 'store',
      onBackgroundError: (error) => errors.push(error),
    });
    const context = await pipeline.accept(input);
    expect(context.id).toBe('X1');
    await pipeline.whenDone('X1');
    expect(errors).toHaveLength(1);
    expect(pipeline.pendingCount).toBe(0);
  });

  it('makes senders wait while the background backlog holds more raw bytes than allowed', async () => {
    const releases: (() => void)[] = [];
    const withRaw: IngestStage = {
      name: 'store',
      async run(context) {
        context.raw = new Uint8Array(600);
      },
    };
    const heldParse: IngestStage = {
      name: 'parse',
      run: () => new Promise<void>((resolve) => releases.push(resolve)),
    };
    const pipeline = new IngestPipeline([withRaw, heldParse], { replyAfter: 'store', maxPendingBytes: 1000 });
    await pipeline.accept({ ...input, id: 'A' }); // 600 bytes pending: under the limit
    let isSecondAccepted = false;
    const second = pipeline.accept({ ...input, id: 'B' }).then(() => {
      isSecondAccepted = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(isSecondAccepted).toBe(false); // 1,200 bytes pending: B's reply waits
    releases[0]?.();
    await second;
    expect(isSecondAccepted).toBe(true);
    releases[1]?.();
    expect(await pipeline.settled({ timeoutMs: 1000 })).toBe(true);
  });
});
