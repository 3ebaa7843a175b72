import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { temporaryDirectory } from './support/messages.js';

const empty = { argv: [], env: {}, cwd: '/nonexistent' };

function loadFile(yaml: string, argv: readonly string[] = []) {
  const directory = temporaryDirectory();
  const file = join(directory.path, 'smtp-app.yaml');
  writeFileSync(file, yaml);
  try {
    return loadConfig({ argv: ['--config', file, ...argv], env: {}, cwd: directory.path });
  } finally {
    directory.remove();
  }
}

describe('mode and the mta section', () => {
  it('defaults to capture mode, with production MTA defaults ready', () => {
    const { config } = loadConfig(empty);
    expect(config.mode).toBe('capture');
    expect(config.mta).toMatchObject({
      senderPolicy: 'own-addresses',
      dailyMessageLimit: 1000,
      relayNetworks: [],
      localDomains: [],
      users: [],
    });
    expect(config.mta.listeners).toEqual([
      { role: 'submission', host: '0.0.0.0', port: 587 },
      { role: 'submissions', host: '0.0.0.0', port: 465 },
    ]);
  });

  it('mta mode without a hostname is an error naming mta.hostname', () => {
    expect(() => loadConfig({ ...empty, argv: ['--mode', 'mta'] })).toThrow(
      /mta\.hostname: required when mode is mta/,
    );
    expect(() => loadConfig({ ...empty, env: { SMTP_APP_MODE: 'mta' } })).toThrow(/mta\.hostname/);
  });

  it('takes mode and hostname from the environment and flags', () => {
    const { config } = loadConfig({
      ...empty,
      env: { SMTP_APP_MODE: 'mta', SMTP_APP_MTA_RELAY_NETWORKS: '10.0.0.0/8, 2001:db8::/32' },
      argv: ['--mta-hostname', 'mail.example.com', '--mta-daily-message-limit', '50'],
    });
    expect(config.mode).toBe('mta');
    expect(config.mta.hostname).toBe('mail.example.com');
    expect(config.mta.relayNetworks).toEqual(['10.0.0.0/8', '2001:db8::/32']);
    expect(config.mta.dailyMessageLimit).toBe(50);
  });

  it('reads users, addresses, listeners with port defaults by role from the file', () => {
    const { config } = loadFile(
      [
        'mode: mta',
        'mta:',
        '  hostname: mail.example.com',
        '  localDomains: [Example.COM]',
        '  users:',
        '    - { username: alice@example.com, password: secret }',
        '    - { username: bob, password: pw, addresses: ["*@Example.org"], dailyMessageLimit: 5 }',
        '  listeners:',
        '    - { role: relay, host: 127.0.0.1 }',
        '    - { role: submission, port: 1587 }',
      ].join('\n'),
    );
    expect(config.mta.localDomains).toEqual(['example.com']);
    expect(config.mta.users[1]).toEqual({
      username: 'bob',
      password: 'pw',
      addresses: ['*@example.org'],
      dailyMessageLimit: 5,
    });
    expect(config.mta.listeners).toEqual([
      { role: 'relay', host: '127.0.0.1', port: 25 },
      { role: 'submission', host: '0.0.0.0', port: 1587 },
    ]);
  });

  it.each([
    ['mode: relay', /mode: /],
    ['mta:\n  relayNetworks: [10.0.0.0/33]', /mta\.relayNetworks\.0: expected an IPv4\/IPv6 address or CIDR/],
    ['mta:\n  relayNetworks: [localhost]', /mta\.relayNetworks\.0: /],
    ['mta:\n  senderPolicy: anyone', /mta\.senderPolicy: /],
    ['mta:\n  listeners: [{ role: lmtp }]', /mta\.listeners\.0\.role: /],
    ['mta:\n  listeners: []', /mta\.listeners: /],
    [
      'mta:\n  users: [{ username: a, password: x, addresses: [alice] }]',
      /mta\.users\.0\.addresses\.0: expected an address/,
    ],
    [
      'mta:\n  users: [{ username: a, password: "scrypt$1$2" }]',
      /mta\.users\.0\.password: starts with scrypt\$/,
    ],
    ['mta:\n  userz: []', /mta\.userz: unknown setting/],
    ['mode: mta\nmta:\n  hostname: m.example\n  tls: { certFile: a.pem }', /mta\.tls: certFile and keyFile/],
  ])('rejects %j', (yaml, message) => {
    expect(() => loadFile(yaml)).toThrow(message);
  });
});
