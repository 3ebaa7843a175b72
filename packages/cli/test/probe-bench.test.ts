import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCertificate } from './helpers/certificates.js';
import { runCli, type ServeProcess, startServe } from './helpers/cli.js';
import { schemaErrors } from './helpers/schemas.js';

describe('smtp probe and smtp bench → smtp serve', () => {
  const certificate = createTestCertificate('probe.test');
  let server: ServeProcess;
  let plain: ServeProcess;

  beforeAll(async () => {
    [server, plain] = await Promise.all([
      startServe([
        '--listen',
        '127.0.0.1:0',
        '--listen-tls',
        '127.0.0.1:0',
        '--tls-cert',
        certificate.certPath,
        '--tls-key',
        certificate.keyPath,
        '--auth',
        'dave:pw',
        '--max-size',
        '5M',
      ]),
      startServe(['--listen', '127.0.0.1:0']),
    ]);
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), plain?.stop()]);
  });

  it('reports banner, capabilities, STARTTLS certificate and AUTH in --json', async () => {
    const result = await runCli(['probe', `127.0.0.1:${server.port}`, '--insecure', '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(schemaErrors('probe', report)).toBe('');
    expect(report.greeting.code).toBe(220);
    expect(report.capabilities.map((item: { keyword: string }) => item.keyword)).toEqual(
      expect.arrayContaining(['PIPELINING', 'STARTTLS', 'SIZE']),
    );
    expect(report.capabilities.find((item: { keyword: string }) => item.keyword === 'SIZE')).toMatchObject({
      parameters: String(5 * 1024 * 1024),
    });
    expect(report.tls).toMatchObject({ mode: 'starttls', offered: true, verified: false });
    expect(report.tls.protocol).toMatch(/^TLSv1\.[23]$/);
    // The certificate made by openssl for this test.
    expect(report.tls.certificate.subject).toContain('CN=probe.test');
    expect(report.tls.certificate.subjectAltNames).toEqual(['DNS:localhost', 'IP Address:127.0.0.1']);
    expect(report.tls.certificate.selfSigned).toBe(true);
    expect(report.tls.certificate.daysLeft).toBeGreaterThanOrEqual(28);
    // Plaintext AUTH is offered only after STARTTLS.
    expect(report.auth.mechanisms).toEqual(expect.arrayContaining(['PLAIN', 'LOGIN']));
    expect(report.auth.mechanismsBeforeTls).not.toContain('PLAIN');
    expect(report.timings.noopMs).toBeGreaterThanOrEqual(0);
  });

  it('exits 4 when the certificate does not verify (without --insecure), and says why', async () => {
    const result = await runCli(['probe', `127.0.0.1:${server.port}`]);
    expect(result.code).toBe(4);
    expect(result.stdout).toMatch(/verified\s+no: /);
    expect(result.stdout).toMatch(/issuer .*\(self-signed\)/);
  });

  it('probes implicit TLS and prints the transcript on request', async () => {
    const result = await runCli(['probe', `127.0.0.1:${server.tlsPort}`, '--tls', '-k', '--transcript']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^== tls ==$/m);
    expect(result.stdout).toMatch(/^C: EHLO /m);
    expect(result.stdout).toMatch(/^TLS\s+implicit TLS: TLSv1\.[23] /m);
  });

  it('warns when a server offers no TLS', async () => {
    const result = await runCli(['probe', `127.0.0.1:${plain.port}`]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/TLS\s+not offered/);
  });

  it('benchmarks and reports statistics matching schemas/bench.schema.json', async () => {
    const result = await runCli([
      'bench',
      '-s',
      `127.0.0.1:${plain.port}`,
      '--count',
      '40',
      '--concurrency',
      '4',
      '--size',
      '4k',
      '--json',
    ]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(schemaErrors('bench', report)).toBe('');
    expect(report.results).toMatchObject({ messages: 40, succeeded: 40, failed: 0, errors: {} });
    const latency = report.results.latencyMs;
    expect(latency.min).toBeLessThanOrEqual(latency.p50);
    expect(latency.p50).toBeLessThanOrEqual(latency.p95);
    expect(latency.p95).toBeLessThanOrEqual(latency.p99);
    expect(latency.p99).toBeLessThanOrEqual(latency.max);
    expect(report.results.messagesPerSecond).toBeGreaterThan(0);
  });

  it('counts bench errors by reply code (530: AUTH required)', async () => {
    // One connection, three messages: each pipelined MAIL/RCPT/DATA costs the session three permanent
    // errors (530, 503, 503), so a fourth on one connection would reach smtp serve's limit of 10 and
    // get 421. With two connections, which one takes more messages depends on the machine's load.
    const result = await runCli([
      'bench',
      '-s',
      `127.0.0.1:${server.port}`,
      '--count',
      '3',
      '--concurrency',
      '1',
      '-k',
      '--json',
    ]);
    expect(result.code).toBe(3);
    const report = JSON.parse(result.stdout);
    expect(schemaErrors('bench', report)).toBe('');
    expect(report.results.errors).toEqual({ 530: 3 });
  });

  it('bench --user sends through the client pool with AUTH (after STARTTLS) and delivers every message', async () => {
    const result = await runCli(
      [
        'bench',
        '-s',
        `127.0.0.1:${server.port}`,
        '--user',
        'dave',
        '--count',
        '12',
        '-c',
        '2',
        '-k',
        '--json',
      ],
      { env: { SMTP_PASSWORD: 'pw' } },
    );
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(schemaErrors('bench', report)).toBe('');
    expect(report.results).toMatchObject({ messages: 12, succeeded: 12, failed: 0, errors: {} });
  });
});
