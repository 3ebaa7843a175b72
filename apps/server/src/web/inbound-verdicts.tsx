import type { InboundSummary } from './operations-api.js';

type CheckResult = InboundSummary['checks'][number];

/** The checks a list row shows as badges, in this order. */
export const badgeChecks = ['spf', 'dkim', 'dmarc', 'arc', 'greylist', 'dns-lists'] as const;

/** Results that let mail through cleanly, and those that speak against it; the rest are neutral. */
const goodResults: ReadonlySet<string> = new Set(['pass', 'whitelisted', 'allowed', 'passed', 'accept']);
const badResults: ReadonlySet<string> = new Set([
  'fail',
  'softfail',
  'permerror',
  'temperror',
  'listed',
  'deferred',
  'reject',
  'quarantine',
  'defer',
]);

export function verdictTone(result: string): 'good' | 'bad' | 'neutral' {
  if (goodResults.has(result)) return 'good';
  if (badResults.has(result)) return 'bad';
  return 'neutral';
}

/** A check's finding; of several DKIM signatures, a passing one speaks for the message. */
export function findingOf(checks: readonly CheckResult[], check: string): CheckResult | undefined {
  const found = checks.filter((entry) => entry.check === check);
  return found.find((entry) => entry.result === 'pass') ?? found[0];
}

export function VerdictBadge(props: { readonly check: string; readonly finding: CheckResult | undefined }) {
  const result = props.finding?.result ?? 'none';
  return (
    <span
      class={`verdict verdict-${verdictTone(result)}`}
      data-check={props.check}
      title={props.finding?.reason ?? 'not checked'}
    >
      {props.check}={result}
    </span>
  );
}

/** spf/dkim/dmarc/arc/greylist/dns-lists at a glance. */
export function VerdictBadges(props: { readonly checks: readonly CheckResult[] }) {
  return (
    <span class="verdicts">
      {badgeChecks.map((check) => (
        <VerdictBadge key={check} check={check} finding={findingOf(props.checks, check)} />
      ))}
    </span>
  );
}
