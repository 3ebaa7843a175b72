import type { EnhancedStatus, ReplyInit } from '@smtp/protocol';
import type { ChaosFault } from '../config/chaos-schema.js';

/** What a stage gets when its fault fires: a wait, then maybe a reply in place of going on. */
export interface InjectedFault {
  readonly delayMs: number;
  readonly reply: ReplyInit | null;
}

/**
 * Whether a stage's fault fires this time. Pure: `random` is a uniform draw in [0, 1) (Math.random
 * in the app, fixed values in tests). Probability 0 never fires, 100 always does.
 */
export function decideFault(fault: ChaosFault | undefined, random: () => number): InjectedFault | null {
  if (fault === undefined || fault.probability <= 0) return null;
  if (fault.probability < 100 && random() * 100 >= fault.probability) return null;
  return {
    delayMs: fault.delay,
    reply:
      fault.code === undefined
        ? null
        : {
            code: fault.code,
            // RFC 3463 §3: the class follows the reply's; x.0.0 says no more than that.
            enhanced: (fault.enhanced ?? `${String(fault.code)[0]}.0.0`) as EnhancedStatus,
            text: fault.text,
          },
  };
}
