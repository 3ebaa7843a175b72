import { text } from 'node:stream/consumers';
import { createServer, type SmtpServer } from '@smtp/server';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, SmtpUsageError } from '../src/index.js';

// MT-PRIORITY (RFC 6710) through send(): `mtPriority` passes through to the core, which sends it only
// when the server offers the extension (real sockets, @smtp/server on the other end).

let server: SmtpServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

type ServerExtensions = NonNullable<NonNullable<Parameters<typeof createServer>[0]>['extensions']>;

async function start(extensions: ServerExtensions) {
  const priorities: (number | undefined)[] = [];
  server = createServer({
    hostname: 'mx.test',
    extensions,
    onMailFrom(_from, parameters) {
      priorities.push(parameters.mtPriority);
    },
    async onData(stream) {
      await text(stream);
    },
  });
  const address = await server.listen({ port: 0, host: '127.0.0.1', tls: 'off' });
  return { port: address.port, priorities };
}

const message = 'Subject: priority\r\n\r\nbody\r\n';

describe('send() with mtPriority', () => {
  it('sends MT-PRIORITY when the server offers it, and the server lowers what it does not grant', async () => {
    const { port, priorities } = await start({ mtPriority: { maxPriority: 3 } });
    const client = createClient({ host: '127.0.0.1', port, pool: false, starttls: 'opportunistic' });
    await client.send({ from: 'a@example.com', to: 'b@mx.test', message, mtPriority: 6 });
    await client.send({ from: 'a@example.com', to: 'b@mx.test', message, mtPriority: -1 });
    await client.send({ from: 'a@example.com', to: 'b@mx.test', message });
    await client.close();
    expect(priorities).toEqual([3, -1, undefined]);
  });

  it('leaves it out for a server without MT-PRIORITY, and the message still goes', async () => {
    const { port, priorities } = await start({});
    const client = createClient({ host: '127.0.0.1', port, pool: false, starttls: 'opportunistic' });
    const result = await client.send({ from: 'a@example.com', to: 'b@mx.test', message, mtPriority: 9 });
    await client.close();
    expect(result.accepted).toHaveLength(1);
    expect(priorities).toEqual([undefined]);
  });

  it('refuses a priority outside -9..9 before anything is sent', async () => {
    const { port, priorities } = await start({ mtPriority: true });
    const client = createClient({ host: '127.0.0.1', port, pool: false, starttls: 'opportunistic' });
    await expect(
      client.send({ from: 'a@example.com', to: 'b@mx.test', message, mtPriority: 10 }),
    ).rejects.toThrow(SmtpUsageError);
    await client.close();
    expect(priorities).toEqual([]);
  });
});
