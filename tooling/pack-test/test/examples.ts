// The examples the packed packages must run and type-check: the README's own where it runs as
// written (protocol, client: only the port is changed), else the README's API on a free port.
import { join } from 'node:path';
import { readExample } from './readme-example.js';

export function protocolExample(workspace: string): string {
  return readExample(join(workspace, 'packages/protocol/README.md'), '## Example');
}

export function clientExample(workspace: string, port: number): string {
  const example = readExample(join(workspace, 'packages/client/README.md'), null)
    .replace("host: 'localhost'", "host: '127.0.0.1'")
    .replace('port: 1025', `port: ${port}`);
  if (!example.includes(`port: ${port}`))
    throw new Error('the client README example no longer sends to port 1025');
  return example;
}

export const testingExample = [
  "import { parseTranscript } from '@smtp/protocol/testing';",
  "const transcript = parseTranscript('S: 220 mx.example ESMTP\\nC: QUIT\\nS: 221 bye\\n');",
  'console.log(transcript.steps.length);',
  '',
].join('\n');

// The server README's example needs port 25 and certificate files; this is the same API on a free port.
export const serverExample = `import { createServer, SmtpReplyError } from '@smtp/server';
import { sendMail } from '@smtp/client';
import { text } from 'node:stream/consumers';

let received = '';
const server = createServer({
  hostname: 'mx.example.com',
  async onRcptTo(to) {
    if (to === 'Postmaster') return;
    if (to.localPart !== 'alice') {
      throw new SmtpReplyError({ code: 550, enhanced: '5.1.1', text: 'No such user' });
    }
  },
  async onData(stream, session) {
    received = await text(stream);
    return \`Queued as \${session.id}\`;
  },
});
const address = await server.listen({ port: 0, host: '127.0.0.1' });
try {
  await sendMail({ host: '127.0.0.1', port: address.port, from: 'a@example.org', to: 'alice@mx.example.com', subject: 'Hi', text: 'Hello Alice' });
  console.log(received.includes('Hello Alice') ? 'received' : 'missing');
  try {
    await sendMail({ host: '127.0.0.1', port: address.port, from: 'a@example.org', to: 'bob@mx.example.com', text: 'x' });
    console.log('bob accepted');
  } catch (error) {
    console.log(error instanceof Error ? error.message : String(error));
  }
} finally {
  await server.close();
}
`;
