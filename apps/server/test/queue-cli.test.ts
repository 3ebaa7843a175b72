import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@smtp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueExitCodes } from '../src/cli/queue-command.js';
import {
  queueActionResultSchema,
  queuedMessageSchema,
  queuePageSchema,
} from '../src/http/schemas/queue-schemas.js';
import { freePort, type MtaTestbed, startMtaTestbed } from './support/mta-testbed.js';
import { runProcess } from './support/run-process.js';

const builtMain = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');

// `smtp-app queue …` as a user runs it: the built CLI in a child process against the app in MTA
// mode. The remote MX (aiosmtpd on 127.0.0.2) answers 450 for local parts "temp…", so the message
// stays queued with one attempt on record.
describe('smtp-app queue: the CLI client of /api/v1/queue', () => {
  let harness: MtaTestbed['harness'];
  let testbed: MtaTestbed | undefined;
  let queueId: string;

  function queueCli(...args: string[]) {
    return runProcess(process.execPath, [builtMain, 'queue', ...args, '--url', harness.baseUrl]);
  }

  beforeAll(async () => {
    if (!existsSync(builtMain)) throw new Error(`${builtMain} is missing: run pnpm --filter @smtp/app build`);
    testbed = await startMtaTestbed();
    harness = testbed.harness;
    const client = createClient({
      host: '127.0.0.1',
      port: harness.smtpPort,
      starttls: 'never',
      name: 'app.local.test',
      pool: false,
    });
    const result = await client.send({
      from: 'app@sender.test',
      to: 'temp@remote.test',
      message: 'From: <app@sender.test>\r\nTo: <temp@remote.test>\r\nSubject: queued\r\n\r\nBody.\r\n',
    });
    await client.close();
    queueId = /Queued as (\w+)/.exec(result.reply.lines.join(' '))?.[1] ?? '';
    // The first attempt (450) is on record before the CLI looks.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const shown = queuedMessageSchema.parse(
        await (await fetch(`${harness.baseUrl}/api/v1/queue/messages/${queueId}`)).json(),
      );
      if (shown.attempts.length > 0 && shown.deliveries[0]?.status === 'queued') break;
      if (Date.now() > deadline) throw new Error('no attempt was recorded');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }, 30_000);
  afterAll(async () => {
    await testbed?.stop();
  });

  it('ls prints a table with the queued message, and --json the API page', async () => {
    const table = await queueCli('ls');
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^MESSAGE\s+SENDER\s+RECIPIENT\s+STATUS\s+ATTEMPTS\s+NEXT DUE\s+LAST REPLY$/);
    expect(lines[1]).toMatch(
      new RegExp(
        `^${queueId}\\s+app@sender\\.test\\s+temp@remote\\.test\\s+queued\\s+1\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ\\s+450 `,
      ),
    );
    const json = await queueCli('ls', '--json');
    expect(json.code).toBe(0);
    const page = queuePageSchema.parse(JSON.parse(json.stdout));
    expect(page.deliveries.map((delivery) => [delivery.messageId, delivery.status])).toEqual([
      [queueId, 'queued'],
    ]);
  });

  it('show prints the envelope, each recipient and every attempt', async () => {
    const shown = await queueCli('show', queueId);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`Message ${queueId}`);
    expect(shown.stdout).toMatch(/from: +app@sender\.test/);
    expect(shown.stdout).toMatch(/#\d+ temp@remote\.test: queued, 1 attempt\(s\), next due /);
    expect(shown.stdout).toMatch(/deferred via mx\.remote\.test, (no )?TLS: 450 /);
  });

  it('hold, release and retry change the status and say what changed; a refused action prints the reason', async () => {
    const held = await queueCli('hold', queueId);
    expect(held).toMatchObject({ code: 0, stdout: expect.stringMatching(/^delivery \d+: hold → held\n$/) });
    const listed = queuePageSchema.parse(JSON.parse((await queueCli('ls', '--json')).stdout));
    expect(listed.deliveries[0]?.status).toBe('held');
    const again = await queueCli('hold', queueId);
    expect(again).toMatchObject({
      code: queueExitCodes.refused,
      stdout: '',
      stderr: 'smtp-app queue: hold is not possible for a held delivery\n',
    });
    const deliveryId = listed.deliveries[0]?.id ?? 0;
    const released = await queueCli('release', '--delivery', String(deliveryId), '--json');
    expect(released.code).toBe(0);
    expect(queueActionResultSchema.parse(JSON.parse(released.stdout)).results).toEqual([
      { deliveryId, ok: true, status: 'queued', reason: null },
    ]);
    const retried = await queueCli('retry', queueId);
    expect(retried).toMatchObject({ code: 0, stdout: `delivery ${deliveryId}: retry → queued\n` });
  });

  it('purge removes the finished mail (older than asked) and leaves the queued message', async () => {
    const client = createClient({
      host: '127.0.0.1',
      port: harness.smtpPort,
      starttls: 'never',
      pool: false,
    });
    const sent = await client.send({
      from: 'app@sender.test',
      to: 'bob@remote.test',
      message: 'From: <app@sender.test>\r\nTo: <bob@remote.test>\r\nSubject: done\r\n\r\nBody.\r\n',
    });
    await client.close();
    const deliveredId = /Queued as (\w+)/.exec(sent.reply.lines.join(' '))?.[1] ?? '';
    const deadline = Date.now() + 10_000;
    while (
      queuedMessageSchema.parse(JSON.parse((await queueCli('show', deliveredId, '--json')).stdout))
        .deliveries[0]?.status !== 'delivered'
    ) {
      if (Date.now() > deadline) throw new Error('the message was not delivered');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    expect(await queueCli('purge', '--older-than', '1h')).toMatchObject({
      code: 0,
      stdout: 'purged 0 finished messages\n',
    });
    const purged = await queueCli('purge', '--json');
    expect(purged.code).toBe(0);
    expect(JSON.parse(purged.stdout)).toEqual({ purged: 1 });
    expect((await queueCli('show', deliveredId)).code).toBe(queueExitCodes.noSuchMessage);
    expect((await fetch(`${harness.baseUrl}/api/v1/messages/${deliveredId}`)).status).toBe(404);
    const left = queuePageSchema.parse(JSON.parse((await queueCli('ls', '--json')).stdout));
    expect(left.deliveries.map((delivery) => delivery.messageId)).toEqual([queueId]);

    const bad = await queueCli('purge', '--older-than', 'soon');
    expect(bad.code).toBe(queueExitCodes.usage);
    expect(bad.stderr).toMatch(
      /^smtp-app queue: --older-than takes a duration such as 90m, 12h or 7d, not soon; usage:/,
    );
    expect((await queueCli('ls', '--older-than', '1d')).code).toBe(queueExitCodes.usage);
  });

  it('acts on every delivery --domain/--status select, and ls filters the same way', async () => {
    expect(await queueCli('hold', '--domain', 'remote.test')).toMatchObject({
      code: 0,
      stdout: 'hold: 1 of 1 deliveries changed\n',
    });
    const held = queuePageSchema.parse(
      JSON.parse((await queueCli('ls', '--status', 'held', '--json')).stdout),
    );
    expect(held.deliveries.map((delivery) => delivery.messageId)).toEqual([queueId]);
    expect(await queueCli('ls', '--domain', 'elsewhere.test')).toMatchObject({
      stdout: 'No delivery matches.\n',
    });
    expect(await queueCli('hold', '--status', 'held')).toMatchObject({
      code: 0,
      stdout: 'hold: 0 of 1 deliveries changed; 1 refused: hold is not possible for a held delivery\n',
    });
    const released = await queueCli('release', '--status', 'held', '--json');
    expect(JSON.parse(released.stdout)).toEqual({ matched: 1, changed: 1, refused: {} });
    expect((await queueCli('hold', queueId, '--domain', 'remote.test')).code).toBe(queueExitCodes.usage);
    expect((await queueCli('show', queueId, '--status', 'held')).code).toBe(queueExitCodes.usage);
  });

  it('fails with one line and a documented code: no such message, unreachable app, bad usage', async () => {
    expect(await queueCli('show', 'NOPE')).toMatchObject({
      code: queueExitCodes.noSuchMessage,
      stderr: 'smtp-app queue: no such message (No such message in the queue)\n',
    });
    const closedPort = await freePort('127.0.0.1');
    const unreachable = await runProcess(process.execPath, [
      builtMain,
      'queue',
      'ls',
      '--url',
      `http://127.0.0.1:${closedPort}`,
    ]);
    expect(unreachable.code).toBe(queueExitCodes.unreachable);
    expect(unreachable.stdout).toBe('');
    expect(unreachable.stderr).toMatch(
      new RegExp(
        `^smtp-app queue: cannot reach the app at http://127\\.0\\.0\\.1:${closedPort} \\(ECONNREFUSED\\)[^\\n]*\\n$`,
      ),
    );
    expect((await queueCli('explode')).code).toBe(queueExitCodes.usage);
    expect((await queueCli('hold')).code).toBe(queueExitCodes.usage);
  });
});
