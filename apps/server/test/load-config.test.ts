import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/load-config.js';
import { temporaryDirectory } from './support/messages.js';

describe('loadConfig', () => {
  const empty = { argv: [], env: {}, cwd: '/nonexistent' };

  it('runs with zero configuration', () => {
    const { config, configFile } = loadConfig(empty);
    expect(configFile).toBeNull();
    expect(config.smtp).toMatchObject({ host: '127.0.0.1', port: 2525 });
    expect(config.http).toEqual({
      host: '127.0.0.1',
      port: 8025,
      allowedHosts: [],
      // No Basic auth, plain HTTP: the web UI is for the loopback by default.
      auth: { users: [] },
      tls: { enabled: false },
    });
    // Secure by default: plaintext AUTH decided from the listen address, release only to this machine.
    expect(config.smtp.auth.allowPlaintext).toBeUndefined();
    expect(config.release.allowedHosts).toEqual(['localhost', '127.0.0.1', '::1']);
    expect(config.storage.dataDir).toBe('./data');
    expect(config.retention.interval).toBe(60_000);
    expect(config.smtp).toMatchObject({ maxConnectionsPerIp: 50, maxConnectionRatePerIp: 100 });
  });

  it('layers file < environment < flags', () => {
    const directory = temporaryDirectory();
    writeFileSync(
      join(directory.path, 'smtp-app.yaml'),
      'smtp:\n  port: 3000\n  hostname: mail.test\nhttp:\n  port: 3001\nretention:\n  maxAge: 7d\n',
    );
    const { config, configFile } = loadConfig({
      argv: ['--http-port', '4001'],
      env: {
        SMTP_APP_SMTP_PORT: '4000',
        SMTP_APP_SMTP_AUTH_USERS: 'ann:secret,bo:p:w',
        SMTP_APP_SMTP_MAX_CONNECTION_RATE_PER_IP: '0',
      },
      cwd: directory.path,
    });
    expect(configFile).toBe(join(directory.path, 'smtp-app.yaml'));
    expect(config.smtp.port).toBe(4000);
    expect(config.smtp.hostname).toBe('mail.test');
    expect(config.smtp.maxConnectionRatePerIp).toBe(0);
    expect(config.http.port).toBe(4001);
    expect(config.retention.maxAge).toBe(7 * 86_400_000);
    expect(config.smtp.auth.users).toEqual([
      { username: 'ann', password: 'secret' },
      { username: 'bo', password: 'p:w' },
    ]);
    directory.remove();
  });

  it('reads http.allowedHosts as names or name:port, and names a bad entry', () => {
    const { config } = loadConfig({
      ...empty,
      env: { SMTP_APP_HTTP_ALLOWED_HOSTS: 'mail.example.com, proxy.example:8443,[::1]:8025' },
    });
    expect(config.http.allowedHosts).toEqual(['mail.example.com', 'proxy.example:8443', '[::1]:8025']);
    expect(() => loadConfig({ ...empty, argv: ['--http-allowed-hosts', 'bad host/'] })).toThrow(
      /http\.allowedHosts\.0: expected a host name or address, optionally with :port/,
    );
  });

  it('names the bad key and where its value came from', () => {
    expect(() => loadConfig({ ...empty, env: { SMTP_APP_SMTP_PORT: 'abc' } })).toThrow(
      /smtp\.port: .*number.*SMTP_APP_SMTP_PORT="abc"/,
    );
    expect(() => loadConfig({ ...empty, argv: ['--http-port', '70000'] })).toThrow(
      /http\.port: .*--http-port="70000"/,
    );
    expect(() => loadConfig({ ...empty, argv: ['--retention-max-age', 'soon'] })).toThrow(
      /retention\.maxAge: expected a duration/,
    );
  });

  it('rejects unknown keys in the file and unknown flags', () => {
    const directory = temporaryDirectory();
    const file = join(directory.path, 'custom.yaml');
    writeFileSync(file, 'smtp:\n  prot: 25\n');
    expect(() => loadConfig({ ...empty, argv: ['--config', file] })).toThrow(/smtp\.prot: unknown setting/);
    writeFileSync(file, 'smtp: [1, 2');
    expect(() => loadConfig({ ...empty, argv: ['-c', file] })).toThrow(ConfigError);
    expect(() => loadConfig({ ...empty, argv: ['--smtp-prot', '1'] })).toThrow(/--help/);
    directory.remove();
  });
});
