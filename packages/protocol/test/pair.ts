// A ClientSession wired to a ServerSession through a chunker (house guide §2.6, h11's ConnectionPair,
// quinn's Pair). No sockets: bytes move between the two takeOutput()/receive() ends, cut at the given
// chunk sizes, until neither side has anything left to say.

import type { ClientEvent, ClientSessionOptions } from '../src/client/client-events.js';
import { ClientSession } from '../src/client/client-session.js';
import type { ServerEvent } from '../src/server/server-events.js';
import type { ServerSessionOptions } from '../src/server/server-options.js';
import { ServerSession } from '../src/server/server-session.js';

export interface PairOptions {
  readonly client: ClientSessionOptions;
  readonly server: ServerSessionOptions;
  /** Chunk sizes used in turn to cut the bytes in both directions; omitted: whole writes. */
  readonly chunkSizes?: readonly number[];
  /** The caller's side of the client: called for every client event (hello(), startTransaction() …). */
  readonly onClientEvent?: (event: ClientEvent, client: ClientSession) => void;
  /** The handler: answers pending server events; default accept(). */
  readonly onServerEvent?: (event: ServerEvent, server: ServerSession) => void;
}

export interface Pair {
  readonly client: ClientSession;
  readonly server: ServerSession;
  readonly clientEvents: ClientEvent[];
  readonly serverEvents: ServerEvent[];
  /** Each message the server received completely (message-end), its chunks joined. */
  readonly messages: Uint8Array[];
  readonly options: PairOptions;
  /** Per direction: where we are in chunkSizes. */
  sizeIndex: number;
}

export function connectPair(options: PairOptions): Pair {
  const server = new ServerSession(options.server);
  const client = new ClientSession(options.client);
  server.greet();
  return { client, server, clientEvents: [], serverEvents: [], messages: [], options, sizeIndex: 0 };
}

function concat(pieces: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const piece of pieces) length += piece.length;
  const bytes = new Uint8Array(length);
  let position = 0;
  for (const piece of pieces) {
    bytes.set(piece, position);
    position += piece.length;
  }
  return bytes;
}

/** Moves bytes both ways and dispatches events until both sides are quiet (or `maxRounds` passes). */
export function drive(pair: Pair, maxRounds = 10_000): void {
  const { client, server, options } = pair;
  let messageChunks: Uint8Array[] = [];
  let isServerTlsPending = false;

  const send = (bytes: Uint8Array, receive: (chunk: Uint8Array) => void): void => {
    const sizes = options.chunkSizes;
    if (sizes === undefined || sizes.length === 0) {
      receive(bytes);
      return;
    }
    for (let position = 0; position < bytes.length; ) {
      const size = Math.max(1, sizes[pair.sizeIndex++ % sizes.length] as number);
      // Copy: a receiver may keep views, and the sender's buffer is its own.
      receive(bytes.slice(position, position + size));
      position += size;
    }
  };

  for (let round = 0; round < maxRounds; round++) {
    let isProgress = false;
    for (let event = server.nextEvent(); event !== null; event = server.nextEvent()) {
      isProgress = true;
      pair.serverEvents.push(event);
      if (event.type === 'message-start') messageChunks = [];
      else if (event.type === 'message-chunk') messageChunks.push(event.bytes);
      else if (event.type === 'message-end') pair.messages.push(concat(messageChunks));
      else if (event.type === 'tls-ready') isServerTlsPending = true;
      if (server.pending === event) {
        if (options.onServerEvent === undefined) server.accept();
        else options.onServerEvent(event, server);
      }
    }
    const serverOutput = server.takeOutput();
    if (serverOutput !== null) {
      isProgress = true;
      send(serverOutput, (chunk) => client.receive(chunk));
    }
    if (isServerTlsPending) {
      // The 220 is on its way: the handshake happens, then both ends start over (RFC 3207 §4.2).
      isServerTlsPending = false;
      server.tlsStarted();
    }
    for (let event = client.nextEvent(); event !== null; event = client.nextEvent()) {
      isProgress = true;
      pair.clientEvents.push(event);
      if (event.type === 'tls-ready') client.tlsStarted();
      options.onClientEvent?.(event, client);
    }
    const clientOutput = client.takeOutput();
    if (clientOutput !== null) {
      isProgress = true;
      send(clientOutput, (chunk) => server.receive(chunk));
    }
    if (!isProgress) return;
  }
  throw new Error('drive(): the pair did not settle');
}
