// MT-PRIORITY (RFC 6710): message transfer priorities. The EHLO keyword names the server's priority
// assignment policy, if any (e.g. MIXER, STANAG4406, NSEP); MAIL FROM carries MT-PRIORITY=<-9..9>.

import { SmtpUsageError } from '../errors.js';
import { replies } from '../reply/reply-catalog.js';
import type { EsmtpExtension, MailParameter } from './esmtp-extension.js';

/** ServerSessionOptions.extensions.mtPriority: `true`, or a policy to announce and the highest priority granted. */
export interface MtPriorityOptions {
  /** The priority assignment policy named in the EHLO reply, e.g. 'MIXER' (RFC 6710). */
  readonly policy?: string;
  /** Higher requested priorities are lowered to this one (-9..9, default 9: every priority is granted). */
  readonly maxPriority?: number;
}

export interface ResolvedMtPriority {
  readonly policy: string | null;
  readonly maxPriority: number;
}

const policyName = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
/** priority-value: an optional sign and one digit, -9 (lowest) to 9 (highest); 0 is the default (RFC 6710). */
const priorityValue = /^[-+]?[0-9]$/;

function isPriority(value: number): boolean {
  return Number.isInteger(value) && value >= -9 && value <= 9;
}

function resolveMtPriority(value: boolean | MtPriorityOptions | undefined): ResolvedMtPriority | null {
  if (value === undefined || value === false) return null;
  const { policy, maxPriority = 9 } = value === true ? {} : value;
  if (policy !== undefined && !policyName.test(policy)) {
    throw new SmtpUsageError(`extensions.mtPriority.policy must be a keyword such as MIXER, got ${policy}`);
  }
  if (!isPriority(maxPriority)) {
    throw new SmtpUsageError(
      `extensions.mtPriority.maxPriority must be an integer from -9 to 9, got ${maxPriority}`,
    );
  }
  return { policy: policy ?? null, maxPriority };
}

/** The server's priority policy ("" when it names none); null when MT-PRIORITY is not offered. */
export const mtPriorityExtension: EsmtpExtension<
  string | null,
  boolean | MtPriorityOptions,
  ResolvedMtPriority | null
> = {
  keyword: 'MT-PRIORITY',
  rfc: 'RFC 6710',
  meaning: 'message transfer priorities, -9 to 9 (RFC 6710)',
  capability: {
    absent: null,
    // Policy names compare without regard to case, like keywords.
    parse: (parameters) => (parameters.split(' ', 1)[0] ?? '').toUpperCase(),
    serialize: (policy) => policy,
  },
  server: {
    option: 'mtPriority',
    resolve: resolveMtPriority,
    offer: ({ extensions: { mtPriority } }) => (mtPriority === null ? null : (mtPriority.policy ?? '')),
  },
  parameters: ['MT-PRIORITY'],
};

export const mtPriorityParameter: MailParameter<number> = {
  keyword: 'MT-PRIORITY',
  parse(value) {
    if (value === null || !priorityValue.test(value)) return undefined;
    const priority = Number(value);
    return priority === 0 ? 0 : priority; // "-0" is 0
  },
  serialize(priority) {
    if (!isPriority(priority)) {
      throw new SmtpUsageError(`MT-PRIORITY must be an integer from -9 to 9 (RFC 6710), got ${priority}`);
    }
    return String(priority);
  },
  check: (_value, { options }) => (options.extensions.mtPriority === null ? replies.unknownParameter : null),
  // RFC 6710: a server may lower a priority the sender is not entitled to; the envelope carries what it granted.
  grant: (priority, { extensions: { mtPriority } }) =>
    mtPriority === null ? priority : Math.min(priority, mtPriority.maxPriority),
  plan(_envelope, requested, { offered }) {
    if (requested === undefined) return undefined;
    if (typeof requested !== 'number' || !isPriority(requested)) {
      throw new SmtpUsageError(
        `mtPriority must be an integer from -9 to 9 (RFC 6710), got ${String(requested)}`,
      );
    }
    // A server without MT-PRIORITY still takes the message, at its default priority (RFC 6710).
    return offered.mtPriority === null ? undefined : requested;
  },
  request: (mtPriority) => ({ mtPriority }),
};
