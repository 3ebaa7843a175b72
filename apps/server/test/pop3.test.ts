import { connect } from 'node:net';
import { requireTool } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rawOf, startTestApp } from './support/app-harness.js';
import { composeRaw, newMessage } from './support/messages.js';
import { runProcess } from './support/run-process.js';

const python = '/usr/bin/python3';
const clientScript = new URL('./support/pop3-client.py', import.meta.url).pathname;
const reader = { username: 'reader', password: 'correct horse' };

type Command = [string, ...(string | number)[]];
interface ClientRun {
  welcome: string | null;
  cipher: string | null;
  failure?: string;
  results: ({ ok: unknown } | { error: string })[];
}

/** Python's poplib against the app: plain, STLS or POP3S. */
async function pop3(mode: 'plain' | 'stls' | 'pop3s', port: number, commands: Command[]): Promise<ClientRun> {
  const result = await runProcess(
    python,
    [clientScript, mode, '127.0.0.1', String(port), JSON.stringify(commands)],
    {
      timeoutMs: 60_000,
    },
  );
  if (result.code !== 0) throw new Error(`pop3-client.py failed: ${result.stderr}`);
  const run = JSON.parse(result.stdout) as ClientRun;
  if (run.failure !== undefined) throw new Error(`pop3-client.py: ${run.failure}`);
  return run;
}

const login: Command[] = [
  ['user', reader.username],
  ['pass_', reader.password],
];
const bytesOf = (value: unknown) => Buffer.from((value as { bytes: string }).bytes, 'base64');

describe('POP3 listener with real clients (poplib)', () => {
  let harness: Awaited<ReturnType<typeof startTestApp>>;
  let pop3Port: number;
  let pop3sPort: number;
  const ids: string[] = [];

  beforeAll(async () => {
    requireTool(python, 'apt-get install python3');
    harness = await startTestApp({
      pop3: { port: 0, implicitTlsPort: 0, users: [reader], maxFailedLogins: 3 },
    });
    pop3Port = harness.app.pop3Address?.port ?? 0;
    pop3sPort = harness.app.pop3sAddress?.port ?? 0;
    const raws = [
      composeRaw({ subject: 'first' }),
      // RFC 1939 §3: lines starting with "." are stuffed on the wire; poplib unstuffs them.
      composeRaw({ subject: 'dots', body: '.leading dot\r\n..two dots\r\n.\r\nend' }),
      // Larger than one 64 KiB slice, with a dot line right where slices may fall.
      composeRaw({
        subject: 'third',
        body: Array.from({ length: 4000 }, (_, line) => `${line % 7 === 0 ? '.' : ''}${'x'.repeat(70)}`).join(
          '\r\n',
        ),
      }),
    ];
    for (const [index, raw] of raws.entries()) {
      const message = await newMessage(raw, { receivedAtMs: 1_700_000_000_000 + index });
      await harness.app.mailbox.insert(message);
      ids.push(message.id);
    }
  }, 60_000);

  afterAll(async () => harness?.stop());

  test('the listeners API names the POP3 addresses', async () => {
    const listeners = (await (await fetch(`${harness.baseUrl}/api/v1/listeners`)).json()) as Record<
      string,
      unknown
    >;
    expect(listeners.pop3).toEqual({ host: '127.0.0.1', port: pop3Port });
    expect(listeners.pop3s).toEqual({ host: '127.0.0.1', port: pop3sPort });
  });

  test.each(['plain', 'stls', 'pop3s'] as const)(
    '%s: STAT/LIST/UIDL match the store; RETR bytes equal the raw message',
    async (mode) => {
      const run = await pop3(mode, mode === 'pop3s' ? pop3sPort : pop3Port, [
        ...login,
        ['stat'],
        ['list'],
        ['uidl'],
        ['retr', 1],
        ['retr', 2],
        ['retr', 3],
        ['top', 2, 1],
        ['quit'],
      ]);
      expect(run.welcome).toMatch(/^\+OK /);
      if (mode !== 'plain') expect(run.cipher).toMatch(/^TLS_|AES|CHACHA/);
      const raws = await Promise.all(ids.map((id) => rawOf(harness.baseUrl, id)));
      expect(run.results.filter((result) => 'error' in result)).toEqual([]);
      const [, pass, stat, list, uidl, first, second, third, top] = run.results.map((result) =>
        'ok' in result ? result.ok : null,
      );
      expect(pass).not.toBeNull();
      const totalBytes = raws.reduce((sum, raw) => sum + raw.length, 0);
      expect(stat).toEqual([3, totalBytes]);
      const [, listLines] = list as [unknown, unknown[]];
      expect(listLines.map(bytesOf).map(String)).toEqual(
        raws.map((raw, index) => `${index + 1} ${raw.length}`),
      );
      const [, uidlLines] = uidl as [unknown, unknown[]];
      expect(uidlLines.map(bytesOf).map(String)).toEqual(ids.map((id, index) => `${index + 1} ${id}`));
      for (const [index, retrieved] of [first, second, third].entries()) {
        const [, body] = retrieved as [unknown, unknown];
        expect(bytesOf(body).equals(raws[index] as Buffer)).toBe(true);
      }
      expect(String(bytesOf((second as unknown[])[1]))).toContain(
        '\r\n.leading dot\r\n..two dots\r\n.\r\nend',
      );
      const [, topBody] = top as [unknown, unknown];
      const header = String(raws[1]).split('\r\n\r\n')[0];
      expect(String(bytesOf(topBody))).toBe(`${header}\r\n\r\n.leading dot\r\n`);
    },
    120_000,
  );

  test('a wrong password gets -ERR [AUTH]; repeated failures are refused with [SYS/TEMP]', async () => {
    const wrong: Command[] = [
      ['user', reader.username],
      ['pass_', 'guess'],
    ];
    const run = await pop3('plain', pop3Port, [...wrong, ...wrong, ...wrong, ...wrong]);
    const errors = run.results
      .filter((result) => 'error' in result)
      .map((result) => (result as { error: string }).error);
    expect(errors[0]).toBe('-ERR [AUTH] Invalid user name or password');
    expect(errors[1]).toBe('-ERR [AUTH] Invalid user name or password');
    // The third failure closes this session (per connection) and fills the address's window (3).
    expect(errors[2]).toBe('-ERR [AUTH] Too many failed logins; closing');
    // Now even the right password is refused from this address until the window ends.
    const blocked = await pop3('plain', pop3Port, login);
    expect(blocked.results[1]).toEqual({
      error: '-ERR [SYS/TEMP] Too many failed logins from your address; try again later',
    });
  }, 120_000);
});

describe('POP3 DELE and the snapshot', () => {
  let harness: Awaited<ReturnType<typeof startTestApp>>;

  beforeAll(async () => {
    requireTool(python, 'apt-get install python3');
    harness = await startTestApp({ pop3: { port: 0, users: [reader], idleTimeout: '2s' } });
  }, 60_000);

  afterAll(async () => harness?.stop());

  test('DELE then QUIT removes the message from the API; without QUIT nothing is removed', async () => {
    const kept = await newMessage(composeRaw({ subject: 'kept' }), { receivedAtMs: 1_700_000_000_000 });
    const doomed = await newMessage(composeRaw({ subject: 'doomed' }), { receivedAtMs: 1_700_000_000_001 });
    await harness.app.mailbox.insert(kept);
    await harness.app.mailbox.insert(doomed);
    const port = harness.app.pop3Address?.port ?? 0;

    // Marked but the client drops the connection: RFC 1939 §6, no UPDATE.
    const dropped = await pop3('plain', port, [...login, ['dele', 2]]);
    expect(dropped.results[2]).toEqual({
      ok: { bytes: Buffer.from('+OK Message 2 deleted').toString('base64') },
    });
    expect((await fetch(`${harness.baseUrl}/api/v1/messages/${doomed.id}`)).status).toBe(200);

    const run = await pop3('plain', port, [...login, ['dele', 2], ['quit']]);
    expect(String(bytesOf(run.results[3] && (run.results[3] as { ok: unknown }).ok))).toBe(
      '+OK Bye; 1 deleted',
    );
    expect((await fetch(`${harness.baseUrl}/api/v1/messages/${doomed.id}`)).status).toBe(404);
    expect((await fetch(`${harness.baseUrl}/api/v1/messages/${kept.id}`)).status).toBe(200);
  }, 120_000);

  test('the maildrop is a snapshot: mail arriving during a session shows at the next login', async () => {
    const port = harness.app.pop3Address?.port ?? 0;
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    const waitFor = async (pattern: RegExp) => {
      for (let attempt = 0; attempt < 600 && !pattern.test(received); attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(received).toMatch(pattern);
    };
    await waitFor(/^\+OK/);
    socket.write(`USER ${reader.username}\r\nPASS ${reader.password}\r\nSTAT\r\n`);
    await waitFor(/\+OK (\d+) \d+\r\n$/);
    const before = Number(/\+OK (\d+) \d+\r\n$/.exec(received)?.[1]);
    await harness.app.mailbox.insert(await newMessage(composeRaw({ subject: 'late' })));
    received = '';
    socket.write('STAT\r\n');
    await waitFor(/\r\n$/);
    expect(received).toMatch(new RegExp(`^\\+OK ${before} `));
    socket.end('QUIT\r\n');
    const next = await pop3('plain', port, [...login, ['stat']]);
    expect((next.results[2] as { ok: [number, number] }).ok[0]).toBe(before + 1);
  }, 120_000);

  test('an overlong line gets a clear -ERR and the session goes on', async () => {
    const port = harness.app.pop3Address?.port ?? 0;
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    socket.write(`USER ${'x'.repeat(5000)}\r\nNOOP\r\nQUIT\r\n`);
    await new Promise((resolve) => socket.on('close', resolve));
    expect(received).toMatch(
      /^\+OK [^\r]*\r\n-ERR Line too long \(at most 1024 octets\)\r\n-ERR Command not valid in this state\r\n\+OK Bye\r\n$/,
    );
  }, 60_000);

  test('AUTH PLAIN (RFC 5034) logs in; an idle session is logged out without UPDATE', async () => {
    const port = harness.app.pop3Address?.port ?? 0;
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    const credentials = Buffer.from(`\0${reader.username}\0${reader.password}`).toString('base64');
    socket.write(`AUTH PLAIN ${credentials}\r\nDELE 1\r\n`);
    const closed = new Promise((resolve) => socket.on('close', resolve));
    await closed;
    expect(received).toMatch(
      /^\+OK [^\r]*\r\n\+OK Logged in; \d+ messages \(\d+ octets\)\r\n\+OK Message 1 deleted\r\n-ERR Disconnected for inactivity\r\n$/,
    );
    const after = await pop3('plain', port, [...login, ['stat']]);
    expect((after.results[2] as { ok: [number, number] }).ok[0]).toBeGreaterThan(0);
  }, 60_000);
});
