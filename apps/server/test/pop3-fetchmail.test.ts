import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool } from '@smtp/test-support';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { rawOf, startTestApp } from './support/app-harness.js';
import { composeRaw, newMessage, temporaryDirectory } from './support/messages.js';
import { runProcess } from './support/run-process.js';

const fetchmail = requireTool('fetchmail', 'apt-get install -y fetchmail');
const reader = { username: 'reader', password: 'correct horse' };

let harness: Awaited<ReturnType<typeof startTestApp>>;
const work = temporaryDirectory();

beforeAll(async () => {
  harness = await startTestApp({ pop3: { port: 0, users: [reader] } });
}, 60_000);

afterAll(async () => {
  await harness?.stop();
  work.remove();
});

test('fetchmail upgrades with STLS, fetches every message intact and deletes them at QUIT', async () => {
  const raws = [
    composeRaw({ subject: 'for fetchmail' }),
    composeRaw({ subject: 'dotted', body: '.a line starting with a dot\r\n..and two\r\nlast' }),
  ];
  const ids: string[] = [];
  for (const raw of raws) {
    const message = await newMessage(raw);
    await harness.app.mailbox.insert(message);
    ids.push(message.id);
  }
  const stored = await Promise.all(ids.map((id) => rawOf(harness.baseUrl, id)));
  const outbox = join(work.path, 'out');
  mkdirSync(outbox);
  const rcFile = join(work.path, 'fetchmailrc');
  // A real client with its defaults but two: the self-signed certificate, and TLS required (so STLS).
  writeFileSync(
    rcFile,
    [
      'set no syslog',
      `poll 127.0.0.1 protocol POP3 port ${harness.app.pop3Address?.port} timeout 60`,
      `  user "${reader.username}" there with password "${reader.password}" is "nobody" here`,
      '  options no sslcertck sslproto "TLS1.2+" fetchall nokeep',
      `  mda "/bin/sh -c 'cat > ${outbox}/$$.eml'"`,
      '',
    ].join('\n'),
  );
  chmodSync(rcFile, 0o600);
  const result = await runProcess(fetchmail, ['-v', '-f', rcFile, '--pidfile', join(work.path, 'pid')], {
    timeoutMs: 90_000,
  });
  expect(result.stderr + result.stdout).toMatch(/POP3> STLS/);
  expect(result.code, result.stderr).toBe(0);

  // fetchmail hands each message to the MDA with LF line ends and its own Received header on top.
  const delivered = readdirSync(outbox).map((name) => readFileSync(join(outbox, name), 'latin1'));
  expect(delivered).toHaveLength(2);
  for (const raw of stored) {
    const expected = raw.toString('latin1').replaceAll('\r\n', '\n');
    expect(delivered.some((text) => text.endsWith(`\n${expected}`))).toBe(true);
  }
  for (const id of ids) expect((await fetch(`${harness.baseUrl}/api/v1/messages/${id}`)).status).toBe(404);
}, 120_000);
