/** Counters only grow; gauges go up and down. Names follow Prometheus conventions. */
export interface ServerMetricsSnapshot {
  readonly connectionsTotal: number;
  readonly connectionsActive: number;
  readonly connectionsRefused: number;
  readonly messagesAccepted: number;
  readonly messagesRejected: number;
  readonly messageBytesReceived: number;
  readonly recipientsAccepted: number;
  readonly recipientsRejected: number;
  readonly authSucceeded: number;
  readonly authFailed: number;
  readonly authThrottled: number;
  readonly tlsHandshakes: number;
  readonly tlsFailures: number;
  readonly timeouts: number;
  readonly handlerErrors: number;
  readonly commandsRejected: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const help: Record<keyof ServerMetricsSnapshot, [type: 'counter' | 'gauge', text: string]> = {
  connectionsTotal: ['counter', 'Connections accepted'],
  connectionsActive: ['gauge', 'Connections open now'],
  connectionsRefused: ['counter', 'Connections refused by limits or onConnect'],
  messagesAccepted: ['counter', 'Messages accepted'],
  messagesRejected: ['counter', 'Messages rejected or aborted'],
  messageBytesReceived: ['counter', 'Message bytes received (after dot-unstuffing)'],
  recipientsAccepted: ['counter', 'Recipients accepted'],
  recipientsRejected: ['counter', 'Recipients rejected'],
  authSucceeded: ['counter', 'Successful authentications'],
  authFailed: ['counter', 'Failed authentications'],
  authThrottled: ['counter', 'AUTH attempts refused by failure throttling'],
  tlsHandshakes: ['counter', 'Completed TLS handshakes'],
  tlsFailures: ['counter', 'Failed TLS handshakes'],
  timeouts: ['counter', 'Sessions closed by a timeout'],
  handlerErrors: ['counter', 'Unexpected exceptions thrown by handlers (answered 451 4.3.0)'],
  commandsRejected: ['counter', 'Commands the protocol core refused on its own'],
};

/** Counters and gauges the application can expose, e.g. on a Prometheus /metrics endpoint. */
export class ServerMetrics {
  readonly values: Mutable<ServerMetricsSnapshot> = {
    connectionsTotal: 0,
    connectionsActive: 0,
    connectionsRefused: 0,
    messagesAccepted: 0,
    messagesRejected: 0,
    messageBytesReceived: 0,
    recipientsAccepted: 0,
    recipientsRejected: 0,
    authSucceeded: 0,
    authFailed: 0,
    authThrottled: 0,
    tlsHandshakes: 0,
    tlsFailures: 0,
    timeouts: 0,
    handlerErrors: 0,
    commandsRejected: 0,
  };

  snapshot(): ServerMetricsSnapshot {
    return { ...this.values };
  }

  /** Prometheus text exposition format (version 0.0.4). */
  toPrometheus(prefix = 'smtp_server'): string {
    const lines: string[] = [];
    for (const [key, [type, text]] of Object.entries(help) as [
      keyof ServerMetricsSnapshot,
      [string, string],
    ][]) {
      const name = `${prefix}_${key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)}${type === 'counter' ? '_total' : ''}`;
      lines.push(`# HELP ${name} ${text}`, `# TYPE ${name} ${type}`, `${name} ${this.values[key]}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
