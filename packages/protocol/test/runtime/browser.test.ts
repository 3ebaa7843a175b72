// Runtime smoke test (house guide §2.6): the NEUTRAL build (dist/index.js, dist/testing.js) replays
// rfc5321-d1.smtp inside headless Chromium, which has no Node built-ins, no Buffer and no process.
// Needs `pnpm build` first (`pnpm test` builds) and Debian's chromium (`apt-get install -y chromium`).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const packageDirectory = fileURLToPath(new URL('../../', import.meta.url));
const distDirectory = join(packageDirectory, 'dist');
const fixturePath = join(packageDirectory, 'test/transcripts/rfc5321-d1.smtp');
const chromiumPath = '/usr/bin/chromium';

/** Serves dist/*.js and the fixture; nothing else. */
function serveFiles(): Promise<Server> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    if (path === '/') {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>smoke</title>');
      return;
    }
    if (path === '/rfc5321-d1.smtp') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end(readFileSync(fixturePath));
      return;
    }
    const match = /^\/dist\/([\w.-]+\.js)$/.exec(path);
    const file = match?.[1] === undefined ? null : join(distDirectory, match[1]);
    if (file === null || !existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

interface ReplayOutput {
  readonly actual: string;
  readonly expected: string;
}
interface PageResult {
  readonly hasBuffer: boolean;
  readonly hasSession: boolean;
  readonly server: ReplayOutput;
  readonly byteByByte: ReplayOutput;
  readonly client: ReplayOutput;
  readonly message: string;
  readonly idn: readonly (string | null)[];
}

// Runs in the page: plain browser globals and the two built modules only.
const pageScript = `(async () => {
  const testing = await import('/dist/testing.js');
  const protocol = await import('/dist/index.js');
  const text = await (await fetch('/rfc5321-d1.smtp')).text();
  const transcript = testing.parseTranscript(text);
  const server = testing.replayServer(transcript);
  const byteByByte = testing.replayServer(transcript, { chunkSizes: [1] });
  const client = testing.replayClient(transcript);
  const pick = (replay) => ({ actual: replay.actual, expected: replay.expected });
  return {
    hasBuffer: 'Buffer' in globalThis,
    hasSession: typeof protocol.ServerSession === 'function',
    server: pick(server),
    byteByByte: pick(byteByByte),
    client: pick(client),
    message: new TextDecoder().decode(server.messages[0]),
    // domainToAscii rests on the runtime's URL host parser: the browser's must give what Node's does.
    idn: ['bücher.example', 'münchen.中国', 'a\\u200db.example', 'ＡＢＣ.example'].map(protocol.domainToAscii),
  };
})()`;

describe('neutral build in headless Chromium', () => {
  let server: Server;
  let userDataDirectory: string;

  beforeAll(async () => {
    for (const built of ['index.js', 'testing.js'])
      if (!existsSync(join(distDirectory, built)))
        throw new Error(
          `dist/${built} is missing: run \`pnpm build\` in packages/protocol first (pnpm test does)`,
        );
    if (!existsSync(chromiumPath))
      throw new Error(`${chromiumPath} is missing: install it with \`apt-get install -y chromium\``);
    server = await serveFiles();
    userDataDirectory = mkdtempSync(join(tmpdir(), 'smtp-protocol-chromium-'));
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    if (userDataDirectory !== undefined) rmSync(userDataDirectory, { recursive: true, force: true });
  });

  it('replays rfc5321-d1.smtp against ServerSession and ClientSession; converts IDNs as Node does', async () => {
    const context = await chromium.launchPersistentContext(userDataDirectory, {
      executablePath: chromiumPath,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
      ],
    });
    try {
      const page = await context.newPage();
      const { port } = server.address() as AddressInfo;
      await page.goto(`http://127.0.0.1:${port}/`);
      // A string, not a function: vitest would rewrite import() inside a function into its own loader.
      const result = (await page.evaluate(pageScript)) as PageResult;
      expect(result.hasBuffer).toBe(false);
      expect(result.hasSession).toBe(true);
      expect(result.server.expected).toContain('S: 250 Message accepted');
      expect(result.server.actual).toBe(result.server.expected);
      expect(result.byteByByte.actual).toBe(result.byteByByte.expected);
      expect(result.client.actual).toBe(result.client.expected);
      // RFC 5321 Appendix D.1's body as sent, unstuffed (§4.5.2: one leading dot removed), no terminating dot.
      expect(result.message).toBe('Blah blah blah...\r\n..etc. etc. etc.\r\n');
      expect(result.idn).toEqual(['xn--bcher-kva.example', 'xn--mnchen-3ya.xn--fiqs8s', null, null]);
    } finally {
      await context.close();
    }
  }, 60_000);
});
