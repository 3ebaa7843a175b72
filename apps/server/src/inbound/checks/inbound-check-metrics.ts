import { Counter, type Registry } from 'prom-client';
import type { InboundDecision, InboundVerdicts } from './inbound-verdicts.js';

/** Prometheus counters of the inbound checks, on the app's registry (AppMetrics.registry). */
export class InboundCheckMetrics {
  readonly #results: Counter<'check' | 'result'>;
  readonly #decisions: Counter<'stage' | 'action' | 'reason'>;

  constructor(registry: Registry) {
    this.#results = new Counter({
      name: 'smtp_inbound_check_results_total',
      help: 'Inbound check results per message: check (spf, spf_helo, dkim, arc, dmarc, greylist, dns_lists) and result',
      labelNames: ['check', 'result'] as const,
      registers: [registry],
    });
    this.#decisions = new Counter({
      name: 'smtp_inbound_decisions_total',
      help: 'What the inbound checks decided, by stage (rcpt, data), action and the check that decided',
      labelNames: ['stage', 'action', 'reason'] as const,
      registers: [registry],
    });
  }

  /** One count per check for a message that reached the end of DATA. */
  recordVerdicts(verdicts: InboundVerdicts): void {
    this.#results.inc({ check: 'spf', result: verdicts.spf.mailFrom.result });
    this.#results.inc({ check: 'spf_helo', result: verdicts.spf.helo.result });
    if (verdicts.dkim.length === 0) this.#results.inc({ check: 'dkim', result: 'none' });
    for (const signature of verdicts.dkim) this.#results.inc({ check: 'dkim', result: signature.result });
    this.#results.inc({ check: 'arc', result: verdicts.arc.result });
    this.#results.inc({ check: 'dmarc', result: verdicts.dmarc.result });
    this.#results.inc({ check: 'greylist', result: verdicts.greylist.result });
    this.#results.inc({ check: 'dns_lists', result: verdicts.dnsLists.result });
  }

  recordDecision(
    stage: 'rcpt' | 'data',
    decision: InboundDecision | { readonly action: 'continue' },
    reason: string,
  ): void {
    this.#decisions.inc({ stage, action: decision.action, reason });
  }
}
