// Inbound MX throughput with the checks off vs all on: Postfix's smtp-source injects a 1 KB
// DKIM-signed message (-F, so SPF, DKIM, DMARC and ARC have real work) at concurrency 10 into the
// mx listener of our built app, which delivers into a Maildir. Two app processes, one with
// SPF/DKIM/DMARC/ARC disabled and one with them all on; DNS is answered by the stub in a child
// process (its CPU is not counted). Alternating rounds; messages/s until the last one is in the
// Maildir, CPU ms per message of the app's process tree, and the on/off ratio per round.
//   node bench/run.mjs inbound                              (needs smtp-source: apt-get install postfix)
//   BENCH_ROUNDS=5 BENCH_MESSAGES=2000 node bench/run.mjs inbound
import { type ChildProcess, execFile, fork, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { requireTool } from '@smtp/test-support';
// The stub by path: the bench bundle keeps packages external, and test-support ships only sources.
import { startDnsStub, type ZoneEntry } from '../../../tooling/test-support/src/dns-stub.js';
import { dkimPublicKeyValue } from '../src/dkim/dkim-keys.js';
import { signMessage } from '../src/dkim/dkim-signer.js';
import { processTreeUsage } from './process-tree-cpu.js';
import { appRoot, freePort, saveResults, stopChild, waitForPort } from './support.js';

// Before the top-level await below: runBenchmark reads it.
const checkNames = ['spf', 'dkim', 'dmarc', 'arc'] as const;

if (process.env.BENCH_ROLE === 'dns') {
  // The child: serve the zone the parent sends, report the address.
  process.once('message', async (zone: Record<string, ZoneEntry>) => {
    const stub = await startDnsStub(zone);
    process.send?.({ address: stub.address });
  });
} else {
  await runBenchmark();
}

type Setting = 'off' | 'on';

interface AppUnderTest {
  readonly setting: Setting;
  readonly child: ChildProcess;
  readonly port: number;
  readonly inbox: string;
  readonly directory: string;
}

interface RoundSample {
  readonly messagesPerSecond: number;
  readonly cpuMsPerMessage: number;
}

async function runBenchmark(): Promise<void> {
  const smtpSource = requireTool('/usr/sbin/smtp-source', 'apt-get install postfix');
  const rounds = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 3));
  const messagesPerRound = Number(process.env.BENCH_MESSAGES ?? 1000);
  const warmup = Math.max(100, Math.round(messagesPerRound / 5));
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const zone: Record<string, ZoneEntry> = {
    'sender.test': { txt: ['v=spf1 ip4:127.0.0.0/8 -all'] },
    '_dmarc.sender.test': { txt: ['v=DMARC1; p=reject'] },
    'rsa1._domainkey.sender.test': { txt: [`v=DKIM1; k=rsa; p=${dkimPublicKeyValue(key)}`] },
  };
  const dnsChild = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, BENCH_ROLE: 'dns' } });
  const dnsAddress = await new Promise<string>((resolve) => {
    dnsChild.once('message', (reply: { address: string }) => resolve(reply.address));
    dnsChild.send(zone);
  });
  const workDirectory = mkdtempSync(join(tmpdir(), 'bench-inbound-'));
  const messagePath = join(workDirectory, 'message.txt');
  writeFileSync(messagePath, signedMessageFile(key));

  const apps = [
    await startMxApp('off', dnsAddress, workDirectory),
    await startMxApp('on', dnsAddress, workDirectory),
  ];
  const samples: Record<Setting, RoundSample[]> = { off: [], on: [] };
  try {
    for (const app of apps) await injectRound(smtpSource, app, messagePath, warmup);
    for (let round = 0; round < rounds; round++) {
      // Alternate which goes first, so drift on a shared machine hits both alike.
      const order = round % 2 === 0 ? apps : [...apps].reverse();
      for (const app of order)
        samples[app.setting].push(await injectRound(smtpSource, app, messagePath, messagesPerRound));
    }
  } finally {
    for (const app of apps) await stopChild(app.child);
    dnsChild.kill();
    rmSync(workDirectory, { recursive: true, force: true });
  }

  const median = (values: readonly number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  };
  const range = (values: readonly number[]) =>
    `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
  const summary = (['off', 'on'] as const).map((setting) => ({
    setting,
    messagesPerSecond: median(samples[setting].map((sample) => sample.messagesPerSecond)),
    cpuMsPerMessage: median(samples[setting].map((sample) => sample.cpuMsPerMessage)),
    rounds: samples[setting],
  }));
  const ratios = samples.on.map((on, index) => {
    const off = samples.off[index] as RoundSample;
    return {
      throughput: on.messagesPerSecond / off.messagesPerSecond,
      cpu: on.cpuMsPerMessage / off.cpuMsPerMessage,
    };
  });
  console.log(
    `\nInbound MX → Maildir, ${messagesPerRound} messages × ${rounds} rounds, concurrency 10, 1 KB`,
  );
  for (const row of summary)
    console.log(
      `  checks ${row.setting.padEnd(3)}  ${row.messagesPerSecond.toFixed(0).padStart(5)} msg/s (rounds ${range(
        row.rounds.map((sample) => sample.messagesPerSecond),
      )})  ${row.cpuMsPerMessage.toFixed(2)} CPU ms/msg (rounds ${range(
        row.rounds.map((sample) => sample.cpuMsPerMessage),
      )})`,
    );
  const throughputRatios = ratios.map((ratio) => ratio.throughput);
  const cpuRatios = ratios.map((ratio) => ratio.cpu);
  console.log(
    `  on/off: throughput ×${median(throughputRatios).toFixed(2)} (rounds ${range(throughputRatios)}), ` +
      `CPU per message ×${median(cpuRatios).toFixed(2)} (rounds ${range(cpuRatios)})`,
  );
  saveResults('inbound', { messagesPerRound, rounds, summary, ratios });
}

/** The message file for smtp-source -F: LF line ends (it sends CRLF), signed over the CRLF form. */
function signedMessageFile(key: ReturnType<typeof generateKeyPairSync>['privateKey']): string {
  const header =
    'From: App <app@sender.test>\r\nTo: alice@example.test\r\nSubject: inbound benchmark\r\n' +
    'Date: Sun, 06 Dec 2026 10:00:00 +0000\r\nMessage-ID: <bench@sender.test>\r\n\r\n';
  const line = `${'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempo'.slice(0, 76)}\r\n`;
  let body = '';
  while ((header + body + line).length <= 1024 - 400) body += line; // the signature is ~400 bytes
  const raw = Buffer.from(header + body);
  const signature = signMessage(raw, {
    domain: 'sender.test',
    keys: [{ selector: 'rsa1', privateKey: key }],
    now: Date.now(),
  });
  return (signature + raw.toString('latin1')).replaceAll('\r\n', '\n');
}

async function startMxApp(
  setting: Setting,
  dnsAddress: string,
  workDirectory: string,
): Promise<AppUnderTest> {
  const directory = join(workDirectory, setting);
  const [port, httpPort] = [await freePort(), await freePort()];
  const maildirs = join(directory, 'maildir');
  const checks = Object.fromEntries(checkNames.map((name) => [name, { enabled: setting === 'on' }]));
  const config = {
    mode: 'mta',
    http: { host: '127.0.0.1', port: httpPort },
    storage: { dataDir: join(directory, 'data') },
    log: { level: 'warn' },
    mta: {
      hostname: 'mx.example.test',
      localDomains: ['example.test'],
      relayNetworks: [],
      dnsServers: [dnsAddress],
      dkim: { enabled: false },
      listeners: [{ role: 'mx', host: '127.0.0.1', port }],
      inboundChecks: checks,
    },
    inbound: {
      mailboxes: ['alice@example.test'],
      delivery: { transport: 'maildir', directory: maildirs },
    },
  };
  // JSON is YAML.
  const configPath = `${directory}.yaml`;
  writeFileSync(configPath, JSON.stringify(config));
  const child = spawn(process.execPath, [join(appRoot, 'dist/main.js')], {
    env: { ...process.env, SMTP_APP_CONFIG: configPath },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(port);
  return { setting, child, port, inbox: join(maildirs, 'example.test', 'alice', 'new'), directory };
}

function deliveredCount(inbox: string): number {
  try {
    return readdirSync(inbox).length;
  } catch {
    return 0; // not created yet
  }
}

/** One round: smtp-source sends `messages`; done when all of them are in the Maildir. */
async function injectRound(
  smtpSource: string,
  app: AppUnderTest,
  messagePath: string,
  messages: number,
): Promise<RoundSample> {
  const pid = app.child.pid as number;
  const before = deliveredCount(app.inbox);
  const cpuBefore = processTreeUsage(pid).cpuSeconds;
  const start = performance.now();
  await promisify(execFile)(smtpSource, [
    '-s',
    '10',
    '-m',
    String(messages),
    '-M',
    'mta.sender.test',
    '-f',
    'app@sender.test',
    '-t',
    'alice@example.test',
    '-F',
    messagePath,
    `127.0.0.1:${app.port}`,
  ]);
  let lastProgress = Date.now();
  let seen = before;
  for (;;) {
    const count = deliveredCount(app.inbox);
    if (count >= before + messages) break;
    if (count !== seen) [seen, lastProgress] = [count, Date.now()];
    if (Date.now() - lastProgress > 60_000)
      throw new Error(`checks ${app.setting}: ${count - before} of ${messages} delivered, stalled`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const seconds = (performance.now() - start) / 1000;
  const cpuSeconds = processTreeUsage(pid).cpuSeconds - cpuBefore;
  return { messagesPerSecond: messages / seconds, cpuMsPerMessage: (cpuSeconds * 1000) / messages };
}
