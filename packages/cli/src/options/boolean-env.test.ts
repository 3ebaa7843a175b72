import { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { CliError } from '../cli-error.js';
import { applyBooleanEnv, parseBooleanEnv } from './boolean-env.js';

describe('parseBooleanEnv', () => {
  it.each(['1', 'true', 'TRUE', 'Yes', ' yes '])('%j is true', (value) => {
    expect(parseBooleanEnv('SMTP_TLS', value)).toBe(true);
  });
  it.each(['0', 'false', 'False', 'NO', ''])('%j is false', (value) => {
    expect(parseBooleanEnv('SMTP_TLS', value)).toBe(false);
  });
  it.each(['on', 'off', 'y', '2', 'truthy'])('%j is a usage error naming the variable', (value) => {
    expect(() => parseBooleanEnv('SMTP_INSECURE', value)).toThrow(CliError);
    expect(() => parseBooleanEnv('SMTP_INSECURE', value)).toThrow(`SMTP_INSECURE='${value}'`);
  });
});

describe('applyBooleanEnv', () => {
  function parse(argv: string[], environment: Record<string, string>) {
    const command = new Command('probe')
      .addOption(new Option('--tls').env('SMTP_TLS'))
      .addOption(new Option('--timeout <duration>').env('SMTP_TIMEOUT'))
      .exitOverride()
      .action(() => {});
    const saved = { ...process.env };
    Object.assign(process.env, environment);
    try {
      command.parse(argv, { from: 'user' });
    } finally {
      for (const key of Object.keys(environment)) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
    applyBooleanEnv(command, environment);
    return command.opts();
  }

  it('turns a flag off when its variable says so (commander alone would turn it on)', () => {
    expect(parse([], { SMTP_TLS: '0' }).tls).toBe(false);
    expect(parse([], { SMTP_TLS: 'yes' }).tls).toBe(true);
  });

  it('lets the command line win and leaves options with values alone', () => {
    expect(parse(['--tls'], { SMTP_TLS: 'bogus' }).tls).toBe(true);
    expect(parse([], { SMTP_TIMEOUT: '10s' }).timeout).toBe('10s');
  });
});
