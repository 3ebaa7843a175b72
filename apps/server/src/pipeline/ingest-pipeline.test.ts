import { SmtpReplyError } from '@smtp/protocol';
import { describe, expect, it } from 'vitest';
import { IngestPipeline, type IngestStage } from './ingest-pipeline.js';

const input = {
  id: 'X1',
  receivedAtMs: 0,
  envelope: { from: 'a@example.com', to: ['b@example.com'], mailParameters: {} },
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
