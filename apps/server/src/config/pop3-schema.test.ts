import { expect, test } from 'vitest';
import { configSchema } from './config-schema.js';

const reader = { username: 'reader', password: 'secret' };

test('POP3 is off by default, with RFC 1939 autologout of 10 minutes', () => {
  const { pop3 } = configSchema.parse({});
  expect(pop3.port).toBeUndefined();
  expect(pop3.implicitTlsPort).toBeUndefined();
  expect(pop3.idleTimeout).toBe(600_000);
  expect(pop3.allowPlaintext).toBe(false);
});

test('POP3 needs users: its own or the web UI users', () => {
  const missing = configSchema.safeParse({ pop3: { port: 1110 } });
  expect(missing.success).toBe(false);
  expect(missing.error?.issues[0]?.message).toMatch(/POP3 needs users: set pop3\.users/);
  expect(configSchema.safeParse({ pop3: { port: 1110, users: [reader] } }).success).toBe(true);
  expect(
    configSchema.safeParse({ pop3: { implicitTlsPort: 1995 }, http: { auth: { users: [reader] } } }).success,
  ).toBe(true);
});

test('POP3 serves the capture inbox only', () => {
  const result = configSchema.safeParse({
    mode: 'mta',
    mta: { hostname: 'mx.example.com' },
    pop3: { port: 1110, users: [reader] },
  });
  expect(result.error?.issues.map((issue) => issue.message)).toContain(
    'POP3 serves the capture inbox: capture mode only',
  );
});
