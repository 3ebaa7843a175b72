import type { DeliveryConfig } from '../config/delivery-schema.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../observability/logger.js';
import type { DeliveryQueue } from '../queue/delivery-queue.js';
import type { MessageRepository } from '../spool/message-repository.js';
import type { SuppressionList } from '../suppression/suppression-list.js';
import { type Clock, systemClock } from './clock.js';
import type { DeliveryEvent } from './delivery-event.js';
import { createDeliveryRoom, type DeliveryRoom, type DeliveryRoomOptions } from './delivery-room.js';
import { windowOptionsFor } from './destination-limits.js';
import { outboundTrust } from './outbound-trust.js';
import { outboundSource } from './source-addresses.js';
import type { DeliveryTransport } from './transports/delivery-transport.js';
import { observedTransport } from './transports/observed-transport.js';
import { createRemoteTransport } from './transports/remote-transport.js';
import { createRoutingTransport } from './transports/routing-transport.js';

export interface StartDeliveryOptions {
  readonly config: DeliveryConfig;
  /** mta.hostname: EHLO name, Reporting-MTA, Postmaster's domain. */
  readonly hostname: string;
  /** On a shared queue: this node's id (DeliveryRoomOptions.nodeId). */
  readonly nodeId?: string;
  readonly spool: MessageRepository;
  readonly queue: DeliveryQueue;
  readonly events?: EventBus<DeliveryEvent>;
  /** Hard 5.1.x recipient failures are added here (OutcomeRecorder). */
  readonly suppressions?: SuppressionList;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** DKIM-signs the DSNs the MTA generates (DeliveryRoomOptions.signReport). */
  readonly signReport?: DeliveryRoomOptions['signReport'];
  /** How accepted messages are stored with their deliveries (the app: its ingest pipeline). */
  readonly store?: DeliveryRoomOptions['store'];
  /** Local domains go to this transport (Maildir or LMTP: inbound/inbound-room.ts), the rest remote. */
  readonly localDelivery?: {
    readonly isLocal: (domain: string) => boolean;
    readonly transport: DeliveryTransport & { close?(): Promise<void> };
  };
}

/**
 * The delivery side of MTA mode from its configuration: the remote transport (DNS servers, routes,
 * smarthost) and the room around it, started (expired leases requeued, due mail delivered).
 */
export async function startDelivery(
  options: StartDeliveryOptions,
): Promise<DeliveryRoom & { close(): Promise<void> }> {
  const { config, logger } = options;
  const clock = options.clock;
  const outbound = await outboundSource(config.outbound);
  const remote = createRemoteTransport({
    hostname: options.hostname,
    outbound,
    tlsPolicy: config.tlsPolicy,
    trustedCertificates: await outboundTrust(config.outbound.caFile),
    dnsServers: config.dnsServers,
    port: config.deliveryPort,
    routes: config.transports,
    smarthost: config.smarthost,
    clock: clock ?? systemClock,
    connectionReuse:
      config.connectionReuse === false
        ? null
        : {
            idleTimeoutMs: config.connectionReuse.idleTimeout,
            maxMessagesPerConnection: config.connectionReuse.maxMessages,
            maxIdlePerHost: config.connectionReuse.maxIdlePerHost,
          },
  });
  const local = options.localDelivery;
  const transport =
    local === undefined
      ? remote
      : createRoutingTransport({ isLocal: local.isLocal, local: local.transport, remote });
  const room = createDeliveryRoom({
    spool: options.spool,
    queue: options.queue,
    transport:
      options.events === undefined
        ? transport
        : observedTransport(transport, options.events, clock ?? systemClock),
    hostname: options.hostname,
    ...(options.nodeId === undefined ? {} : { nodeId: options.nodeId }),
    retryPolicy: config.retry,
    leaseMs: config.leaseDuration,
    windowFor: (domain) => windowOptionsFor(domain, config.destinations),
    ...(clock === undefined ? {} : { clock }),
    ...(options.events === undefined ? {} : { events: options.events }),
    ...(options.store === undefined ? {} : { store: options.store }),
    ...(options.signReport === undefined ? {} : { signReport: options.signReport }),
    ...(options.suppressions === undefined ? {} : { suppressions: options.suppressions }),
    onProblem: (problem, details) => logger.warn({ ...details, component: 'delivery' }, problem),
  });
  await room.start();
  return {
    ...room,
    async close() {
      await room.stop();
      await remote.close();
      await local?.transport.close?.();
    },
  };
}
