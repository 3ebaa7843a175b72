import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@smtp/client';
import { type AiosmtpdPeer, type DnsStub, startAiosmtpd, startDnsStub } from '@smtp/test-support';
import pg from 'pg';
import { nodeIdFile } from '../../src/postgres/node-identity.js';
import { freePort } from './mta-testbed.js';

/**
 * The remote side of the shared-queue tests: `remote.test` resolves through the DNS stub to an
 * aiosmtpd MX on 127.0.0.2 that holds each DATA a while (so sessions overlap) and counts the
 * sessions open at once.
 */
export interface RemoteMx {
  readonly dns: DnsStub;
  readonly mx: AiosmtpdPeer;
  readonly port: number;
  stop(): Promise<void>;
}

export async function startRemoteMx(dataDelayMs: number): Promise<RemoteMx> {
  const port = await freePort('127.0.0.2');
  const [dns, mx] = await Promise.all([
    startDnsStub({
      'remote.test': { mx: [{ preference: 10, exchange: 'mx.remote.test' }] },
      'mx.remote.test': { a: ['127.0.0.2'] },
    }),
    startAiosmtpd({ host: '127.0.0.2', port, dataDelayMs }),
  ]);
  return {
    dns,
    mx,
    port,
    async stop() {
      await Promise.all([dns.close(), mx.stop()]);
    },
  };
}

/** The MTA settings every node shares: relay from 127.0.0.1 to the remote MX. */
export function nodeMtaSettings(remote: RemoteMx, hostname: string) {
  return {
    hostname,
    localDomains: ['sender.test'],
    relayNetworks: ['127.0.0.1/32'],
    dnsServers: [remote.dns.address],
    deliveryPort: remote.port,
    dkim: { enabled: false },
  };
}

/** Relays one message with a unique subject through a node's SMTP listener. */
export async function relay(port: number, subject: string): Promise<void> {
  const client = createClient({
    host: '127.0.0.1',
    port,
    starttls: 'never',
    name: 'client.test',
    pool: false,
  });
  try {
    await client.send({
      from: 'app@sender.test',
      to: ['someone@remote.test'],
      message: `Subject: ${subject}\r\nMessage-ID: <${subject}@sender.test>\r\n\r\nx\r\n`,
      // No report to a sender domain the DNS stub does not know.
      dsn: { notify: 'NEVER' },
    });
  } finally {
    await client.close();
  }
}

/** How often the MX received each subject. */
export function receiptsBySubject(mx: AiosmtpdPeer): Map<string, number> {
  const counts = new Map<string, number>();
  for (const message of mx.messages) {
    const subject = /^Subject: (.*)$/m.exec(message.data)?.[1]?.trim() ?? '';
    counts.set(subject, (counts.get(subject) ?? 0) + 1);
  }
  return counts;
}

/** The queue's deliveries by status, read straight from PostgreSQL. */
export async function statusCounts(url: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined); // the query rejects too
  await client.connect();
  try {
    const { rows } = await client.query<{ status: string; count: string }>(
      'SELECT status, COUNT(*) AS count FROM deliveries GROUP BY status',
    );
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
  } finally {
    await client.end();
  }
}

/** Polls until `check` holds (generous: the machine is shared), or fails naming what it waited for. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A node as its own process (the built dist/main.js), so a test can kill -9 it. */
export interface NodeProcess {
  readonly child: ChildProcess;
  readonly smtpPort: number;
  /** The name its leases carry: mta.hostname/node id:pid (delivery-room.ts, node-identity.ts). */
  readonly holder: string;
  /** Whatever the node wrote to stderr (logged problems), for a failing test's message. */
  readonly stderr: () => string;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

const appRoot = join(dirname(fileURLToPath(import.meta.url)), '../..');

export async function startNodeProcess(options: {
  readonly url: string;
  readonly remote: RemoteMx;
  readonly hostname: string;
  readonly directory: string;
  readonly leaseDuration: string;
  readonly destinationConcurrency: number;
}): Promise<NodeProcess> {
  const [smtpPort, httpPort] = await Promise.all([freePort('127.0.0.1'), freePort('127.0.0.1')]);
  const configFile = join(options.directory, `${options.hostname}.yaml`);
  // JSON is YAML: the app's config file, with the listener list no flag can express.
  writeFileSync(
    configFile,
    JSON.stringify({
      mode: 'mta',
      mta: {
        ...nodeMtaSettings(options.remote, options.hostname),
        listeners: [{ role: 'relay', host: '127.0.0.1', port: smtpPort }],
        leaseDuration: options.leaseDuration,
      },
      http: { port: httpPort },
      storage: {
        dataDir: join(options.directory, options.hostname),
        url: options.url,
        destinationConcurrency: options.destinationConcurrency,
      },
      log: { level: 'warn' },
    }),
  );
  const child = spawn(process.execPath, [join(appRoot, 'dist/main.js'), '--config', configFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitUntil(
    `${options.hostname} answers HTTP`,
    async () => {
      if (child.exitCode !== null) throw new Error(`${options.hostname} exited: ${stderr}`);
      return fetch(`http://127.0.0.1:${httpPort}/healthz`).then(
        (response) => response.ok,
        () => false,
      );
    },
    60_000,
  );
  const nodeId = readFileSync(join(options.directory, options.hostname, nodeIdFile), 'utf8').trim();
  return {
    child,
    smtpPort,
    holder: `${options.hostname}/${nodeId}:${child.pid}`,
    stderr: () => stderr,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs one query on its own connection (the tests' view of the shared queue). */
export async function queryRows<Row extends pg.QueryResultRow>(
  url: string,
  sql: string,
  values: unknown[] = [],
): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined); // the query rejects too
  await client.connect();
  try {
    return (await client.query<Row>(sql, values)).rows;
  } finally {
    await client.end();
  }
}
