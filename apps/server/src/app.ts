import { accessSync, constants, mkdirSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { type ServerType, serve } from '@hono/node-server';
import type { ListenerAddress } from '@smtp/server';
import type { MailboxEvent } from './capture/mailbox-event.js';
import type { MailboxIndex } from './capture/mailbox-index.js';
import { RetentionRunner } from './capture/retention-runner.js';
import { ChaosControl } from './chaos/chaos-control.js';
import type { AppConfig } from './config/config-schema.js';
import { systemClock } from './delivery/clock.js';
import type { DeliveryEvent } from './delivery/delivery-event.js';
import type { DeliveryRoom } from './delivery/delivery-room.js';
import { FinishedMailRetention } from './delivery/finished-mail-retention.js';
import { startDelivery } from './delivery/start-delivery.js';
import { type DkimKeyPair, loadOrCreateDkimKeys } from './dkim/dkim-keys.js';
import { createDkimSigningSink, signIfOurs } from './dkim/dkim-signing-sink.js';
import { dnsRecordsToPublish, formatDnsRecords } from './dkim/dns-records.js';
import { InProcessEventBus } from './events/in-process-event-bus.js';
import { createHttpApp } from './http/create-http-app.js';
import { HostAllowList } from './http/host-allow-list.js';
import { findWebRoot, loadStaticAssets } from './http/static-assets.js';
import { createForwardArcSealer, type ForwardArcSealer } from './inbound/forward-arc-sealer.js';
import { createInboundRoom, type InboundRoom } from './inbound/inbound-room.js';
import { createInboundSink } from './inbound/inbound-sink.js';
import { type RunningInboundChecks, startInboundChecks } from './inbound/start-inbound-checks.js';
import type { MtaListener } from './listeners/mta-listener.js';
import { type MtaListeners, startMtaListeners } from './listeners/start-mta-listeners.js';
import type { MessageParser } from './mime/message-parser.js';
import { ParsePool } from './mime/parse-pool.js';
import { createLogger, type Logger } from './observability/logger.js';
import { AppMetrics } from './observability/metrics.js';
import { createCapturePipeline } from './pipeline/capture-pipeline.js';
import type { IngestPipeline } from './pipeline/ingest-pipeline.js';
import { createMessageId } from './pipeline/message-id.js';
import { recoverUnparsed } from './pipeline/recover-unparsed.js';
import { Pop3ListenError, type Pop3Listener, startPop3Listener } from './pop3/pop3-listener.js';
import { readNodeId } from './postgres/node-identity.js';
import { PostgresCaptureStorage } from './postgres/postgres-capture-storage.js';
import { postgresStartupFailure } from './postgres/postgres-startup-error.js';
import { PostgresStorage } from './postgres/postgres-storage.js';
import type { DeliveryQueue, DeliveryRecord, OperatorAction } from './queue/delivery-queue.js';
import { type ReleaseMessage, releaseMessage } from './release/release-message.js';
import { CertificateReloader, type WatchedCertificate } from './smtp/certificate-reloader.js';
import { type SmtpListener, startSmtpListener } from './smtp/smtp-listener.js';
import { type CertificatePair, loadCertificate, type PemPair } from './smtp/tls-certificate.js';
import { DiskSpaceGuard } from './spool/disk-space-guard.js';
import type { MessageRepository } from './spool/message-repository.js';
import { RecentlyQueued } from './spool/recently-queued.js';
import { SqliteStorage } from './sqlite/sqlite-storage.js';
import { dataDirFailure, listenFailure, StartupError, storeFailure } from './startup-error.js';
import { connectWebhooks } from './webhooks/connect-webhooks.js';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher.js';

export interface StartAppOptions {
  readonly config: AppConfig;
  readonly logger?: Logger;
  /** Replaceable for tests of the release endpoint's error paths. */
  readonly releaseMessage?: ReleaseMessage;
  /** Serve the web UI from here instead of the built dist/web. */
  readonly webRoot?: string | null;
  /** How often certificate files are looked at for a renewal; default 60 s (tests: shorter). */
  readonly certificateCheckMs?: number;
  /** Reads the free bytes of the data directory's disk (tests: a disk that fills on demand). */
  readonly readAvailableBytes?: (path: string) => Promise<number>;
  /** How often the free disk space is read; default 5 s. */
  readonly diskCheckMs?: number;
}

export interface RunningApp {
  readonly spool: MessageRepository;
  readonly mailbox: MailboxIndex;
  readonly events: InProcessEventBus<MailboxEvent>;
  readonly pipeline: IngestPipeline;
  /** The capture listener, or in mta mode the first MTA listener. */
  readonly smtpAddress: { readonly host: string; readonly port: number };
  /** The implicit-TLS (SMTPS) capture listener (smtp.tls.implicitPort); null when there is none. */
  readonly smtpsAddress: { readonly host: string; readonly port: number } | null;
  /** The resolved data directory (the database and a generated certificate live there). */
  readonly dataDir: string;
  /** The POP3 listener (pop3.port) and the POP3S one (pop3.implicitTlsPort); null when off. */
  readonly pop3Address: { readonly host: string; readonly port: number } | null;
  readonly pop3sAddress: { readonly host: string; readonly port: number } | null;
  /** mta mode: every listener with its role; empty in capture mode. */
  readonly mtaListeners: readonly Pick<MtaListener, 'role' | 'address'>[];
  readonly httpAddress: { readonly host: string; readonly port: number };
  /** e.g. http://127.0.0.1:8025 */
  readonly httpUrl: string;
  readonly retention: RetentionRunner;
  /** Resolves when the messages a crash left unparsed are parsed again (startup recovery). */
  readonly recovered: Promise<void>;
  /** Configured certificate files (mta.tls, smtp.tls, http.tls) it reloads when they change. */
  readonly certificates: CertificateReloader;
  stop(): Promise<void>;
}

/**
 * The composition root: builds the rooms (spool and capture index over SQLite or PostgreSQL,
 * parse workers, event bus, pipeline, SMTP, HTTP, retention), wires them, and starts listening.
 * The only module that knows every room.
 */
export async function startApp(options: StartAppOptions): Promise<RunningApp> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.log.level);
  const dataDir = resolve(config.storage.dataDir);
  const databaseFile = join(dataDir, 'messages.sqlite');
  prepareDataDir(dataDir);
  const parsePool = new ParsePool(config.ingest.parseWorkers);
  let storage: SqliteStorage;
  try {
    storage = new SqliteStorage({
      path: databaseFile,
      parseCommit: config.storage.parseCommit,
      // Parses off the threads serving SMTP, HTTP and SQLite: the message view's bodies (parse) and
      // ingest (parsePorts: the writer thread's own channels to the workers).
      parse: parsePool.parse,
      parsePorts: parsePool.connect(),
      // Every later write then fails and SMTP answers 451 4.3.0, so clients keep their mail and retry.
      onWriterFailure: (error) =>
        logger.error({ err: error }, 'the SQLite writer thread stopped; writes fail'),
    });
  } catch (error) {
    await parsePool.close();
    throw storeFailure(error, databaseFile) ?? error;
  }
  const events = new InProcessEventBus<MailboxEvent>();
  // With storage.url, shared with the other nodes: the inbox and its events, and the spool (in mta
  // mode with the queue and the shared policy state, opened before anything writes there, e.g. the
  // webhook outbox; the inbox then lists the relayed mail, on the same pool).
  let shared: PostgresStorage | null = null;
  let sharedCapture: PostgresCaptureStorage | null = null;
  if (config.storage.url !== undefined) {
    try {
      if (config.mode === 'mta') {
        shared = await openShared(config.storage.url, config, logger);
        const url = config.storage.url;
        sharedCapture = await shared
          .openInbox({ url, parse: parsePool.parse, localEvents: events, onError: logPostgresError(logger) })
          .catch((error: unknown) => {
            throw postgresStartupFailure(error, url);
          });
      } else sharedCapture = await openSharedCapture(config.storage.url, parsePool.parse, events, logger);
    } catch (error) {
      await shared?.close();
      await parsePool.close();
      await storage.close();
      throw error;
    }
  }
  const spool = sharedCapture?.spool ?? storage.spool;
  const mailbox = sharedCapture?.mailbox ?? storage.mailbox;
  /** What the web UI and API see: on PostgreSQL every node's events, else this node's. */
  const inboxEvents = sharedCapture?.events ?? events;
  const metrics = new AppMetrics(mailbox);
  const pipeline = createCapturePipeline({
    spool,
    mailbox,
    events,
    tagging: config.tags,
    // An MTA lists relayed mail by its headers unless asked for more: a full parse per message
    // costs more than the rest of the relay (README, MTA performance).
    indexScope: config.mode === 'mta' && !config.mta.indexBodies ? 'headers' : 'message',
    onBackgroundError(error, context) {
      // The message is stored; it stays unparsed until the next start retries it.
      logger.error({ err: error, id: context.id }, 'could not parse or index a stored message');
    },
  });
  const retention = new RetentionRunner({
    mailbox,
    policy: { maxMessages: config.retention.maxMessages, maxAgeMs: config.retention.maxAge },
    intervalMs: config.retention.interval,
    events,
    logger,
  });

  let recovered: Promise<void> = Promise.resolve();
  let smtp: SmtpListener | null = null;
  let pop3: Pop3Listener | null = null;
  /** Capture mode: the fault injection the SMTP listener applies and the API replaces. */
  let chaos: ChaosControl | null = null;
  let mta: MtaListeners | null = null;
  let delivery: (DeliveryRoom & { close(): Promise<void> }) | null = null;
  let finishedMail: FinishedMailRetention | null = null;
  let inbound: InboundRoom | null = null;
  let inboundChecks: RunningInboundChecks | null = null;
  let smtpAddress: ListenerAddress | undefined;
  let smtpsAddress: ListenerAddress | null = null;
  let http: ServerType | null = null;
  let deliveryEvents: InProcessEventBus<DeliveryEvent> | undefined;
  /** Finished mail removed (mta.retention, or an operator's purge): the inbox and the queue are told. */
  const announcePurged = (ids: readonly string[], by: 'retention' | 'operator') => {
    events.publish({ type: 'message-deleted', ids });
    deliveryEvents?.publish({ type: 'messages-purged', messageIds: ids, by, at: Date.now() });
    logger.info({ deleted: ids.length, by }, 'finished mail removed');
  };
  // The SQLite store's disk (storage.minFreeBytes); on PostgreSQL the store is on its server's.
  const diskSpace =
    config.storage.url === undefined && config.storage.minFreeBytes > 0
      ? new DiskSpaceGuard({
          path: dataDir,
          minFreeBytes: config.storage.minFreeBytes,
          logger,
          onReading: (bytes) => metrics.freeDiskBytes.set(bytes),
          ...(options.readAvailableBytes === undefined ? {} : { readAvailable: options.readAvailableBytes }),
          ...(options.diskCheckMs === undefined ? {} : { intervalMs: options.diskCheckMs }),
        })
      : null;
  await diskSpace?.start();
  const webhooks =
    config.webhooks.length === 0
      ? null
      : new WebhookDispatcher({
          webhooks: config.webhooks,
          logger,
          // On PostgreSQL the nodes share it: a node gone for good leaves its events to the others.
          outbox:
            (shared ?? sharedCapture)?.webhookOutbox({ nodeId: readNodeId(dataDir) }) ??
            storage.webhookOutbox,
        });
  // Connected before anything can happen (recovery, delivery at start, the first message).
  const disconnectWebhooks: (() => void)[] = [];
  if (webhooks !== null) disconnectWebhooks.push(connectWebhooks(webhooks, { mailbox: events }));
  try {
    // Before listening: messages a crash left unparsed are back in the pipeline, so the API's
    // wait for pending parses covers them.
    const recovery = await recoverUnparsed({ spool, mailbox }, pipeline);
    if (recovery.count > 0) logger.info({ count: recovery.count }, 'parsing messages left unparsed');
    recovered = recovery.done.catch((error: unknown) => logger.error({ err: error }, 'recovery stopped'));
    if (config.mode === 'mta') {
      // Accepted mail is stored with one delivery per recipient through the pipeline (so it shows
      // in the web inbox too), then the scheduler delivers it; the 250 waits for that commit.
      const deliveryBus = new InProcessEventBus<DeliveryEvent>();
      deliveryEvents = deliveryBus;
      if (webhooks !== null) disconnectWebhooks.push(connectWebhooks(webhooks, { delivery: deliveryBus }));
      const queue = shared?.queue ?? storage.queue;
      metrics.observeQueue({
        countByStatus: () => queue.countByStatus(),
        subscribe: (listener) =>
          deliveryBus.subscribe((event) => {
            if (event.type !== 'delivery-attempted') return;
            const { outcome, startedAt, endedAt } = event.attempt;
            listener({ outcome, domain: event.domain, seconds: (endedAt - startedAt) / 1000 });
          }),
      });
      const hostname = config.mta.hostname ?? config.smtp.hostname;
      // mx listeners check what other MTAs send (mta.inboundChecks; README "Inbound checks").
      inboundChecks =
        config.inbound === null || !config.mta.listeners.some((listener) => listener.role === 'mx')
          ? null
          : startInboundChecks({
              settings: config.mta.inboundChecks,
              hostname,
              dnsServers: config.mta.dnsServers,
              relayNetworks: config.mta.relayNetworks,
              databaseFile,
              // On PostgreSQL a sender's retry counts on whichever node it reaches.
              ...(shared === null ? {} : { greylistStore: shared.greylist }),
              registry: metrics.registry,
              logger,
            });
      inbound =
        config.inbound === null
          ? null
          : createInboundRoom({
              inbound: config.inbound,
              localDomains: config.mta.localDomains,
              hostname,
              dataDir,
              ...(inboundChecks === null ? {} : { checks: inboundChecks.checks }),
            });
      const dkim = config.mta.dkim.enabled
        ? { localDomains: config.mta.localDomains, keys: loadDkimKeys(config, dataDir, logger) }
        : null;
      // The first delivery of a message takes its bytes from memory instead of reading them back.
      const recentlyQueued = new RecentlyQueued();
      delivery = await startDelivery({
        // On PostgreSQL the per-destination limit counts leases across nodes; a connection kept idle
        // for reuse would be a session to the MX that no lease counts, so each delivery has its own.
        config: shared === null ? config.mta : { ...config.mta, connectionReuse: false },
        ...(dkim === null ? {} : { signReport: (raw: Uint8Array) => signIfOurs(raw, dkim) }),
        events: deliveryBus,
        hostname,
        // Leases name this node alone, so a restart takes back its dead run's leases at once.
        ...(shared === null ? {} : { nodeId: readNodeId(dataDir) }),
        spool: recentlyQueued.over(shared?.spool ?? spool),
        queue,
        suppressions: shared?.suppressions ?? storage.suppressions,
        logger,
        // Through the ingest pipeline, so relayed mail is listed in the inbox too: this node's
        // SQLite one, or on PostgreSQL the one every node shows (its spool is the shared one).
        store: async (message, companionRows) => {
          const { raw } = await pipeline.accept({ ...message, companionRows });
          if (raw !== null) {
            const { id, receivedAtMs, envelope, session } = message;
            recentlyQueued.remember({ id, receivedAtMs, envelope, session, raw });
          }
          deliveryBus.publish({
            type: 'message-queued',
            messageId: message.id,
            sender: message.envelope.from,
            recipients: message.envelope.to,
            at: Date.now(),
          });
        },
        ...(inbound === null ? {} : { localDelivery: inbound.localDelivery }),
      });
      // Another node queued mail, gave a delivery back or freed a destination's slot.
      const { scheduler } = delivery;
      shared?.notifications.subscribe(() => scheduler.wake());
      if (config.mta.retention !== null) {
        // Delivered and failed mail leaves the queue and the inbox after mta.retention.
        finishedMail = new FinishedMailRetention({
          queue,
          maxAgeMs: config.mta.retention,
          clock: systemClock,
          onPurged: (ids) => announcePurged(ids, 'retention'),
          onError: (error) => logger.error({ err: error }, 'MTA retention failed'),
        });
        finishedMail.start();
      }
      const signed = dkim === null ? delivery : createDkimSigningSink(delivery, dkim);
      // Mail from mx listeners is never signed as ours; every message's local recipients are expanded.
      const sink =
        inbound === null
          ? signed
          : createInboundSink({
              postmasterDomain: config.mta.localDomains[0] ?? hostname,
              resolver: inbound.resolver,
              srs: inbound.srs,
              received: delivery,
              submitted: signed,
              ...forwardSealing(config, hostname, dkim?.keys ?? [], logger),
            });
      mta = await startMtaListeners({
        ...(diskSpace === null ? {} : { diskSpace }),
        config,
        dataDir,
        sink,
        ...(inbound === null
          ? {}
          : {
              inbound: {
                resolver: inbound.resolver,
                checks: inbound.checks,
                ...(inboundChecks === null ? {} : { connectionDefences: inboundChecks.connectionDefences }),
              },
            }),
        metrics,
        logger,
        suppressions: shared?.suppressions ?? storage.suppressions,
        // On PostgreSQL the daily limit counts every node's messages.
        ...(shared === null ? {} : { counter: shared.dailyMessages }),
      });
    } else {
      const certificate =
        config.smtp.tls.starttls || config.smtp.tls.required || config.smtp.tls.implicitPort !== undefined
          ? await loadCertificate({
              setting: 'smtp.tls',
              certFile: config.smtp.tls.certFile,
              keyFile: config.smtp.tls.keyFile,
              dataDir,
              hostname: config.smtp.hostname,
            })
          : null;
      chaos = new ChaosControl({ settings: config.chaos, logger, registry: metrics.registry });
      smtp = await startSmtpListener({
        ...(diskSpace === null ? {} : { diskSpace }),
        config: config.smtp,
        pipeline,
        metrics,
        logger,
        certificate,
        chaos,
      }).catch((error: unknown) => {
        throw listenFailure(error, { name: 'SMTP', host: config.smtp.host, port: config.smtp.port }) ?? error;
      });
      const { implicitPort } = config.smtp.tls;
      if (implicitPort !== undefined) {
        smtpsAddress = await smtp.listenImplicitTls(implicitPort).catch((error: unknown) => {
          throw listenFailure(error, { name: 'SMTPS', host: config.smtp.host, port: implicitPort }) ?? error;
        });
      }
      pop3 = await startPop3(config, { mailbox, spool, events, logger, dataDir });
    }
    smtpAddress = smtp?.address ?? mta?.listeners[0]?.address;
    if (smtpAddress === undefined) throw new Error('no SMTP listener started'); // mta.listeners has at least one
    const app = createHttpApp({
      spool,
      mailbox,
      ingest: pipeline,
      events: inboxEvents,
      metrics,
      logger,
      releaseMessage: options.releaseMessage ?? releaseMessage,
      releaseAllowedHosts: config.release.allowedHosts.map((host) =>
        host.toLowerCase().replace(/^\[(.*)\]$/, '$1'),
      ),
      hostAllowList: new HostAllowList({ bindHost: config.http.host, extraHosts: config.http.allowedHosts }),
      users: config.http.auth.users,
      // POST /api/v1/send: through the same pipeline as SMTP (stored, then parsed and announced).
      async storeComposed(message) {
        const receivedAtMs = Date.now();
        const context = await pipeline.accept({
          id: createMessageId(receivedAtMs),
          receivedAtMs,
          envelope: {
            from: message.from,
            to: [...message.to],
            mailParameters: {},
            rcptParameters: message.to.map(() => ({})),
          },
          session: null,
          source: message.source,
        });
        return context.id;
      },
      ...(chaos === null ? {} : { chaos }),
      relay: config.relay,
      linkCheck: config.linkCheck,
      smtpListeners: {
        smtp: { host: smtpAddress.address, port: smtpAddress.port },
        smtps: smtpsAddress === null ? null : { host: smtpsAddress.address, port: smtpsAddress.port },
        pop3: pop3?.address ?? null,
        pop3s: pop3?.implicitTlsAddress ?? null,
      },
      assets: loadStaticAssets(options.webRoot === undefined ? findWebRoot() : options.webRoot),
      ...(delivery === null
        ? {}
        : {
            queue: {
              ...queueRoutesFor(shared?.queue ?? storage.queue, delivery),
              onPurged: (ids: readonly string[]) => announcePurged(ids, 'operator'),
              ...(deliveryEvents === undefined ? {} : { events: deliveryEvents }),
            },
            suppressions: shared?.suppressions ?? storage.suppressions,
          }),
      ...(delivery === null || inbound === null
        ? {}
        : { inbound: { log: shared?.inbound ?? storage.inbound, queue: shared?.queue ?? storage.queue } }),
    });
    const httpsCertificate = config.http.tls.enabled
      ? await loadCertificate({
          setting: 'http.tls',
          certFile: config.http.tls.certFile,
          keyFile: config.http.tls.keyFile,
          dataDir,
          hostname: config.smtp.hostname,
        })
      : null;
    http = await listenHttp(app.fetch, config.http.host, config.http.port, httpsCertificate).catch(
      (error: unknown) => {
        throw listenFailure(error, { name: 'HTTP', host: config.http.host, port: config.http.port }) ?? error;
      },
    );
  } catch (error) {
    diskSpace?.stop();
    await finishedMail?.stop();
    await webhooks?.close();
    await smtp?.close();
    await pop3?.close();
    await mta?.close();
    inboundChecks?.stop();
    await delivery?.close();
    await shared?.close();
    await pipeline.settled({ timeoutMs: 10_000 });
    await sharedCapture?.close();
    await parsePool.close();
    await storage.close();
    // A corrupt page may show only when recovery first reads past the header.
    throw error instanceof StartupError ? error : (storeFailure(error, databaseFile) ?? error);
  }
  // Events an earlier run left on their way (a stop, a crash) are posted again, in the background.
  void webhooks
    ?.resume()
    .catch((error: unknown) => logger.error({ err: error }, 'webhook events of the last run not resumed'));
  // Retention prunes the oldest messages: in MTA mode that could take a queued message's bytes,
  // so it runs in capture mode only (in MTA mode the queue's FinishedMailRetention prunes).
  if (config.mode !== 'mta') retention.start();

  // Renewed certificates are served without a restart: looked for every minute, and on SIGHUP.
  const certificates = new CertificateReloader({
    certificates: watchedCertificates(config, { mta, smtp, pop3, http }),
    logger,
    ...(options.certificateCheckMs === undefined ? {} : { intervalMs: options.certificateCheckMs }),
    onExpiry: (setting, notAfter) => metrics.certificateExpiry.set({ setting }, notAfter.getTime() / 1000),
  });
  await certificates.start();

  const httpInfo = http.address() as AddressInfo;
  const httpHost = httpInfo.family === 'IPv6' ? `[${httpInfo.address}]` : httpInfo.address;
  const running: RunningApp = {
    spool,
    mailbox,
    events,
    pipeline,
    smtpAddress: { host: smtpAddress.address, port: smtpAddress.port },
    smtpsAddress: smtpsAddress === null ? null : { host: smtpsAddress.address, port: smtpsAddress.port },
    dataDir,
    pop3Address: pop3?.address ?? null,
    pop3sAddress: pop3?.implicitTlsAddress ?? null,
    mtaListeners: mta?.listeners.map(({ role, address }) => ({ role, address })) ?? [],
    httpAddress: { host: httpInfo.address, port: httpInfo.port },
    httpUrl: `${config.http.tls.enabled ? 'https' : 'http'}://${httpHost}:${httpInfo.port}`,
    retention,
    recovered,
    certificates,
    async stop() {
      certificates.stop();
      diskSpace?.stop();
      await retention.stop();
      await finishedMail?.stop();
      await smtp?.close();
      await pop3?.close();
      await mta?.close();
      inboundChecks?.stop();
      // In-flight deliveries finish (or are aborted and deferred); leased ones go back to the queue.
      await delivery?.close();
      // Let accepted messages finish parsing; any that do not are redone at the next start.
      await pipeline.settled({ timeoutMs: 10_000 });
      // After the last events: what is still waiting for a retry stays in the outbox for the next start.
      for (const disconnect of disconnectWebhooks) disconnect();
      await webhooks?.close();
      // After the webhooks: on PostgreSQL their outbox's last writes go there.
      await shared?.close();
      await new Promise<void>((resolveClose) => {
        http?.close(() => resolveClose());
        // SSE streams keep connections open; end them so close() can finish.
        if (http !== null && 'closeAllConnections' in http) http.closeAllConnections();
      });
      await sharedCapture?.close();
      await parsePool.close();
      await storage.close();
    },
  };
  logger.info(
    {
      smtp: running.smtpAddress,
      ...(running.smtpsAddress === null ? {} : { smtps: running.smtpsAddress }),
      ...(running.pop3Address === null ? {} : { pop3: running.pop3Address }),
      ...(running.pop3sAddress === null ? {} : { pop3s: running.pop3sAddress }),
      http: running.httpUrl,
      dataDir,
      tls: certificate(config),
    },
    `${config.mode === 'mta' ? 'MTA mode: queueing and delivering mail' : 'capturing mail'} on smtp://${smtpAddress.address}:${smtpAddress.port}, inbox at ${running.httpUrl}`,
  );
  return running;
}

/**
 * The POP3 listener when pop3.port or pop3.implicitTlsPort is set (capture mode): STLS and POP3S
 * use the SMTP certificate (smtp.tls files, or the generated one).
 */
async function startPop3(
  config: AppConfig,
  rooms: Pick<Parameters<typeof startPop3Listener>[0], 'mailbox' | 'spool' | 'events' | 'logger'> & {
    readonly dataDir: string;
  },
): Promise<Pop3Listener | null> {
  const settings = config.pop3;
  if (settings.port === undefined && settings.implicitTlsPort === undefined) return null;
  const certificate = await loadCertificate({
    setting: 'smtp.tls',
    certFile: config.smtp.tls.certFile,
    keyFile: config.smtp.tls.keyFile,
    dataDir: rooms.dataDir,
    hostname: config.smtp.hostname,
  });
  if (settings.allowPlaintext) {
    rooms.logger.warn('pop3.allowPlaintext: POP3 passwords may cross the network unencrypted');
  }
  try {
    return await startPop3Listener({
      ...rooms,
      config: settings,
      users: settings.users.length > 0 ? settings.users : config.http.auth.users,
      certificate,
    });
  } catch (error) {
    if (!(error instanceof Pop3ListenError)) throw error;
    throw (
      listenFailure(error.cause, { name: error.listener, host: settings.host, port: error.port }) ??
      error.cause
    );
  }
}

/** Creates the data directory and checks that it is writable: the database and a generated certificate live there. */
function prepareDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true });
    accessSync(dataDir, constants.W_OK);
  } catch (error) {
    throw dataDirFailure(error, dataDir) ?? error;
  }
}

function certificate(config: AppConfig): string {
  if (config.mode === 'mta') return config.mta.tls.certFile ?? 'self-signed'; // every MTA listener has TLS
  const hasTls = config.smtp.tls.starttls || config.smtp.tls.implicitPort !== undefined;
  return hasTls ? (config.smtp.tls.certFile ?? 'self-signed') : 'off';
}

/**
 * The certificates given as files, each with the servers that use it. A generated (self-signed) one
 * is never renewed; a listener without TLS has nothing to reload.
 */
function watchedCertificates(
  config: AppConfig,
  servers: {
    readonly mta: MtaListeners | null;
    readonly smtp: SmtpListener | null;
    readonly pop3: Pop3Listener | null;
    readonly http: ServerType | null;
  },
): WatchedCertificate[] {
  const watched: WatchedCertificate[] = [];
  const files = (tls: { readonly certFile?: string | undefined; readonly keyFile?: string | undefined }) =>
    tls.certFile === undefined || tls.keyFile === undefined
      ? null
      : { certFile: tls.certFile, keyFile: tls.keyFile };
  const { mta, smtp, pop3, http } = servers;
  const mtaFiles = files(config.mta.tls);
  if (config.mode === 'mta' && mta !== null && mtaFiles !== null)
    watched.push({ setting: 'mta.tls', ...mtaFiles, apply: (pair) => mta.reloadTls(pair) });
  const smtpFiles = files(config.smtp.tls);
  const smtpHasTls =
    smtp !== null &&
    (config.smtp.tls.starttls || config.smtp.tls.required || config.smtp.tls.implicitPort !== undefined);
  if (smtpFiles !== null && (smtpHasTls || pop3 !== null))
    watched.push({
      setting: 'smtp.tls',
      ...smtpFiles,
      apply: (pair: PemPair) => {
        if (smtpHasTls) smtp?.server.reloadTls({ cert: pair.cert, key: pair.key });
        pop3?.reloadTls(pair);
      },
    });
  const httpFiles = files(config.http.tls);
  if (config.http.tls.enabled && http !== null && httpFiles !== null)
    watched.push({
      setting: 'http.tls',
      ...httpFiles,
      apply: (pair) => (http as HttpsServer).setSecureContext({ cert: pair.cert, key: pair.key }),
    });
  return watched;
}

/** The web UI and API over HTTP, or HTTPS when given a certificate (http.tls). */
function listenHttp(
  fetch: Parameters<typeof serve>[0]['fetch'],
  hostname: string,
  port: number,
  certificate: CertificatePair | null,
): Promise<ServerType> {
  return new Promise((resolveListen, reject) => {
    const tls =
      certificate === null
        ? {}
        : {
            createServer: createHttpsServer,
            serverOptions: { cert: certificate.cert, key: certificate.key },
          };
    const server = serve({ fetch, hostname, port, ...tls }, () => resolveListen(server));
    server.once('error', reject);
  });
}

/** The queue's routes: actions that make deliveries due wake the scheduler. */
function queueRoutesFor(queue: DeliveryQueue, delivery: DeliveryRoom) {
  return {
    queue,
    onAction: (action: OperatorAction, deliveries: readonly DeliveryRecord[]) => {
      if (action === 'retry-now' || action === 'release') delivery.scheduler.wake();
      if (action === 'bounce') void delivery.reportBounced(deliveries);
    },
  };
}

/** The spool and queue on PostgreSQL, migrated; a database that cannot be used stops the start. */
async function openShared(url: string, config: AppConfig, logger: Logger): Promise<PostgresStorage> {
  try {
    return await PostgresStorage.open({
      url,
      destinationLimit: config.storage.destinationConcurrency,
      ...(config.storage.destinationRate === undefined
        ? {}
        : { destinationRate: config.storage.destinationRate }),
      onError: logPostgresError(logger),
    });
  } catch (error) {
    throw postgresStartupFailure(error, url);
  }
}

/** A PostgreSQL connection that failed (the pool and the LISTEN connections reconnect): logged. */
function logPostgresError(logger: Logger): (error: Error, context: string) => void {
  return (error, context) =>
    logger.warn({ err: error, component: 'postgres', context }, 'a PostgreSQL connection failed');
}

/** Capture mode's spool, inbox and events on PostgreSQL, migrated; a database that cannot be used stops the start. */
async function openSharedCapture(
  url: string,
  parse: MessageParser,
  localEvents: InProcessEventBus<MailboxEvent>,
  logger: Logger,
): Promise<PostgresCaptureStorage> {
  try {
    return await PostgresCaptureStorage.open({
      url,
      parse,
      localEvents,
      onError: logPostgresError(logger),
    });
  } catch (error) {
    throw postgresStartupFailure(error, url);
  }
}

/**
 * ARC sealing of forwarded mail (RFC 8617) with the DKIM RSA key, d= the local domain the host name
 * is in (else the first local domain); without an RSA key, forwards go unsealed and the log says so.
 */
function forwardSealing(
  config: AppConfig,
  hostname: string,
  keys: readonly DkimKeyPair[],
  logger: Logger,
): { sealForward?: ForwardArcSealer } {
  const rsa = keys.find((key) => key.algorithm === 'rsa');
  const host = hostname.toLowerCase();
  const domain =
    config.mta.localDomains.find((local) => host === local || host.endsWith(`.${local}`)) ??
    config.mta.localDomains[0];
  if (rsa === undefined || domain === undefined) {
    logger.info('ARC sealing of forwarded mail is off: no DKIM RSA key (mta.dkim) or no local domain');
    return {};
  }
  return {
    sealForward: createForwardArcSealer({
      domain,
      selector: rsa.selector,
      privateKey: rsa.privateKey,
      authservId: hostname,
      logger,
    }),
  };
}

/** The DKIM keys, made on first start; then the DNS records to publish are printed once. */
function loadDkimKeys(config: AppConfig, dataDir: string, logger: Logger) {
  const selectors = { rsa: config.mta.dkim.rsaSelector, ed25519: config.mta.dkim.ed25519Selector };
  const { keys, created } = loadOrCreateDkimKeys(join(dataDir, 'dkim'), selectors);
  if (created && config.mta.localDomains.length > 0) {
    const publicKey = (algorithm: 'rsa' | 'ed25519') =>
      keys.find((key) => key.algorithm === algorithm)?.publicKeyValue ?? '';
    const records = dnsRecordsToPublish({
      hostname: config.mta.hostname ?? config.smtp.hostname,
      domains: config.mta.localDomains,
      selectors,
      keys: { rsa: publicKey('rsa'), ed25519: publicKey('ed25519') },
    });
    logger.info(
      { dkimKeys: keys.map((key) => key.path) },
      `DKIM keys created; publish these DNS records:\n${formatDnsRecords(records)}`,
    );
  }
  return keys;
}
