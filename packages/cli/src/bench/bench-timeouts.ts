import type { ClientTimeout } from '@smtp/protocol';

const minute = 60_000;

/** RFC 5321 §4.5.3.2: the client's minimum waits per step; connect and TLS as @smtp/client has them. */
const defaultTimeoutsMs = {
  connect: 30_000,
  'tls-handshake': 30_000,
  greeting: 5 * minute,
  mail: 5 * minute,
  rcpt: 5 * minute,
  'data-init': 2 * minute,
  'data-block': 3 * minute,
  'data-end': 10 * minute,
  command: 5 * minute,
} as const satisfies Record<ClientTimeout | 'connect' | 'tls-handshake', number>;

export type BenchTimeoutKind = keyof typeof defaultTimeoutsMs;

/** How long each step may take: `--timeout` for every step, else the RFC defaults. */
export function benchTimeouts(stepTimeoutMs: number | undefined): (kind: BenchTimeoutKind) => number {
  return (kind) => stepTimeoutMs ?? defaultTimeoutsMs[kind];
}
