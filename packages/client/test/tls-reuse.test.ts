import { createServer, type Server, type TLSSocket } from 'node:tls';
import { createTestCertificates, type TestCertificates } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../src/index.js';

let certificates: TestCertificates;
let server: Server;
let port = 0;
/** Per connection: whether the TLS session was resumed (RFC 8446 §2.2). */
const resumed: boolean[] = [];

/** Implicit TLS (RFC 8314) with just enough SMTP for one message per connection. */
beforeAll(async () => {
  certificates = createTestCertificates({ ca: true });
  server = createServer({ cert: certificates.certPem, key: certificates.keyPem }, (socket: TLSSocket) => {
    resumed.push(socket.isSessionReused());
    socket.on('error', () => {});
    socket.write('220 tls.test ESMTP\r\n');
    let buffer = '';
    let inData = false;
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            socket.write('250 2.0.0 Ok\r\n');
          }
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') socket.write('250-tls.test\r\n250 PIPELINING\r\n');
        else if (verb === 'DATA') {
          inData = true;
          socket.write('354 Go ahead\r\n');
        } else if (verb === 'QUIT') socket.end('221 Bye\r\n');
        else socket.write('250 Ok\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  port = address.port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('TLS reuse', () => {
  it('builds the TLS context once per client and resumes the session on later connections', async () => {
    const client = createClient({
      host: 'localhost',
      port,
      secure: true,
      tls: { ca: certificates.caPem },
      pool: false,
    });
    for (let index = 0; index < 3; index++) {
      const result = await client.send({
        from: 'a@example.com',
        to: 'b@example.com',
        message: 'Subject: tls\r\n\r\nhello\r\n',
      });
      expect(result.reply.code).toBe(250);
    }
    await client.close();
    expect(resumed).toHaveLength(3);
    expect(resumed[0]).toBe(false);
    expect(resumed.slice(1)).toEqual([true, true]);
  });

  it('still verifies the server: a client without the CA fails and remembers nothing from the others', async () => {
    const client = createClient({ host: 'localhost', port, secure: true, pool: false });
    await expect(
      client.send({ from: 'a@example.com', to: 'b@example.com', message: 'Subject: x\r\n\r\nx\r\n' }),
    ).rejects.toThrow(/TLS/);
    await client.close();
  });
});
