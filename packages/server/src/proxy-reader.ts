import type { Socket } from 'node:net';
import { type ProxyHeader, parseProxyHeader } from '@smtp/protocol';

/** A v2 header is at most 16 + 65535 bytes; a v1 line at most 107 (proxy-protocol.txt §2.1, §2.2). */
const maxHeaderBytes = 16 + 65_535;

export type ProxyReadResult =
  | { readonly ok: true; readonly header: ProxyHeader; readonly rest: Uint8Array }
  | { readonly ok: false; readonly reason: string };

/**
 * Reads the PROXY protocol header a trusted upstream sends before anything else. Parsing is the
 * core's job (parseProxyHeader); this only gathers bytes until it has an answer, with a deadline.
 */
export function readProxyHeader(socket: Socket, timeoutMs: number): Promise<ProxyReadResult> {
  return new Promise((resolve) => {
    let buffered: Uint8Array = new Uint8Array(0);
    const finish = (result: ProxyReadResult): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onEnd);
      socket.off('close', onEnd);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      buffered = buffered.byteLength === 0 ? chunk : concat(buffered, chunk);
      const parsed = parseProxyHeader(buffered);
      if (parsed.status === 'ok') {
        // Stop the flow before handing over, so no byte after the header is emitted to nobody.
        socket.pause();
        finish({ ok: true, header: parsed.header, rest: buffered.subarray(parsed.consumedBytes) });
      } else if (parsed.status === 'invalid') {
        finish({ ok: false, reason: parsed.reason });
      } else if (buffered.byteLength > maxHeaderBytes) {
        finish({ ok: false, reason: 'PROXY header too long' });
      }
    };
    const onEnd = (): void => finish({ ok: false, reason: 'connection closed before the PROXY header' });
    const timer = setTimeout(
      () => finish({ ok: false, reason: 'timeout waiting for the PROXY header' }),
      timeoutMs,
    );
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onEnd);
    socket.on('close', onEnd);
  });
}

function concat(first: Uint8Array, second: Uint8Array): Uint8Array {
  const joined = new Uint8Array(first.byteLength + second.byteLength);
  joined.set(first, 0);
  joined.set(second, first.byteLength);
  return joined;
}
