import { afterEach, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from '../src/app.js';
import { configSchema } from '../src/config/config-schema.js';
import { parseMessage } from '../src/mime/parse-message.js';
import { createLogger } from '../src/observability/logger.js';
import { SqliteStorage } from '../src/sqlite/sqlite-storage.js';
import { composeRaw, newMessage, receiveWhole, temporaryDirectory } from './support/messages.js';

/**
 * A crash between the commit of a message (its 250) and the commit of its parse leaves the message
 * stored but unparsed. Starting the app again must parse it: subject, search, SSE-visible summary.
 */
describe('startup recovery of unparsed messages', () => {
  const directory = temporaryDirectory();
  let app: RunningApp | null = null;
  afterEach(async () => {
    await app?.stop();
    directory.remove();
  });

  it('parses and indexes messages that were stored but never parsed', async () => {
    const path = `${directory.path}/messages.sqlite`;
    const crashed = new SqliteStorage({ parse: parseMessage, path });
    const messages = await Promise.all(
      Array.from({ length: 7 }, (_, index) =>
        newMessage(composeRaw({ subject: `Recovered ${index}`, body: `orphan number${index}` })),
      ),
    );
    // Only what the store stage commits before the 250: as if the process died right after it.
    for (const { id, receivedAtMs, envelope, session, raw } of messages) {
      await receiveWhole(crashed.spool, { id, receivedAtMs, envelope, session, raw });
    }
    await crashed.close();

    app = await startApp({
      config: configSchema.parse({
        smtp: { port: 0 },
        http: { port: 0 },
        storage: { dataDir: directory.path },
        log: { level: 'silent' },
      }),
      logger: createLogger('silent'),
      webRoot: null,
    });
    await app.recovered;
    expect(await app.mailbox.listUnparsed(100)).toEqual([]);
    for (const [index, message] of messages.entries()) {
      const stored = await app.mailbox.get(message.id);
      expect(stored).toMatchObject({ subject: `Recovered ${index}`, isParsed: true });
    }
    const response = await fetch(`${app.httpUrl}/api/v1/messages?search=number3`);
    const page = (await response.json()) as { messages: { id: string; subject: string }[] };
    expect(page.messages.map((message) => message.subject)).toEqual(['Recovered 3']);
  });
});
