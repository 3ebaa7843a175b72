// Ingest throughput, ours (durable: WAL + synchronous=FULL, 250 after commit) vs MailDev, same run,
// same client: 10 connections, 1 KB and 100 KB messages.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeMessage, runSmtpLoad } from './smtp-load.js';
import { appRoot, freePort, saveResults, startOurApp, stopChild, waitForPort } from './support.js';

const concurrency = 10;
const scenarios = [
  { name: '1 KB', sizeBytes: 1024, totalMessages: 3000 },
  { name: '100 KB', sizeBytes: 100 * 1024, totalMessages: 600 },
];

async function startMaildev(mailDirectory: string) {
  const [smtpPort, webPort] = [await freePort(), await freePort()];
  const child = spawn(
    join(appRoot, 'node_modules/.bin/maildev'),
    [
      '--smtp',
      String(smtpPort),
      '--web',
      String(webPort),
      '--ip',
      '127.0.0.1',
      '--web-ip',
      '127.0.0.1',
      '--mail-directory',
      mailDirectory,
      '--silent',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitForPort(smtpPort);
  return { child, smtpPort };
}

const results: Record<string, unknown>[] = [];
for (const scenario of scenarios) {
  const message = makeMessage(scenario.sizeBytes);
  const ours = mkdtempSync(join(tmpdir(), 'bench-ours-'));
  const theirs = mkdtempSync(join(tmpdir(), 'bench-maildev-'));
  const [smtpPort, httpPort] = [await freePort(), await freePort()];
  const app = await startOurApp({ dataDir: ours, smtpPort, httpPort });
  const maildev = await startMaildev(theirs);
  // Warm both up (JIT, page cache), then measure them one after the other.
  await runSmtpLoad({ port: smtpPort, concurrency, totalMessages: 100, message });
  await runSmtpLoad({ port: maildev.smtpPort, concurrency, totalMessages: 100, message });
  const ourRun = await runSmtpLoad({
    port: smtpPort,
    concurrency,
    totalMessages: scenario.totalMessages,
    message,
  });
  const maildevRun = await runSmtpLoad({
    port: maildev.smtpPort,
    concurrency,
    totalMessages: scenario.totalMessages,
    message,
  });
  await stopChild(app);
  await stopChild(maildev.child);
  rmSync(ours, { recursive: true, force: true });
  rmSync(theirs, { recursive: true, force: true });
  const ratio = ourRun.messagesPerSecond / maildevRun.messagesPerSecond;
  results.push({
    scenario: scenario.name,
    messageBytes: message.byteLength,
    concurrency,
    messages: scenario.totalMessages,
    oursMessagesPerSecond: Math.round(ourRun.messagesPerSecond),
    maildevMessagesPerSecond: Math.round(maildevRun.messagesPerSecond),
    ratio: Number(ratio.toFixed(2)),
  });
  console.log(
    `ingest ${scenario.name.padEnd(6)} c=${concurrency}: ours ${ourRun.messagesPerSecond.toFixed(0)} msg/s, ` +
      `MailDev ${maildevRun.messagesPerSecond.toFixed(0)} msg/s, ratio ${ratio.toFixed(2)}x`,
  );
}
saveResults('ingest', { date: new Date().toISOString(), node: process.version, results });
