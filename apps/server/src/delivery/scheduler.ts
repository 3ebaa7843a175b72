import { setMaxListeners } from 'node:events';
import type { DeliveryQueue, InsertLeases, LeasedDelivery } from '../queue/delivery-queue.js';
import type { MessageRepository } from '../spool/message-repository.js';
import type { Clock } from './clock.js';
import {
  type DestinationWindow,
  defaultWindowOptions,
  finish,
  isAtRest,
  newDestinationWindow,
  tryStart,
  type WindowOptions,
} from './destination-window.js';
import type { OutcomeRecorder } from './outcome-recorder.js';
import type { DeliveryTransport, TransportJob, TransportResult } from './transports/delivery-transport.js';

export interface SchedulerOptions {
  readonly queue: DeliveryQueue;
  readonly spool: MessageRepository;
  readonly transport: DeliveryTransport;
  readonly outcomes: OutcomeRecorder;
  readonly clock: Clock;
  /** This worker's name on its leases (queue page, logs): `<node>:<pid>` in the app. */
  readonly holder: string;
  /**
   * Leases held by `<abandonedHolderPrefix>…` (an earlier run of this node, killed) come back at
   * start at once instead of after their expiry. Unset: only expired leases do.
   */
  readonly abandonedHolderPrefix?: string;
  /** How long a lease lasts: a worker that crashes gives its deliveries back after this. Default 10 min. */
  readonly leaseMs?: number;
  /** Deliveries leased per claim. Default 100. */
  readonly batchSize?: number;
  /** Leased deliveries held in memory at most (ready + in flight). Default 1000. */
  readonly maxLeased?: number;
  /** How often expired leases are put back in the queue. Default 1 min. */
  readonly requeueEveryMs?: number;
  readonly window?: WindowOptions;
  /** Per destination domain (mta.destinations), over `window`; asked when a destination is first held. */
  readonly windowFor?: (domain: string) => WindowOptions;
  readonly onError?: (error: unknown, context: string) => void;
  /** Told how many deliveries an earlier run left in flight (logged: they may be sent twice). */
  readonly onAbandoned?: (count: number) => void;
}

/** One message's recipients at one destination: one SMTP transaction. */
interface ReadyMessage {
  readonly messageId: string;
  readonly deliveries: LeasedDelivery[];
}

interface Destination {
  window: DestinationWindow;
  /** Its window's settings (mta.destinations), fixed while it is held. */
  readonly options: WindowOptions;
  readonly ready: ReadyMessage[];
  /** When a rate limit lets the next session start. */
  retryAt: number | null;
}

/**
 * The scheduler (GUIDE §2.8): leases due deliveries from the queue in batches and keeps them in
 * per-destination ready lists, bounded by `maxLeased`; starts a session per (message, destination)
 * as the destination's window (destination-window.ts: slow start, back-off, down) allows; hands
 * the result to the outcomes room. It never polls per message: it claims when woken (a message was
 * queued in this process, a session ended) and sets one timer for the earliest of the next due
 * delivery and the next rate-limit slot. Memory is rebuilt from the queue at start.
 */
export class DeliveryScheduler {
  readonly #options: SchedulerOptions;
  readonly #leaseMs: number;
  readonly #batchSize: number;
  readonly #maxLeased: number;
  readonly #windowOptionsFor: (domain: string) => WindowOptions;
  readonly #destinations = new Map<string, Destination>();
  readonly #sessions = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #leased = 0;
  #isRunning = false;
  #isPumping = false;
  #pumpAgain = false;
  /** Messages the queue sink is storing now (storing() … queued()): leased at insert if room. */
  readonly #storing = new Set<string>();
  /** Deliveries leased at insert, waiting for their message's queued(). */
  readonly #adopted = new Map<
    string,
    { readonly deliveries: LeasedDelivery[]; readonly isComplete: boolean }
  >();
  /**
   * Whether a claim could find due deliveries not leased here. Cleared by a claim that found fewer
   * than it asked for, unless wake() was called meanwhile (`#dueSignals` moved).
   */
  #mayHaveDue = true;
  #dueSignals = 0;
  #cancelWake: (() => void) | null = null;
  /** When the wake-up timer fires; null when none is set. */
  #wakeAt: number | null = null;
  #cancelRequeue: (() => void) | null = null;
  #idleWaiters: (() => void)[] = [];

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#leaseMs = options.leaseMs ?? 10 * 60_000;
    this.#batchSize = options.batchSize ?? 100;
    this.#maxLeased = options.maxLeased ?? 1000;
    const window = options.window ?? defaultWindowOptions;
    this.#windowOptionsFor = options.windowFor ?? (() => window);
    // Every running session listens on this one signal (a few listeners each): no leak to warn of.
    setMaxListeners(0, this.#abort.signal);
  }

  /** Deliveries leased and held in memory now (ready or in a session). */
  get leasedCount(): number {
    return this.#leased;
  }

  /**
   * Leasing at insert (DeliveryQueue.leaseOnInsert): the deliveries of a message announced by
   * storing() are leased to this scheduler in the transaction that stores them, within `maxLeased`,
   * and start at its queued(), without a claim of their own. Other inserts (DSNs, other writers)
   * stay queued for claimDue.
   */
  readonly insertLeases: InsertLeases = {
    request: (messageId, deliveryCount) => {
      if (!this.#isRunning || !this.#storing.has(messageId)) return null;
      if (this.#leased + deliveryCount > this.#maxLeased) return null;
      this.#leased += deliveryCount;
      return { now: this.#options.clock.now(), holder: this.#options.holder, leaseMs: this.#leaseMs };
    },
    adopt: (messageId, leased, requested) => {
      this.#leased -= requested - leased.length;
      if (!this.#isRunning) {
        // Stopped meanwhile: back to the queue, as stop() did with what was ready.
        const now = this.#options.clock.now();
        for (const delivery of leased) void this.#giveBack(delivery, now);
        this.#notifyIdle();
        return;
      }
      this.#adopted.set(messageId, { deliveries: [...leased], isComplete: leased.length === requested });
    },
    cancel: (requested) => this.#release(requested),
  };

  /** The queue sink is about to store this message: its deliveries may be leased at insert. */
  storing(messageId: string): void {
    if (this.#isRunning) this.#storing.add(messageId);
  }

  /**
   * The queue sink is done storing the message (committed, or failed): its deliveries leased at
   * insert start now, after the app has told of the message; otherwise a claim finds them.
   */
  queued(messageId: string): void {
    this.#storing.delete(messageId);
    const adopted = this.#adopted.get(messageId);
    if (adopted === undefined) {
      this.wake();
      return;
    }
    this.#adopted.delete(messageId);
    for (const delivery of adopted.deliveries) this.#addReady(delivery);
    // Some not due yet (a message scheduled ahead): a pump claims them later and sets the wake-up.
    if (adopted.isComplete) this.#dispatchReady();
    else this.wake();
  }

  /** Puts expired leases and an earlier run's back (a previous run crashed), then starts delivering. */
  async start(): Promise<void> {
    if (this.#isRunning) return;
    this.#isRunning = true;
    await this.#requeueExpired();
    await this.#requeueAbandoned();
    this.wake();
  }

  /** Something may be due: a message was queued, an operator asked for a retry. Cheap; coalesced. */
  wake(): void {
    this.#dueSignals += 1;
    this.#mayHaveDue = true;
    if (!this.#isRunning) return;
    if (this.#isPumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#isPumping = true;
    void this.#pump().finally(() => {
      this.#isPumping = false;
      if (this.#pumpAgain) {
        this.#pumpAgain = false;
        this.wake();
      } else this.#notifyIdle();
    });
  }

  /** Resolves when nothing is leased in memory (tests; graceful stop). */
  idle(): Promise<void> {
    if (this.#leased === 0 && !this.#isPumping) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Graceful stop: no new sessions; those running get `graceMs` to finish, then are aborted (their
   * recipients are reported deferred); deliveries leased but not started go back to the queue.
   */
  async stop(options: { readonly graceMs?: number } = {}): Promise<void> {
    if (!this.#isRunning) return;
    this.#isRunning = false;
    this.#cancelWake?.();
    this.#wakeAt = null;
    this.#cancelRequeue?.();
    const now = this.#options.clock.now();
    const returns: Promise<unknown>[] = [];
    for (const destination of this.#destinations.values()) {
      for (const message of destination.ready.splice(0)) {
        for (const delivery of message.deliveries) returns.push(this.#giveBack(delivery, now));
      }
    }
    for (const adopted of this.#adopted.values())
      for (const delivery of adopted.deliveries) returns.push(this.#giveBack(delivery, now));
    this.#adopted.clear();
    await Promise.all(returns);
    const sessions = Promise.all(this.#sessions);
    let cancelGrace: (() => void) | null = null;
    await Promise.race([
      sessions,
      new Promise<void>((resolve) => {
        cancelGrace = this.#options.clock.setTimer(resolve, options.graceMs ?? 30_000);
      }),
    ]);
    (cancelGrace as (() => void) | null)?.();
    this.#abort.abort(new Error('the delivery scheduler is stopping'));
    await sessions;
  }

  async #pump(): Promise<void> {
    try {
      await this.#claim();
      this.#dispatch();
      await this.#scheduleWake();
    } catch (error) {
      this.#options.onError?.(error, 'scheduler');
      // Try again later rather than never: a database hiccup must not stop delivery.
      this.#setWake(this.#options.clock.now() + 5000);
    }
  }

  async #claim(): Promise<void> {
    while (this.#isRunning && this.#leased < this.#maxLeased) {
      const limit = Math.min(this.#batchSize, this.#maxLeased - this.#leased);
      const signalsBefore = this.#dueSignals;
      const leased = await this.#options.queue.claimDue({
        now: this.#options.clock.now(),
        limit,
        holder: this.#options.holder,
        leaseMs: this.#leaseMs,
      });
      this.#leased += leased.length;
      for (const delivery of leased) this.#addReady(delivery);
      if (leased.length < limit) {
        if (this.#dueSignals === signalsBefore) this.#mayHaveDue = false;
        return;
      }
    }
  }

  #addReady(delivery: LeasedDelivery): void {
    let destination = this.#destinations.get(delivery.domain);
    if (destination === undefined) {
      const options = this.#windowOptionsFor(delivery.domain);
      destination = {
        window: newDestinationWindow(options, this.#options.clock.now()),
        options,
        ready: [],
        retryAt: null,
      };
      this.#destinations.set(delivery.domain, destination);
    }
    const message = destination.ready.find((ready) => ready.messageId === delivery.messageId);
    if (message === undefined)
      destination.ready.push({ messageId: delivery.messageId, deliveries: [delivery] });
    else message.deliveries.push(delivery);
  }

  #dispatch(): void {
    if (!this.#isRunning) return;
    const now = this.#options.clock.now();
    for (const [domain, destination] of this.#destinations) {
      destination.retryAt = null;
      while (destination.ready.length > 0) {
        const decision = tryStart(destination.window, destination.options, now);
        if (!decision.start) {
          if (decision.reason === 'down') {
            this.#postponeDown(destination, decision.retryAt ?? now);
            // The postponed deliveries may commit after this pump reads the next due time.
            destination.retryAt = decision.retryAt;
          } else if (decision.reason === 'rate-limited') destination.retryAt = decision.retryAt;
          break;
        }
        destination.window = decision.window;
        const message = destination.ready.shift() as ReadyMessage;
        this.#startSession(domain, destination, message);
      }
      // Memory holds only what is due, and what a rate limit still has to remember.
      if (destination.ready.length === 0 && isAtRest(destination.window, destination.options, now))
        this.#destinations.delete(domain);
    }
  }

  /**
   * A destination known to be down: its deliveries wait in the queue, not in memory, without an
   * attempt, until the next probe (the outcomes room still applies give-up and delay warnings).
   */
  #postponeDown(destination: Destination, until: number): void {
    for (const message of destination.ready.splice(0)) {
      void this.#options.outcomes
        .postpone(message.messageId, message.deliveries, until)
        .catch((error: unknown) => this.#options.onError?.(error, 'postpone'))
        .finally(() => this.#release(message.deliveries.length));
    }
  }

  #startSession(domain: string, destination: Destination, message: ReadyMessage): void {
    let isAllDelivered = false;
    const session = this.#runSession(domain, message)
      .then((result) => {
        isAllDelivered = result?.recipients.every((each) => each.attempt.outcome === 'delivered') ?? false;
        destination.window = finish(
          destination.window,
          result?.session ?? 'other',
          destination.options,
          this.#options.clock.now(),
        );
        // A destination that went down keeps its state (the back-off) while sessions were out.
        if (!this.#destinations.has(domain)) this.#destinations.set(domain, destination);
      })
      .catch((error: unknown) => {
        this.#options.onError?.(error, `delivery to ${domain}`);
        // The outcome could not be recorded (the database is away): the session's slot is free
        // all the same, or the destination's window would stay full for good.
        destination.window = finish(
          destination.window,
          'other',
          destination.options,
          this.#options.clock.now(),
        );
      })
      .finally(() => {
        this.#sessions.delete(session);
        // Released before the claim below sizes itself, but idle() is told only after it started.
        this.#leased -= message.deliveries.length;
        // Nothing went back to the queue and a claim would find nothing new: the freed slot only
        // lets what is ready start. Otherwise claim (and set the wake-up for a deferral).
        if (isAllDelivered && !this.#mayHaveDue && this.#isRunning && !this.#isPumping) this.#dispatchReady();
        else this.wake();
        this.#notifyIdle();
      });
    this.#sessions.add(session);
  }

  async #runSession(domain: string, message: ReadyMessage): Promise<TransportResult | null> {
    const received = await this.#options.spool.getReceived(message.messageId);
    if (received === null) {
      // Deleted from the spool meanwhile: nothing left to send.
      const now = this.#options.clock.now();
      await Promise.all(
        message.deliveries.map((delivery) =>
          this.#options.queue.recordAttempt({
            deliveryId: delivery.id,
            fencing: delivery.lease.fencing,
            now,
            result: { kind: 'failed', cause: 'rejected' },
            attempt: null,
          }),
        ),
      );
      return null;
    }
    const job: TransportJob = {
      messageId: message.messageId,
      domain,
      envelope: received.envelope,
      deliveries: message.deliveries,
      raw: received.raw,
    };
    const result = await this.#options.transport.send(job, this.#abort.signal);
    await this.#options.outcomes.record(job, result);
    return result;
  }

  async #giveBack(delivery: LeasedDelivery, now: number): Promise<void> {
    try {
      await this.#options.queue.recordAttempt({
        deliveryId: delivery.id,
        fencing: delivery.lease.fencing,
        now,
        result: { kind: 'deferred', nextDueAt: now },
        attempt: null,
      });
    } catch (error) {
      // The lease expires and the delivery comes back anyway.
      this.#options.onError?.(error, 'give back');
    } finally {
      this.#release(1);
    }
  }

  #release(count: number): void {
    this.#leased -= count;
    this.#notifyIdle();
  }

  #notifyIdle(): void {
    if (this.#leased !== 0 || this.#isPumping) return;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  async #scheduleWake(): Promise<void> {
    if (!this.#isRunning) return;
    let wakeAt = this.#earliestRetryAt();
    // While memory is full, a session's end wakes us; otherwise the next due delivery does.
    if (this.#leased < this.#maxLeased) {
      const due = await this.#options.queue.nextDueAt();
      if (due !== null) wakeAt = Math.min(wakeAt ?? due, due);
    }
    if (wakeAt !== null) this.#setWake(wakeAt);
    this.#cancelRequeue ??= this.#options.clock.setTimer(() => {
      this.#cancelRequeue = null;
      void this.#requeueExpired().then(() => this.wake());
    }, this.#options.requeueEveryMs ?? 60_000);
  }

  #setWake(at: number): void {
    this.#cancelWake?.();
    this.#wakeAt = at;
    this.#cancelWake = this.#options.clock.setTimer(
      () => {
        this.#cancelWake = null;
        this.#wakeAt = null;
        this.wake();
      },
      Math.max(0, at - this.#options.clock.now()),
    );
  }

  /**
   * Starts what is ready without a claim (leased at insert, or a slot freed with nothing new due).
   * A destination that is rate-limited or down meanwhile needs a wake-up at its retry time, which
   * only a pump would set otherwise: one is set unless an earlier one is already.
   */
  #dispatchReady(): void {
    this.#dispatch();
    const retryAt = this.#earliestRetryAt();
    if (retryAt !== null && (this.#wakeAt === null || retryAt < this.#wakeAt)) this.#setWake(retryAt);
  }

  /** When the first rate-limited or down destination may start again; null when none waits. */
  #earliestRetryAt(): number | null {
    let earliest: number | null = null;
    for (const { retryAt } of this.#destinations.values())
      if (retryAt !== null) earliest = Math.min(earliest ?? retryAt, retryAt);
    return earliest;
  }

  async #requeueAbandoned(): Promise<void> {
    const prefix = this.#options.abandonedHolderPrefix;
    if (prefix === undefined) return;
    try {
      const count = await this.#options.queue.requeueAbandoned({
        holderPrefix: prefix,
        currentHolder: this.#options.holder,
        now: this.#options.clock.now(),
      });
      // The remote may have accepted some of them before the crash: the documented duplicate window.
      if (count > 0) this.#options.onAbandoned?.(count);
    } catch (error) {
      this.#options.onError?.(error, 'requeue');
    }
  }

  async #requeueExpired(): Promise<void> {
    try {
      await this.#options.queue.requeueExpired(this.#options.clock.now());
    } catch (error) {
      this.#options.onError?.(error, 'requeue');
    }
  }
}
