import { requireTool } from '@smtp/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp } from './support/app-harness.js';
import { runProcess } from './support/run-process.js';

const python = '/usr/bin/python3';

/**
 * One smtplib session: EHLO, MAIL, RCPT for each recipient, DATA. Prints one JSON line: the
 * outcome of each step, with the code and text of a refusal.
 */
const smtplibSession = (port: number, recipients: readonly string[], subject: string) => `
import json, smtplib, sys
steps = []
try:
    client = smtplib.SMTP('127.0.0.1', ${port}, timeout=20)
except smtplib.SMTPConnectError as error:
    print(json.dumps({'connect': [error.smtp_code, error.smtp_error.decode()]})); sys.exit(0)
code, text = client.ehlo()
steps.append(['ehlo', code, text.decode().split('\\n')[0]])
code, text = client.mail('app@example.com')
steps.append(['mail', code, text.decode()])
accepted = 0
for rcpt in ${JSON.stringify(recipients)}:
    code, text = client.rcpt(rcpt)
    steps.append(['rcpt', code, text.decode()])
    accepted += code == 250
if accepted:
    code, text = client.data('Subject: ${subject}\\r\\n\\r\\nbody\\r\\n')
    steps.append(['data', code, text.decode()])
client.quit()
print(json.dumps({'steps': steps}))
`;

type Step = [string, number, string];

describe('chaos: SMTP fault injection seen by a real client (python smtplib)', () => {
  let harness: Awaited<ReturnType<typeof startTestApp>>;

  beforeAll(async () => {
    requireTool(python, 'apt-get install -y python3');
    harness = await startTestApp({
      chaos: { rcpt: { code: 451, enhanced: '4.3.2', text: 'Try again later (chaos)', probability: 100 } },
    });
  }, 60_000);
  afterAll(() => harness.stop());

  async function session(recipients: readonly string[], subject: string) {
    const result = await runProcess(python, ['-c', smtplibSession(harness.smtpPort, recipients, subject)], {
      timeoutMs: 60_000,
    });
    expect(result.stderr).toBe('');
    return JSON.parse(result.stdout) as { steps?: Step[]; connect?: [number, string] };
  }
  const putChaos = async (body: unknown) => {
    const response = await fetch(`${harness.baseUrl}/api/v1/chaos`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const messageCount = async () =>
    ((await (await fetch(`${harness.baseUrl}/api/v1/messages`)).json()) as { count: number }).count;

  it('answers RCPT with the configured 451 4.3.2 and stores nothing; the metric counts it', async () => {
    const { steps } = await session(['a@example.net', 'b@example.net'], 'refused');
    expect(steps).toEqual([
      ['ehlo', 250, expect.any(String)],
      ['mail', 250, expect.any(String)],
      ['rcpt', 451, '4.3.2 Try again later (chaos)'],
      ['rcpt', 451, '4.3.2 Try again later (chaos)'],
    ]);
    expect(await messageCount()).toBe(0);
    const metrics = await (await fetch(`${harness.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/smtp_chaos_faults_total\{stage="rcpt",code="451"\} 2/);
    const current = await (await fetch(`${harness.baseUrl}/api/v1/chaos`)).json();
    expect(current).toEqual({
      rcpt: { code: 451, enhanced: '4.3.2', text: 'Try again later (chaos)', probability: 100, delayMs: 0 },
    });
  });

  it('probability 0 never fires: 30 sessions all delivered', async () => {
    expect(
      (await putChaos({ rcpt: { code: 451, probability: 0 }, mail: { code: 550, probability: 0 } })).status,
    ).toBe(200);
    for (let index = 0; index < 30; index += 1) {
      const { steps } = await session(['a@example.net'], `zero ${index}`);
      expect(steps?.map(([, code]) => code)).toEqual([250, 250, 250, 250]);
    }
    expect(await messageCount()).toBe(30);
  }, 120_000);

  it('applies a fault replaced through the API at DATA, MAIL and connect; {} switches chaos off', async () => {
    await putChaos({ data: { code: 554, enhanced: '5.6.0', text: 'Rejected by chaos' } });
    const before = await messageCount();
    const refused = await session(['a@example.net'], 'data refused');
    expect(refused.steps?.at(-1)).toEqual(['data', 554, '5.6.0 Rejected by chaos']);
    expect(await messageCount()).toBe(before);

    await putChaos({ mail: { code: 452, text: 'Busy' } });
    const mail = await session(['a@example.net'], 'mail refused');
    expect(mail.steps?.[1]).toEqual(['mail', 452, '4.0.0 Busy']);

    await putChaos({ connect: { code: 421, enhanced: '4.3.2', text: 'Not now' } });
    // The greeting names the server (RFC 5321 §4.3.1); enhanced codes come only after EHLO.
    expect((await session(['a@example.net'], 'no greeting')).connect).toEqual([421, 'localhost Not now']);

    await putChaos({});
    const clean = await session(['a@example.net'], 'clean again');
    expect(clean.steps?.map(([, code]) => code)).toEqual([250, 250, 250, 250]);
  });

  it('answers AUTH with the configured temporary failure', async () => {
    await putChaos({ auth: { code: 454, enhanced: '4.7.0', text: 'Auth backend down (chaos)' } });
    const script = `
import smtplib
client = smtplib.SMTP('127.0.0.1', ${harness.smtpPort}, timeout=20)
try:
    client.login('user', 'secret')
    print('accepted')
except smtplib.SMTPAuthenticationError as error:
    print(error.smtp_code, error.smtp_error.decode())
client.quit()
`;
    const result = await runProcess(python, ['-c', script]);
    expect(result.stdout.trim()).toBe('454 4.7.0 Auth backend down (chaos)');
    await putChaos({});
  });

  it('delays a stage without refusing it', async () => {
    await putChaos({ mail: { delayMs: 600 } });
    const script = `
import smtplib, time
client = smtplib.SMTP('127.0.0.1', ${harness.smtpPort}, timeout=20)
client.ehlo()
started = time.monotonic()
code, _ = client.mail('app@example.com')
print(code, round((time.monotonic() - started) * 1000))
client.quit()
`;
    const result = await runProcess(python, ['-c', script]);
    const [code, elapsedMs] = result.stdout.trim().split(' ').map(Number);
    expect(code).toBe(250);
    expect(elapsedMs).toBeGreaterThanOrEqual(590);
    await putChaos({});
  });

  it('refuses bad chaos settings with 400 and keeps the old ones', async () => {
    await putChaos({ rcpt: { code: 451, probability: 0 } });
    expect((await putChaos({ rcpt: { code: 250 } })).status).toBe(400);
    expect((await putChaos({ rcpt: { code: 451, enhanced: '5.1.1' } })).status).toBe(400);
    expect((await putChaos({ rcpt: { code: 451, probability: 101 } })).status).toBe(400);
    expect((await putChaos({ quit: { code: 421 } })).status).toBe(400);
    const current = (await (await fetch(`${harness.baseUrl}/api/v1/chaos`)).json()) as {
      rcpt: { probability: number };
    };
    expect(current.rcpt.probability).toBe(0);
  });
});
