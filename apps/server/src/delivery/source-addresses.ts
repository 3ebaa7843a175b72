import { createServer } from 'node:net';
import type { AddressFamily, LocalAddresses } from '@smtp/client';
import type { DeliveryConfig } from '../config/delivery-schema.js';
import { exitCodes } from '../exit-codes.js';
import { StartupError } from '../startup-error.js';

/** mta.outbound as deliver() takes it. */
export interface OutboundSource {
  readonly localAddresses: LocalAddresses;
  readonly addressFamilies: readonly AddressFamily[];
}

/**
 * mta.outbound, checked at start: a source address this machine does not have would make every
 * delivery fail to connect (EADDRNOTAVAIL) and pile the queue up; one line at start says so instead.
 */
export async function outboundSource(config: DeliveryConfig['outbound']): Promise<OutboundSource> {
  const settings = [
    ['mta.outbound.sourceAddress', config.sourceAddress],
    ['mta.outbound.sourceAddress6', config.sourceAddress6],
  ] as const;
  for (const [setting, address] of settings) {
    if (address === undefined) continue;
    const problem = await bindProblem(address);
    if (problem !== null)
      throw new StartupError(
        `${setting} ${address} is not an address of this machine (${problem}): deliveries could not connect from it`,
        exitCodes.config,
        null,
      );
  }
  return {
    localAddresses: {
      ...(config.sourceAddress === undefined ? {} : { ipv4: config.sourceAddress }),
      ...(config.sourceAddress6 === undefined ? {} : { ipv6: config.sourceAddress6 }),
    },
    addressFamilies: config.addressFamilies,
  };
}

/** Listens on the address for a moment: null when it can be bound, else the error code. */
function bindProblem(address: string): Promise<string | null> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    probe.listen({ host: address, port: 0, exclusive: true }, () => probe.close(() => resolve(null)));
  });
}
