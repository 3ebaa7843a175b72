// Catcher visibility: how long after its 250 a message appears in the list API, at low load (one
// connection, one message at a time, the next sent once the last is visible: a test suite's
// pattern). Ours with adaptive parse commits (the default), ours with the fixed 20 ms window (the
// policy before), ours waited for with a long poll (?wait=), and MailDev (GET /api/email/summary), in one run,
// rounds alternating so drift on this shared machine hits every server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SmtpSession } from './smtp-session.js';
import { freePort, percentile, saveResults, startMaildev, startOurApp, stopChild } from './support.js';

const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const messagesPerRound = Number(process.env.BENCH_VISIBILITY_MESSAGES ?? 60);
const warmupMessages = 100;

function messageWithSubject(subject: string): Buffer {
  const body = `${'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempo\r\n'.repeat(12)}`;
  return Buffer.from(
    `From: bench@example.com\r\nTo: sink@example.net\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\n` +
      `Content-Type: text/plain\r\n\r\n${body}`,
  );
}

/** How one server is sent to and looked at. */
interface Contender {
  readonly name: string;
  readonly smtpPort: number;
  /** Resolves at the first moment the list API shows the message with this subject. */
  waitUntilListed(subject: string, sentAt: Promise<number>): Promise<number>;
  clear(): Promise<void>;
}

/** Polls our list API (which itself waits for parses of messages already accepted). */
function oursPolling(name: string, smtpPort: number, httpPort: number): Contender {
  const base = `http://127.0.0.1:${httpPort}/api/v1/messages`;
  return {
    name,
    smtpPort,
    async waitUntilListed(subject, sentAt) {
      await sentAt;
      for (;;) {
        const page = (await (await fetch(`${base}?limit=1`)).json()) as { messages: { subject: string }[] };
        if (page.messages[0]?.subject === subject) return performance.now();
      }
    },
    async clear() {
      await fetch(base, { method: 'DELETE' });
    },
  };
}

/** One long poll per message, sent before the message: no polling at all. */
function oursLongPoll(name: string, smtpPort: number, httpPort: number): Contender {
  const base = `http://127.0.0.1:${httpPort}/api/v1/messages`;
  return {
    name,
    smtpPort,
    async waitUntilListed(subject) {
      const search = encodeURIComponent(`subject:"${subject}"`);
      for (;;) {
        const page = (await (await fetch(`${base}?limit=1&wait=10s&search=${search}`)).json()) as {
          messages: { subject: string }[];
        };
        if (page.messages[0]?.subject === subject) return performance.now();
      }
    },
    async clear() {
      await fetch(base, { method: 'DELETE' });
    },
  };
}

function maildevPolling(smtpPort: number, webPort: number): Contender {
  const base = `http://127.0.0.1:${webPort}`;
  return {
    name: 'MailDev',
    smtpPort,
    async waitUntilListed(subject, sentAt) {
      await sentAt;
      for (;;) {
        // MailDev 3's list API, newest first, as ours is asked.
        const page = (await (await fetch(`${base}/api/email/summary?limit=1`)).json()) as {
          items: { subject: string }[];
        };
        if (page.items[0]?.subject === subject) return performance.now();
      }
    },
    async clear() {
      await fetch(`${base}/api/email/all`, { method: 'DELETE' });
    },
  };
}

/** Sends `count` messages one at a time; the 250-to-listed time of each, in ms. */
async function measure(contender: Contender, count: number, tag: string): Promise<number[]> {
  const session = await SmtpSession.open(contender.smtpPort);
  const timings: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const subject = `visibility ${tag} ${index}`;
    const sentAt = session.send(messageWithSubject(subject));
    const listedAt = await contender.waitUntilListed(subject, sentAt);
    timings.push(listedAt - (await sentAt));
    if (index % 20 === 19) await contender.clear(); // keep MailDev's whole-inbox list small
  }
  await session.close();
  await contender.clear();
  return timings;
}

const directories = ['adaptive', 'windowed', 'maildev'].map((name) =>
  mkdtempSync(join(tmpdir(), `bench-visibility-${name}-`)),
);
const ports = await Promise.all(Array.from({ length: 4 }, freePort));
const adaptive = await startOurApp({
  dataDir: directories[0] as string,
  smtpPort: ports[0] as number,
  httpPort: ports[1] as number,
});
const windowed = await startOurApp({
  dataDir: directories[1] as string,
  smtpPort: ports[2] as number,
  httpPort: ports[3] as number,
  parseCommit: 'windowed',
});
const maildev = await startMaildev(directories[2] as string);
const contenders = [
  oursPolling('ours (adaptive)', ports[0] as number, ports[1] as number),
  oursLongPoll('ours (adaptive, ?wait=)', ports[0] as number, ports[1] as number),
  oursPolling('ours (windowed, before)', ports[2] as number, ports[3] as number),
  maildevPolling(maildev.smtpPort, maildev.webPort),
];
for (const contender of contenders) await measure(contender, warmupMessages, 'warmup');
const samples = new Map(contenders.map((contender) => [contender.name, [] as number[]]));
const roundMedians = new Map(contenders.map((contender) => [contender.name, [] as number[]]));
for (let round = 0; round < rounds; round += 1) {
  const order = contenders.map((_, index) => contenders[(index + round) % contenders.length] as Contender);
  for (const contender of order) {
    const timings = await measure(contender, messagesPerRound, `r${round}`);
    samples.get(contender.name)?.push(...timings);
    roundMedians.get(contender.name)?.push(
      percentile(
        [...timings].sort((a, b) => a - b),
        0.5,
      ),
    );
  }
}
await stopChild(adaptive);
await stopChild(windowed);
await stopChild(maildev.child);
for (const directory of directories) rmSync(directory, { recursive: true, force: true });

const summary = (name: string) => {
  const sorted = [...(samples.get(name) ?? [])].sort((a, b) => a - b);
  return { p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), samples: sorted.length };
};
const reference = summary('MailDev');
const referenceRounds = roundMedians.get('MailDev') ?? [];
const results = contenders.map((contender) => {
  const figures = summary(contender.name);
  const perRound = (roundMedians.get(contender.name) ?? []).map(
    (value, index) => value / (referenceRounds[index] as number),
  );
  const result = {
    server: contender.name,
    p50Ms: Number(figures.p50Ms.toFixed(2)),
    p99Ms: Number(figures.p99Ms.toFixed(2)),
    samples: figures.samples,
    p50OverMaildev: Number((figures.p50Ms / reference.p50Ms).toFixed(2)),
    p99OverMaildev: Number((figures.p99Ms / reference.p99Ms).toFixed(2)),
    roundP50OverMaildev: perRound.map((each) => Number(each.toFixed(2))),
  };
  console.log(
    `visibility ${contender.name.padEnd(26)} 250→listed p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms  ` +
      `(×MailDev: p50 ${result.p50OverMaildev}, p99 ${result.p99OverMaildev}; p50 per round ` +
      `${Math.min(...perRound).toFixed(2)}–${Math.max(...perRound).toFixed(2)})`,
  );
  return result;
});
saveResults('visibility', {
  date: new Date().toISOString(),
  node: process.version,
  rounds,
  messagesPerRound,
  results,
});
