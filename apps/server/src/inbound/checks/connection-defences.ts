import type { SmtpServerOptions } from '@smtp/server';
import type { InboundChecksConfig } from '../../config/inbound-checks-schema.js';

/**
 * The @smtp/server options of the mx listener's connection-level defences: the pre-greeting pause
 * that catches early talkers (554 before the greeting, RFC 5321 §3.1; §4.3.1 lets a server delay
 * the 220) and tarpitting. Both off unless configured.
 */
export function connectionDefences(
  settings: InboundChecksConfig['connection'],
): Pick<SmtpServerOptions, 'earlyTalker' | 'tarpit'> {
  return {
    ...(settings.greetingDelay > 0 ? { earlyTalker: { delayMs: settings.greetingDelay } } : {}),
    ...(settings.tarpitDelay > 0
      ? {
          tarpit: {
            delayMs: settings.tarpitDelay,
            maxDelayMs: Math.max(settings.tarpitDelay, settings.tarpitMaxDelay),
          },
        }
      : {}),
  };
}
