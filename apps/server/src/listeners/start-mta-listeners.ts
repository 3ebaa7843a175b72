import { createUserDirectory } from '../accounts/user-directory.js';
import type { AppConfig } from '../config/config-schema.js';
import type { Logger } from '../observability/logger.js';
import type { AppMetrics } from '../observability/metrics.js';
import { type DailyMessageCounter, InMemoryDailyMessageCounter } from '../policy/daily-message-counter.js';
import { createNetworkList } from '../policy/network-list.js';
import { loadCertificate } from '../smtp/tls-certificate.js';
import type { DiskSpaceGuard } from '../spool/disk-space-guard.js';
import type { SuppressionList } from '../suppression/suppression-list.js';
import type { AcceptedMessageSink } from './accepted-message-sink.js';
import { type MtaListener, type MxInbound, startMtaListener } from './mta-listener.js';

export interface StartMtaListenersOptions {
  readonly config: AppConfig;
  readonly dataDir: string;
  readonly sink: AcceptedMessageSink;
  readonly metrics: AppMetrics;
  readonly logger: Logger;
  /** Default: one node's in-memory counter; on PostgreSQL the shared one (postgres-daily-message-counter.ts). */
  readonly counter?: DailyMessageCounter;
  /** Recipients refused at RCPT (the suppression list). */
  readonly suppressions?: Pick<SuppressionList, 'find'>;
  /** Local recipients verified at RCPT; mx listeners run the checks (MtaListenerOptions.inbound). */
  readonly inbound?: MxInbound;
  /** New mail refused at MAIL while the disk is nearly full (storage.minFreeBytes). */
  readonly diskSpace?: Pick<DiskSpaceGuard, 'admits'>;
  readonly now?: () => number;
}

export interface MtaListeners {
  readonly listeners: readonly MtaListener[];
  /** Renewed mta.tls certificates for every listener's new handshakes (STARTTLS and implicit TLS). */
  reloadTls(pair: { readonly cert: string; readonly key: string }): void;
  close(): Promise<void>;
}

/** mta mode: one listener per entry of mta.listeners, all sharing the users, policy and counter. */
export async function startMtaListeners(options: StartMtaListenersOptions): Promise<MtaListeners> {
  const { config, logger } = options;
  const mta = config.mta;
  const hostname = mta.hostname;
  if (hostname === undefined) throw new Error('mta.hostname is required in mta mode'); // the schema checks it first
  const users = createUserDirectory(mta.users, { dailyMessageLimit: mta.dailyMessageLimit });
  if (users.plainPasswordUsers.length > 0) {
    logger.warn(
      { users: users.plainPasswordUsers },
      'mta.users holds plain passwords; store hashes instead (echo "$PASSWORD" | smtp-app hash-password)',
    );
  }
  const certificate = await loadCertificate({
    setting: 'mta.tls',
    certFile: mta.tls.certFile,
    keyFile: mta.tls.keyFile,
    dataDir: options.dataDir,
    hostname,
  });
  const settings = {
    localDomains: new Set(mta.localDomains),
    relayNetworks: createNetworkList(mta.relayNetworks),
    senderPolicy: mta.senderPolicy,
  };
  const counter = options.counter ?? new InMemoryDailyMessageCounter();
  const started: MtaListener[] = [];
  const closeAll = async () => {
    await Promise.all(started.map((listener) => listener.close()));
  };
  try {
    for (const listener of mta.listeners) {
      started.push(
        await startMtaListener({
          listener,
          hostname,
          settings,
          users,
          counter,
          ...(options.suppressions === undefined ? {} : { suppressions: options.suppressions }),
          sink: options.sink,
          certificate,
          limits: { maxMessageBytes: config.smtp.maxMessageBytes, maxRecipients: config.smtp.maxRecipients },
          metrics: options.metrics,
          logger,
          ...(options.inbound === undefined ? {} : { inbound: options.inbound }),
          ...(options.diskSpace === undefined ? {} : { diskSpace: options.diskSpace }),
          ...(options.now === undefined ? {} : { now: options.now }),
        }),
      );
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
  logger.info(
    {
      listeners: started.map(({ role, address }) => ({ role, host: address.address, port: address.port })),
      tls: certificate.source,
    },
    `MTA listening as ${hostname}`,
  );
  return {
    listeners: started,
    reloadTls: (pair) => {
      for (const listener of started) listener.server.reloadTls({ cert: pair.cert, key: pair.key });
    },
    close: closeAll,
  };
}
