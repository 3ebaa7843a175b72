import type { Command } from 'commander';
import { usageError } from '../cli-error.js';

const trueWords = ['1', 'true', 'yes'];
const falseWords = ['0', 'false', 'no'];

/**
 * `SMTP_TLS=yes` → true, `SMTP_TLS=0` → false (case-insensitive); empty counts as unset (`SMTP_TLS= smtp …`).
 * Anything else is a usage error naming the variable.
 */
export function parseBooleanEnv(name: string, value: string): boolean {
  const word = value.trim().toLowerCase();
  if (word === '') return false;
  if (trueWords.includes(word)) return true;
  if (falseWords.includes(word)) return false;
  throw usageError(`${name}='${value}': give 1/0, true/false or yes/no`);
}

/**
 * Commander turns a flag without a value on whenever its environment variable is set, even to "0" or
 * "false". Run before the action: every flag of `command` that took its value from the environment is
 * set from what the variable says instead. A flag given on the command line wins, as before.
 */
export function applyBooleanEnv(command: Command, environment: NodeJS.ProcessEnv = process.env): void {
  for (const option of command.options) {
    if (option.envVar === undefined || option.required || option.optional || option.negate) continue;
    const key = option.attributeName();
    if (command.getOptionValueSource(key) !== 'env') continue;
    const value = environment[option.envVar];
    if (value === undefined) continue;
    command.setOptionValueWithSource(key, parseBooleanEnv(option.envVar, value), 'env');
  }
}
