import type { ServerMetricsSnapshot } from '@smtp/server';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { MailboxIndex } from '../capture/mailbox-index.js';

export type RejectReason = 'auth' | 'too-large' | 'policy' | 'storage' | 'protocol';

/**
 * Prometheus metrics (prom-client, the standard Node client). Mailbox gauges are read on scrape so
 * they are never stale and cost nothing between scrapes.
 */
export class AppMetrics {
  readonly registry = new Registry();
  readonly messagesReceived = new Counter({
    name: 'smtp_messages_received_total',
    help: 'Messages accepted and stored',
    registers: [this.registry],
  });
  readonly messageBytes = new Counter({
    name: 'smtp_message_bytes_total',
    help: 'Bytes of messages accepted and stored',
    registers: [this.registry],
  });
  readonly sessions = new Counter({
    name: 'smtp_sessions_total',
    help: 'SMTP connections accepted',
    registers: [this.registry],
  });
  readonly activeSessions = new Gauge({
    name: 'smtp_sessions_active',
    help: 'SMTP connections open now',
    registers: [this.registry],
  });
  readonly certificateExpiry = new Gauge({
    name: 'tls_certificate_expiry_timestamp_seconds',
    help: 'When the TLS certificate in use expires (Unix time), per configured setting (mta.tls, smtp.tls, http.tls)',
    labelNames: ['setting'] as const,
    registers: [this.registry],
  });
  readonly freeDiskBytes = new Gauge({
    name: 'storage_free_bytes',
    help: 'Free space on the data directory file system (storage.minFreeBytes refuses mail below it)',
    registers: [this.registry],
  });
  readonly rejects = new Counter({
    name: 'smtp_rejects_total',
    help: 'Commands or messages refused, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly ingestSeconds = new Histogram({
    name: 'smtp_ingest_duration_seconds',
    help: 'Time from end of DATA to durable storage',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  readonly httpRequestSeconds = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'API and UI request latency',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  constructor(mailbox: Pick<MailboxIndex, 'stats'>) {
    collectDefaultMetrics({ register: this.registry });
    const statsOnScrape = () => mailbox.stats();
    let pending: ReturnType<typeof statsOnScrape> | null = null;
    // One stats() per scrape, shared by the gauges below.
    const stats = () => {
      pending ??= statsOnScrape().finally(() => {
        setImmediate(() => {
          pending = null;
        });
      });
      return pending;
    };
    new Gauge({
      name: 'store_messages',
      help: 'Messages held in the store',
      registers: [this.registry],
      async collect() {
        this.set((await stats()).messageCount);
      },
    });
    new Gauge({
      name: 'store_unread_messages',
      help: 'Unread messages held in the store',
      registers: [this.registry],
      async collect() {
        this.set((await stats()).unreadCount);
      },
    });
    new Gauge({
      name: 'store_message_bytes',
      help: 'Bytes of raw messages held in the store',
      registers: [this.registry],
      async collect() {
        this.set((await stats()).rawBytes);
      },
    });
    new Gauge({
      name: 'store_disk_bytes',
      help: 'Size of the store on disk',
      registers: [this.registry],
      async collect() {
        this.set((await stats()).diskBytes);
      },
    });
  }

  /**
   * MTA mode: queue depth by delivery status (read on scrape from the queue, never stale), and
   * attempts by outcome and destination, fed by the delivery events.
   */
  observeQueue(options: {
    readonly countByStatus: () => Promise<Readonly<Record<string, number>>>;
    readonly subscribe: (
      listener: (attempt: { outcome: string; domain: string; seconds: number }) => void,
    ) => void;
  }): void {
    new Gauge({
      name: 'mta_queue_deliveries',
      help: 'Deliveries in the queue, by status',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        for (const [status, count] of Object.entries(await options.countByStatus()))
          this.set({ status }, count);
      },
    });
    const attempts = new Counter({
      name: 'mta_delivery_attempts_total',
      help: 'Delivery attempts, by outcome and destination domain',
      labelNames: ['outcome', 'domain'] as const,
      registers: [this.registry],
    });
    const latency = new Histogram({
      name: 'mta_delivery_attempt_duration_seconds',
      help: 'Time one delivery attempt took (DNS, connection, transaction)',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [this.registry],
    });
    options.subscribe(({ outcome, domain, seconds }) => {
      attempts.inc({ outcome, domain });
      latency.observe(seconds);
    });
  }

  /**
   * Mirrors what @smtp/server counts on its own (the core's refusals, TLS failures, timeouts),
   * read on scrape: rejects the app never sees still show up.
   */
  observeSmtpServer(snapshot: () => ServerMetricsSnapshot): void {
    const mirror = (name: string, help: string, key: keyof ServerMetricsSnapshot) =>
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset();
          this.inc(snapshot()[key]);
        },
      });
    mirror(
      'smtp_commands_rejected_total',
      'Commands the protocol core refused on its own',
      'commandsRejected',
    );
    mirror('smtp_recipients_rejected_total', 'Recipients refused', 'recipientsRejected');
    mirror('smtp_auth_failures_total', 'Failed authentications', 'authFailed');
    mirror('smtp_tls_failures_total', 'Failed TLS handshakes', 'tlsFailures');
    mirror('smtp_timeouts_total', 'Sessions closed by a timeout', 'timeouts');
    mirror('smtp_connections_refused_total', 'Connections refused by limits', 'connectionsRefused');
  }
}
