import { ReportSpooler } from '../bounce/report-spooler.js';
import type { EventBus } from '../events/event-bus.js';
import type { DeliveryQueue, DeliveryRecord } from '../queue/delivery-queue.js';
import { createQueueSink, type MessageForDelivery, type QueueSinkOptions } from '../queue/queue-sink.js';
import { defaultRetryPolicy, type RetryPolicy } from '../queue/retry-policy.js';
import type { MessageRepository } from '../spool/message-repository.js';
import type { SuppressionList } from '../suppression/suppression-list.js';
import { type Clock, systemClock } from './clock.js';
import type { DeliveryEvent } from './delivery-event.js';
import type { WindowOptions } from './destination-window.js';
import { OutcomeRecorder } from './outcome-recorder.js';
import { DeliveryScheduler } from './scheduler.js';
import type { DeliveryTransport } from './transports/delivery-transport.js';

export interface DeliveryRoomOptions {
  readonly spool: MessageRepository;
  readonly queue: DeliveryQueue;
  readonly transport: DeliveryTransport;
  /** mta.hostname: Reporting-MTA of DSNs, Postmaster's domain. */
  readonly hostname: string;
  /**
   * This node's id on a shared queue (postgres/node-identity.ts): leases are held as
   * `<hostname>/<nodeId>:<pid>`, so at start the node requeues its own dead run's leases while
   * siblings under the same host name keep theirs. Without it one process per queue and host name
   * is assumed (SQLite), and leases are held as `<hostname>:<pid>`.
   */
  readonly nodeId?: string;
  readonly retryPolicy?: RetryPolicy;
  readonly clock?: Clock;
  /** Jitter source for the retry schedule, uniform in [0, 1). */
  readonly random?: () => number;
  readonly events?: EventBus<DeliveryEvent>;
  /** Hard 5.1.x recipient failures are added here (OutcomeRecorder). */
  readonly suppressions?: SuppressionList;
  readonly leaseMs?: number;
  /** Leased deliveries held in memory at most (SchedulerOptions.maxLeased). */
  readonly maxLeased?: number;
  readonly window?: WindowOptions;
  /** Per destination domain (SchedulerOptions.windowFor). */
  readonly windowFor?: (domain: string) => WindowOptions;
  readonly onProblem?: (problem: string, details: Record<string, unknown>) => void;
  /** DKIM-signs the DSNs this room generates (ReportSpoolerOptions.sign). */
  readonly signReport?: (raw: Uint8Array) => Uint8Array;
  /** How accepted messages are stored with their deliveries (QueueSinkOptions.store). */
  readonly store?: QueueSinkOptions['store'];
}

export interface DeliveryRoom {
  /** Accepted outbound mail goes here (the MTA listeners' sink). */
  accept(message: MessageForDelivery): Promise<void>;
  readonly scheduler: DeliveryScheduler;
  /** After an operator's `bounce`: the failure reports the senders asked for. */
  reportBounced(deliveries: readonly DeliveryRecord[]): Promise<void>;
  start(): Promise<void>;
  stop(options?: { readonly graceMs?: number }): Promise<void>;
}

/**
 * The delivery side wired together: queue sink → scheduler → transport → outcomes (queue update,
 * DSNs spooled back into the queue). The composition root builds one; tests build their own with
 * a fake clock and a transport pointed at their peers.
 */
export function createDeliveryRoom(options: DeliveryRoomOptions): DeliveryRoom {
  const clock = options.clock ?? systemClock;
  const holderPrefix =
    options.nodeId === undefined ? `${options.hostname}:` : `${options.hostname}/${options.nodeId}:`;
  let scheduler: DeliveryScheduler | null = null;
  const wake = () => scheduler?.wake();
  const reports = new ReportSpooler({
    spool: options.spool,
    hostname: options.hostname,
    onSpooled: wake,
    ...(options.signReport === undefined ? {} : { sign: options.signReport }),
  });
  const outcomes = new OutcomeRecorder({
    queue: options.queue,
    spool: options.spool,
    reports,
    retryPolicy: options.retryPolicy ?? defaultRetryPolicy,
    clock,
    ...(options.random === undefined ? {} : { random: options.random }),
    ...(options.events === undefined ? {} : { events: options.events }),
    ...(options.onProblem === undefined ? {} : { onProblem: options.onProblem }),
    ...(options.suppressions === undefined ? {} : { suppressions: options.suppressions }),
  });
  scheduler = new DeliveryScheduler({
    queue: options.queue,
    spool: options.spool,
    transport: options.transport,
    outcomes,
    clock,
    holder: `${holderPrefix}${process.pid}`,
    // Another holder with our prefix is a dead run of this node (one process per prefix).
    abandonedHolderPrefix: holderPrefix,
    onAbandoned: (count) =>
      options.onProblem?.(
        'deliveries an earlier run left in flight are queued again; any the remote accepted before the crash are sent twice',
        { deliveries: count },
      ),
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    ...(options.maxLeased === undefined ? {} : { maxLeased: options.maxLeased }),
    ...(options.window === undefined ? {} : { window: options.window }),
    ...(options.windowFor === undefined ? {} : { windowFor: options.windowFor }),
    onError: (error, context) =>
      options.onProblem?.('delivery error', {
        context,
        error: error instanceof Error ? error.message : String(error),
      }),
  });
  // New deliveries are leased to this scheduler as they are stored, where the store can (SQLite).
  options.queue.leaseOnInsert?.(scheduler.insertLeases);
  const sink = createQueueSink({
    spool: options.spool,
    postmasterDomain: options.hostname,
    onStoring: (messageId) => scheduler?.storing(messageId),
    onQueued: (messageId) => scheduler?.queued(messageId),
    ...(options.store === undefined ? {} : { store: options.store }),
  });
  const running = scheduler;
  return {
    accept: (message) => sink.accept(message),
    scheduler: running,
    reportBounced: (deliveries) => outcomes.reportBounced(deliveries),
    async start() {
      const reported = await outcomes.reportUnreported();
      if (reported > 0)
        options.onProblem?.('failure reports queued after a restart', { deliveries: reported });
      await running.start();
    },
    stop: (stopOptions) => running.stop(stopOptions),
  };
}
