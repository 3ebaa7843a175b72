import { type AddressInfo, createServer as createNetServer, type Server, type Socket } from 'node:net';

/** Where and how to listen. Several listeners can serve one SmtpServer (e.g. 25 + 587 + 465). */
export type ListenOptions = (
  | { readonly port: number; readonly host?: string; readonly ipv6Only?: boolean }
  | { readonly path: string }
) & {
  /**
   * 'starttls': plain, STARTTLS offered when the server has TLS options (ports 25, 587; the default).
   * 'implicit': TLS from the first byte (port 465, RFC 8314 §3.3). 'off': plain only, never STARTTLS.
   */
  readonly tls?: 'starttls' | 'implicit' | 'off';
  readonly backlog?: number;
};

export type ListenerTls = 'starttls' | 'implicit' | 'off';

export interface ListenerAddress {
  readonly address: string; // IP, or the socket path
  readonly port: number; // 0 for Unix sockets
  readonly family: 'IPv4' | 'IPv6' | 'unix';
  readonly tls: ListenerTls;
}

export interface Listener {
  readonly server: Server;
  readonly tls: ListenerTls;
  readonly address: ListenerAddress;
}

/** Opens one listening socket and hands every accepted socket to `onSocket`. */
export function openListener(
  options: ListenOptions,
  onSocket: (socket: Socket, tls: ListenerTls) => void,
  onError: (error: Error) => void,
): Promise<Listener> {
  const tls = options.tls ?? 'starttls';
  // noDelay: replies are written once per batch already (RFC 2920), so Nagle only adds latency.
  const server = createNetServer({ noDelay: true }, (socket) => onSocket(socket, tls));
  return new Promise((resolve, reject) => {
    const onListenError = (error: Error): void => reject(error);
    server.once('error', onListenError);
    const onListening = (): void => {
      server.off('error', onListenError);
      server.on('error', onError);
      const raw = server.address();
      const address: ListenerAddress =
        typeof raw === 'string' || raw === null
          ? { address: raw ?? ('path' in options ? options.path : ''), port: 0, family: 'unix', tls }
          : {
              address: (raw as AddressInfo).address,
              port: raw.port,
              family: raw.family === 'IPv6' ? 'IPv6' : 'IPv4',
              tls,
            };
      resolve({ server, tls, address });
    };
    if ('path' in options) {
      server.listen(
        { path: options.path, ...(options.backlog !== undefined ? { backlog: options.backlog } : {}) },
        onListening,
      );
    } else {
      server.listen(
        {
          port: options.port,
          ...(options.host !== undefined ? { host: options.host } : {}),
          ...(options.ipv6Only !== undefined ? { ipv6Only: options.ipv6Only } : {}),
          ...(options.backlog !== undefined ? { backlog: options.backlog } : {}),
        },
        onListening,
      );
    }
  });
}

export function closeListener(listener: Listener): Promise<void> {
  return new Promise((resolve) => listener.server.close(() => resolve()));
}
