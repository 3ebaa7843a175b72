import { createServer } from 'node:net';
import { createClient } from '@smtp/client';
import {
  type AiosmtpdPeer,
  type DnsStub,
  startAiosmtpd,
  startDnsStub,
  type ZoneEntry,
} from '@smtp/test-support';
import type { AppConfigInput } from '../../src/config/config-schema.js';
import { startTestApp } from './app-harness.js';

export interface MtaTestbedOptions {
  /** Serve this build of the web UI (browser tests). */
  readonly webRoot?: string;
  /** More top-level settings, e.g. webhooks. */
  readonly config?: Omit<AppConfigInput, 'mode' | 'mta'>;
  /** More `mta` keys, over the defaults (e.g. another hostname). */
  readonly mta?: Partial<NonNullable<AppConfigInput['mta']>>;
  /** The inbound section (mx listeners, mailboxes). */
  readonly inbound?: AppConfigInput['inbound'];
}

export interface MtaTestbed {
  readonly dns: DnsStub;
  /** The remote MX: aiosmtpd on 127.0.0.2, named by the DNS stub as mx.remote.test. */
  readonly remote: AiosmtpdPeer;
  /** The app in MTA mode, with one relay listener on 127.0.0.1 open to 127.0.0.1/32. */
  readonly harness: Awaited<ReturnType<typeof startTestApp>>;
  stop(): Promise<void>;
}

/** mta.local.test, sending for sender.test, one relay listener on 127.0.0.1 open to 127.0.0.1. */
const relayMtaBasics = {
  hostname: 'mta.local.test',
  localDomains: ['sender.test'],
  relayNetworks: ['127.0.0.1/32'],
  listeners: [{ role: 'relay' as const, host: '127.0.0.1', port: 0 }],
};

/** Changes to the testbed's app config: `mta` keys replace the testbed's one by one; `inbound` is added. */
/**
 * The app in MTA mode with a remote MX to deliver to: `remote.test` (and any extra names given)
 * resolves through the DNS stub to aiosmtpd on 127.0.0.2, and the app delivers to that port.
 */
export async function startMtaTestbed(
  extraZone: Readonly<Record<string, ZoneEntry>> = {},
  options: MtaTestbedOptions = {},
): Promise<MtaTestbed> {
  const port = await freePort('127.0.0.2');
  const [dns, remote] = await Promise.all([
    startDnsStub({
      'remote.test': { mx: [{ preference: 10, exchange: 'mx.remote.test' }] },
      'mx.remote.test': { a: ['127.0.0.2'] },
      ...extraZone,
    }),
    startAiosmtpd({ host: '127.0.0.2', port }),
  ]);
  const harness = await startTestApp(
    {
      ...options.config,
      mode: 'mta',
      mta: {
        ...relayMtaBasics,
        dnsServers: [dns.address],
        deliveryPort: port,
        ...options.mta,
      },
      ...(options.inbound === undefined ? {} : { inbound: options.inbound }),
    },
    options.webRoot === undefined ? {} : { webRoot: options.webRoot },
  );
  return {
    dns,
    remote,
    harness,
    async stop() {
      await harness.stop();
      await Promise.all([dns.close(), remote.stop()]);
    },
  };
}

/**
 * The app in MTA mode with one relay listener on 127.0.0.1 open to 127.0.0.1, DKIM off, for tests
 * that bring their own DNS stub and remote peers: `mta` keys (dnsServers, deliveryPort, …) go over it.
 */
export function startRelayMta(mta: Partial<NonNullable<AppConfigInput['mta']>>) {
  return startTestApp({
    mode: 'mta',
    mta: { ...relayMtaBasics, dkim: { enabled: false }, ...mta },
  });
}

/** One message from app@sender.test through the relay listener on `port`; resolves with its queue id. */
export async function relayMessage(port: number, to: string, subject: string): Promise<string> {
  const client = createClient({ host: '127.0.0.1', port, starttls: 'never', pool: false });
  try {
    const sent = await client.send({
      from: 'app@sender.test',
      to: [to],
      message: `Subject: ${subject}\r\n\r\nx\r\n`,
      dsn: { notify: 'NEVER' },
    });
    return /Queued as (\w+)/.exec(sent.reply.lines.join(' '))?.[1] ?? '';
  } finally {
    await client.close();
  }
}

/** A port free on `host` a moment ago (loopback addresses other than 127.0.0.1 included). */
export function freePort(host: string): Promise<number> {
  return listenAndClose(host, 0);
}

/** A port free on every one of these loopback addresses (the peers share it, as MX hosts do 25). */
export async function portFreeOn(hosts: readonly string[]): Promise<number> {
  for (let tries = 0; tries < 20; tries++) {
    const port = await freePort(hosts[0] as string);
    const free = await Promise.all(
      hosts.slice(1).map((host) =>
        listenAndClose(host, port).then(
          () => true,
          () => false,
        ),
      ),
    );
    if (free.every(Boolean)) return port;
  }
  throw new Error('no port free on every loopback address');
}

function listenAndClose(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, host, () => {
      const chosen = (server.address() as { port: number }).port;
      server.close(() => resolve(chosen));
    });
  });
}
