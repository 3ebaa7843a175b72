import { SmtpReplyError } from '@smtp/protocol';
import { Counter, type Registry } from 'prom-client';
import type { ChaosSettings, ChaosStage } from '../config/chaos-schema.js';
import type { Logger } from '../observability/logger.js';
import { decideFault } from './chaos-decision.js';

export interface ChaosControlOptions {
  readonly settings: ChaosSettings;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Uniform draws in [0, 1); Math.random by default. */
  readonly random?: () => number;
}

/**
 * The chaos settings in force (config `chaos`, replaceable at run time through the API) and the
 * act of injecting: the SMTP listener calls inject() at each stage. Every fault that fires is
 * logged (event "chaos-fault") and counted (smtp_chaos_faults_total{stage,code}).
 */
export class ChaosControl {
  #settings: ChaosSettings;
  readonly #logger: Logger;
  readonly #random: () => number;
  readonly #faults: Counter<'stage' | 'code'>;

  constructor(options: ChaosControlOptions) {
    this.#settings = options.settings;
    this.#logger = options.logger;
    this.#random = options.random ?? Math.random;
    this.#faults = new Counter({
      name: 'smtp_chaos_faults_total',
      help: 'Faults injected at SMTP stages (config chaos), by stage and reply code ("delay" for a delay only)',
      labelNames: ['stage', 'code'],
      registers: [options.registry],
    });
    const stages = Object.keys(options.settings);
    if (stages.length > 0)
      this.#logger.warn({ event: 'chaos-enabled', stages }, 'chaos: faults will be injected');
  }

  get settings(): ChaosSettings {
    return this.#settings;
  }

  replace(settings: ChaosSettings): void {
    this.#settings = settings;
    this.#logger.info({ event: 'chaos-changed', chaos: settings }, 'chaos settings replaced');
  }

  /**
   * When the stage's fault fires: a promise that waits out its delay and rejects with its reply
   * (SmtpReplyError). Otherwise undefined at once, so a hook without a fault stays synchronous.
   */
  inject(
    stage: ChaosStage,
    session: { readonly id: string; readonly remoteAddress: string },
  ): Promise<void> | undefined {
    const fault = decideFault(this.#settings[stage], this.#random);
    if (fault === null) return undefined;
    this.#faults.inc({ stage, code: fault.reply === null ? 'delay' : String(fault.reply.code) });
    this.#logger.warn(
      {
        event: 'chaos-fault',
        stage,
        session: session.id,
        client: session.remoteAddress,
        delayMs: fault.delayMs,
        reply: fault.reply,
      },
      'fault injected (chaos)',
    );
    const { delayMs, reply } = fault;
    return (async () => {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (reply !== null) throw new SmtpReplyError(reply);
    })();
  }
}
