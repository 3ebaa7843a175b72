import { createServer, type SmtpServer, type SmtpServerOptions } from '../../src/index.js';

/** A server on 127.0.0.1, port 0, closed by the returned function. */
export async function startServer(
  options: SmtpServerOptions,
  listen: { tls?: 'starttls' | 'implicit' | 'off'; host?: string } = {},
): Promise<{ server: SmtpServer; port: number; stop: () => Promise<void> }> {
  const server = createServer({ hostname: 'mx.test', ...options });
  const address = await server.listen({
    port: 0,
    host: listen.host ?? '127.0.0.1',
    tls: listen.tls ?? 'starttls',
  });
  return { server, port: address.port, stop: () => server.close({ deadlineMs: 100 }) };
}

export function streamToBuffer(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  return (async () => {
    const chunks: Uint8Array[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    return Buffer.concat(chunks);
  })();
}
