import { type RunningApp, startApp } from '../../src/app.js';
import { type AppConfigInput, configSchema } from '../../src/config/config-schema.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import { temporaryDirectory } from './messages.js';

/** The whole app in-process on ephemeral ports with a fresh data directory. */
export async function startTestApp(
  config: AppConfigInput = {},
  options: {
    webRoot?: string | null;
    logger?: Logger;
    certificateCheckMs?: number;
    readAvailableBytes?: (path: string) => Promise<number>;
    diskCheckMs?: number;
  } = {},
) {
  const directory = temporaryDirectory();
  const parsed = configSchema.parse({
    ...config,
    smtp: { port: 0, ...config.smtp },
    http: { port: 0, ...config.http },
    storage: { ...config.storage, dataDir: directory.path },
    log: { level: 'silent' },
  });
  const app: RunningApp = await startApp({
    config: parsed,
    logger: options.logger ?? createLogger('silent'),
    webRoot: options.webRoot === undefined ? null : options.webRoot,
    ...(options.certificateCheckMs === undefined ? {} : { certificateCheckMs: options.certificateCheckMs }),
    ...(options.readAvailableBytes === undefined ? {} : { readAvailableBytes: options.readAvailableBytes }),
    ...(options.diskCheckMs === undefined ? {} : { diskCheckMs: options.diskCheckMs }),
  });
  return {
    app,
    dataDir: directory.path,
    smtpPort: app.smtpAddress.port,
    baseUrl: app.httpUrl,
    async stop() {
      await app.stop();
      directory.remove();
    },
  };
}

export async function findBySubject(
  baseUrl: string,
  subject: string,
): Promise<{ id: string } & Record<string, unknown>> {
  const response = await fetch(
    `${baseUrl}/api/v1/messages?search=${encodeURIComponent(`subject:"${subject}"`)}`,
  );
  const page = (await response.json()) as {
    messages: ({ id: string; subject: string } & Record<string, unknown>)[];
  };
  const found = page.messages.find((message) => message.subject === subject);
  if (found === undefined) throw new Error(`No message with subject ${subject}`);
  return found;
}

export async function rawOf(baseUrl: string, id: string): Promise<Buffer> {
  return Buffer.from(await (await fetch(`${baseUrl}/api/v1/messages/${id}/raw`)).arrayBuffer());
}
