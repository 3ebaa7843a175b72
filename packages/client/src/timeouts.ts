import type { TimeoutOptions } from './options.js';

export interface ResolvedTimeouts {
  readonly connectMs: number;
  readonly tlsHandshakeMs: number;
  readonly greetingMs: number;
  readonly mailMs: number;
  readonly rcptMs: number;
  readonly dataInitMs: number;
  readonly dataBlockMs: number;
  readonly dataEndMs: number;
  readonly commandMs: number;
  readonly sendMs: number;
}

const minute = 60_000;

export function resolveTimeouts(options: TimeoutOptions = {}): ResolvedTimeouts {
  return {
    connectMs: options.connectMs ?? 30_000,
    tlsHandshakeMs: options.tlsHandshakeMs ?? 30_000,
    // RFC 5321 §4.5.3.2: the client's minimum waits per step.
    greetingMs: options.greetingMs ?? 5 * minute,
    mailMs: options.mailMs ?? 5 * minute,
    rcptMs: options.rcptMs ?? 5 * minute,
    dataInitMs: options.dataInitMs ?? 2 * minute,
    dataBlockMs: options.dataBlockMs ?? 3 * minute,
    dataEndMs: options.dataEndMs ?? 10 * minute,
    commandMs: options.commandMs ?? 5 * minute,
    sendMs: options.sendMs ?? 15 * minute,
  };
}

/** Duration for the kind of reply the core says the server owes (ClientSession#timeout). */
export function timeoutForKind(timeouts: ResolvedTimeouts, kind: string): number {
  switch (kind) {
    case 'greeting':
      return timeouts.greetingMs;
    case 'mail':
      return timeouts.mailMs;
    case 'rcpt':
      return timeouts.rcptMs;
    case 'data-init':
      return timeouts.dataInitMs;
    case 'data-block':
      return timeouts.dataBlockMs;
    case 'data-end':
      return timeouts.dataEndMs;
    case 'tls-handshake':
      return timeouts.tlsHandshakeMs;
    default:
      return timeouts.commandMs;
  }
}
