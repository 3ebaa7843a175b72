import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, type SmtpClient } from '@smtp/client';
import { type AiosmtpdPeer, type DnsStub, startAiosmtpd, startDnsStub } from '@smtp/test-support';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporaryDirectory } from './support/messages.js';
import { freePort } from './support/mta-testbed.js';

const appRoot = join(import.meta.dirname, '..');
const kills = 5;
const senders = 4;

/**
 * kill -9 during steady submission and delivery (issue 11): the built app runs as its own process
 * (node dist/main.js, MTA mode, SQLite queue on its writer thread) while four senders submit
 * without pause and the app delivers to aiosmtpd, which records every message. The app is killed
 * with SIGKILL five times at random moments and started again each time. Then every message that
 * got a 250 must reach aiosmtpd, and a message may arrive twice only through the documented window
 * (the remote accepted it, the app died before recording that): no more duplicates than deliveries
 * the queue held in flight at the kills, counted from the database while the app was down.
 */
describe('MTA: kill -9 during submission and delivery', () => {
  const directory = temporaryDirectory();
  let dns: DnsStub;
  let remote: AiosmtpdPeer;
  let child: ChildProcess | null = null;

  beforeAll(async () => {
    execFileSync('pnpm', ['run', 'build'], { cwd: appRoot, stdio: 'ignore' });
    const port = await freePort('127.0.0.2');
    [dns, remote] = await Promise.all([
      startDnsStub({
        'remote.test': { mx: [{ preference: 10, exchange: 'mx.remote.test' }] },
        'mx.remote.test': { a: ['127.0.0.2'] },
      }),
      startAiosmtpd({ host: '127.0.0.2', port }),
    ]);
  }, 180_000);

  afterAll(async () => {
    child?.kill('SIGKILL');
    await Promise.all([dns?.close(), remote?.stop()]);
    directory.remove();
  });

  it('delivers every acknowledged message at least once; duplicates stay within the in-flight window', async () => {
    const [smtpPort, httpPort] = [await freePort('127.0.0.1'), await freePort('127.0.0.1')];
    const configFile = join(directory.path, 'smtp-app.yaml');
    writeFileSync(
      configFile,
      JSON.stringify({
        mode: 'mta',
        storage: { dataDir: join(directory.path, 'data') },
        http: { host: '127.0.0.1', port: httpPort },
        log: { level: 'warn' },
        mta: {
          hostname: 'mta.local.test',
          localDomains: ['sender.test'],
          relayNetworks: ['127.0.0.1/32'],
          listeners: [{ role: 'relay', host: '127.0.0.1', port: smtpPort }],
          dnsServers: [dns.address],
          deliveryPort: remote.port,
          // A delivery deferred under load (a timeout on a busy machine) is retried (the shortest
          // schedule allowed) within the test's wait, so "missing" means lost, not merely late.
          retry: { schedule: ['1m'], repeatEvery: '1m' },
        },
      }),
    );
    const start = async () => {
      child = await startBuiltApp(configFile, httpPort);
    };
    await start();

    const acknowledged = new Set<string>();
    let refusedOrCut = 0;
    let isSending = true;
    let sequence = 0;
    const sendLoop = async (sender: number) => {
      let client: SmtpClient | null = null;
      while (isSending) {
        client ??= createClient({
          host: '127.0.0.1',
          port: smtpPort,
          starttls: 'never',
          name: `sender${sender}.test`,
          timeouts: { connectMs: 2000, commandMs: 5000 },
          pool: { maxConnections: 1 },
        });
        const messageId = `<kill9.${sender}.${sequence++}@sender.test>`;
        try {
          await client.send({
            from: `sender${sender}@sender.test`,
            to: [`rcpt${sequence % 3}@remote.test`],
            message: [
              'From: <sender@sender.test>',
              'To: <rcpt@remote.test>',
              `Subject: kill -9 ${messageId}`,
              `Message-ID: ${messageId}`,
              'Date: Sun, 06 Dec 2026 12:00:00 +0000',
              '',
              'Survives kill -9.',
              '',
            ].join('\r\n'),
          });
          acknowledged.add(messageId);
        } catch {
          // The app died under this send (no 250: not owed) or is starting again.
          refusedOrCut += 1;
          await client.close().catch(() => {});
          client = null;
          await sleep(100);
        }
      }
      await client?.close().catch(() => {});
    };
    const loops = Array.from({ length: senders }, (_, index) => sendLoop(index));

    let inFlightAtKills = 0;
    const inFlightPerKill: number[] = [];
    for (let kill = 0; kill < kills; kill += 1) {
      await sleep(1500 + Math.random() * 2500);
      const running = child as ChildProcess | null;
      if (running === null) throw new Error('the app is not running');
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGKILL');
      await exited;
      expect(running.signalCode).toBe('SIGKILL');
      child = null;
      // While the app is down the database holds exactly what was in flight when it died.
      const inFlight = countInFlight(join(directory.path, 'data', 'messages.sqlite'));
      inFlightPerKill.push(inFlight);
      inFlightAtKills += inFlight;
      await start();
    }
    await sleep(1000);
    isSending = false;
    await Promise.all(loops);

    // Every acknowledged message reaches the remote (the leases of the killed runs come back).
    const deadline = Date.now() + 150_000;
    const deliveredIds = () => remote.messages.map((message) => messageIdOf(message.data));
    // One pass over what arrived per look: this process also runs the DNS stub the app resolves
    // through, so a wait loop that blocks it (thousands × thousands of comparisons) defers the very
    // deliveries it waits for.
    const notArrivedYet = () => {
      const arrived = new Set(deliveredIds());
      return [...acknowledged].filter((id) => !arrived.has(id));
    };
    while (notArrivedYet().length > 0 && Date.now() < deadline) await sleep(250);
    const delivered = deliveredIds();
    const notArrived = notArrivedYet();
    // Mail that has not arrived is lost only if the queue no longer owes it. On a loaded machine the
    // DNS stub (in this process) can time out, and such a delivery is deferred (4.4.3) and retried
    // later: late, not lost.
    const owed = pendingDeliveries(join(directory.path, 'data', 'messages.sqlite'), notArrived);
    const lost = notArrived.filter((id) => !owed.some((row) => row.subject.includes(id)));
    const counts = new Map<string, number>();
    for (const id of delivered) counts.set(id, (counts.get(id) ?? 0) + 1);
    const duplicates = [...counts.values()].reduce((sum, count) => sum + count - 1, 0);
    console.info(
      `kill -9 ×${kills}: ${acknowledged.size} acknowledged, ${delivered.length} deliveries, ` +
        `${notArrived.length} not arrived (${owed.length} still queued, ${lost.length} lost), ` +
        `${duplicates} duplicates, in flight at the kills: ` +
        `${inFlightPerKill.join(' + ')} = ${inFlightAtKills}, sends cut or refused: ${refusedOrCut}`,
    );
    if (owed.length > 0) console.info(owed);
    expect(acknowledged.size).toBeGreaterThan(50);
    expect(lost).toEqual([]);
    // What is still queued was deferred by a transient failure, never failed or dropped.
    expect(owed.every((row) => row.status === 'queued' && row.last_status?.startsWith('4.'))).toBe(true);
    expect(duplicates).toBeLessThanOrEqual(inFlightAtKills);
  }, 300_000);
});

/** Starts dist/main.js with the config file and waits until its HTTP side answers. */
async function startBuiltApp(configFile: string, httpPort: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(appRoot, 'dist/main.js'), '--config', configFile], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`The app exited with ${child.exitCode}`);
    try {
      if ((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).ok) return child;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('The app did not start');
    await sleep(100);
  }
}

/** The queue's pending deliveries of the messages whose Message-ID (in the subject) is given. */
function pendingDeliveries(
  databaseFile: string,
  messageIds: readonly string[],
): { subject: string; status: string; attempts: number; last_status: string | null }[] {
  if (messageIds.length === 0) return [];
  const database = new Database(databaseFile, { readonly: true });
  try {
    const statement = database.prepare(
      `SELECT m.subject, d.status, d.attempts, d.last_status FROM deliveries d
         JOIN messages m ON m.id = d.message_id
       WHERE m.subject = ? AND d.status IN ('queued', 'in-flight', 'held')`,
    );
    return messageIds.flatMap(
      (id) =>
        statement.all(`kill -9 ${id}`) as {
          subject: string;
          status: string;
          attempts: number;
          last_status: string | null;
        }[],
    );
  } finally {
    database.close();
  }
}

function countInFlight(databaseFile: string): number {
  const database = new Database(databaseFile);
  try {
    const row = database
      .prepare(`SELECT COUNT(*) AS count FROM deliveries WHERE status = 'in-flight'`)
      .get() as {
      count: number;
    };
    return row.count;
  } finally {
    database.close();
  }
}

function messageIdOf(data: string): string {
  return /^Message-ID:\s*(\S+)/im.exec(data)?.[1] ?? '';
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
