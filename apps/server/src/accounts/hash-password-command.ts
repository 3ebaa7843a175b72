import { hashPassword } from './password-hash.js';

/**
 * `smtp-app hash-password`: reads a password from stdin (first line, so `echo pw | smtp-app
 * hash-password` and an interactive prompt both work) and prints the scrypt$… hash for mta.users.
 * Never from argv: command lines end up in shell history and `ps`.
 */
export async function runHashPasswordCommand(
  input: AsyncIterable<Uint8Array | string>,
  output: { write(text: string): unknown },
): Promise<number> {
  let text = '';
  for await (const chunk of input) {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (text.includes('\n')) break;
  }
  const password = text.split(/\r?\n/)[0] ?? '';
  if (password === '') {
    output.write(
      'smtp-app hash-password: no password on stdin (echo "$PASSWORD" | smtp-app hash-password)\n',
    );
    return 64; // EX_USAGE
  }
  output.write(`${await hashPassword(password)}\n`);
  return 0;
}
