import type { SmtpServerOptions } from '@smtp/server';
import type { InboundChecksConfig } from '../config/inbound-checks-schema.js';
import type { Logger } from '../observability/logger.js';
import { createNetworkList } from '../policy/network-list.js';
import { openGreylistConnection, SqliteGreylistStore } from '../sqlite/sqlite-greylist-store.js';
import { connectionDefences } from './checks/connection-defences.js';
import { createDnsLookup } from './checks/dns-lookup.js';
import type { GreylistStore } from './checks/greylist-store.js';
import { InboundCheckMetrics } from './checks/inbound-check-metrics.js';
import { InboundChecks as InboundCheckRunner } from './checks/inbound-checks.js';
import { MessageRateLimit } from './checks/message-rate-limit.js';
import { createChecksStage } from './checks-stage.js';
import type { InboundChecks } from './inbound-checks.js';

export interface StartInboundChecksOptions {
  /** mta.inboundChecks. */
  readonly settings: InboundChecksConfig;
  /** mta.hostname: the default authserv-id and our name in SPF comments. */
  readonly hostname: string;
  /** mta.dnsServers (empty: the system's resolvers). */
  readonly dnsServers: readonly string[];
  readonly relayNetworks: readonly string[];
  /** The app's SQLite file: greylisting gets a connection of its own to it, unless `greylistStore`. */
  readonly databaseFile: string;
  /** Greylisting shared by several nodes (PostgreSQL, storage.url); default this node's SQLite file. */
  readonly greylistStore?: GreylistStore;
  readonly registry: ConstructorParameters<typeof InboundCheckMetrics>[0];
  readonly logger: Logger;
  readonly now?: () => number;
  /** How often greylisting entries older than greylisting.maxAge are pruned; default daily. */
  readonly pruneIntervalMs?: number;
}

export interface RunningInboundChecks {
  /** The seam the mx listeners call. */
  readonly checks: InboundChecks;
  /** The mx listeners' pre-greeting pause and tarpit (mta.inboundChecks.connection). */
  readonly connectionDefences: Pick<SmtpServerOptions, 'earlyTalker' | 'tarpit'>;
  stop(): void;
}

const dayMs = 24 * 60 * 60 * 1000;

/** The inbound checks for the mx listeners from `mta.inboundChecks`, with greylisting pruned on a timer. */
export function startInboundChecks(options: StartInboundChecksOptions): RunningInboundChecks {
  const { settings, logger } = options;
  const greylist = openGreylist(options);
  const runner = new InboundCheckRunner({
    settings,
    authservId: settings.authservId ?? options.hostname,
    hostname: options.hostname,
    lookup: createDnsLookup({ servers: options.dnsServers }),
    greylistStore: greylist.store,
    now: options.now ?? Date.now,
    metrics: new InboundCheckMetrics(options.registry),
  });
  const prune = () => {
    runner
      .pruneGreylist()
      .then((count) => {
        if (count > 0) logger.info({ count }, 'pruned old greylisting entries');
      })
      .catch((error: unknown) => logger.error({ err: error }, 'could not prune greylisting entries'));
  };
  const timer = settings.greylisting.enabled ? setInterval(prune, options.pruneIntervalMs ?? dayMs) : null;
  timer?.unref();
  return {
    checks: createChecksStage({
      runner,
      relayNetworks: createNetworkList(options.relayNetworks),
      ...(settings.connection.maxMessagesPerMinutePerIp > 0
        ? { messageRate: new MessageRateLimit(settings.connection.maxMessagesPerMinutePerIp, options.now) }
        : {}),
    }),
    connectionDefences: connectionDefences(settings.connection),
    stop() {
      if (timer !== null) clearInterval(timer);
      greylist.close();
    },
  };
}

/** The shared greylisting store when given, else one on a connection of its own to the app's SQLite file. */
function openGreylist(options: StartInboundChecksOptions): { readonly store: GreylistStore; close(): void } {
  if (options.greylistStore !== undefined) return { store: options.greylistStore, close() {} };
  const connection = openGreylistConnection(options.databaseFile);
  return { store: new SqliteGreylistStore(connection), close: () => connection.close() };
}
