import type { RelaySettings } from '../config/relay-schema.js';
import type { ReleaseTarget } from './release-message.js';

/** The release target for the configured relay: its server and credentials, this envelope. */
export function relayTargetOf(relay: RelaySettings, from: string, to: readonly string[]): ReleaseTarget {
  return {
    host: relay.host,
    port: relay.port,
    security: relay.security,
    allowInvalidCertificate: relay.allowInvalidCertificate,
    username: relay.username,
    password: relay.password,
    from: relay.from ?? from,
    to,
    timeoutMs: relay.timeoutMs,
  };
}
