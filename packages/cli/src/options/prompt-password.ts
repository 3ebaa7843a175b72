import { createInterface } from 'node:readline';
import { usageError } from '../cli-error.js';

/**
 * Asks for a password on the terminal without echoing it. Only on a TTY: in scripts a prompt would hang,
 * so they get an error that says where the password can come from instead.
 */
export async function promptPassword(username: string): Promise<string> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw usageError(
      `--user ${username} needs a password: pass --password, set SMTP_PASSWORD, or run in a terminal to be asked`,
    );
  }
  const question = `Password for ${username}: `;
  const readline = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // Mute the echo: readline writes typed characters through _writeToOutput.
  const internal = readline as unknown as { _writeToOutput: (text: string) => void };
  let prompted = false;
  internal._writeToOutput = (text: string) => {
    if (!prompted) {
      process.stderr.write(text);
      prompted = true;
    }
  };
  try {
    return await new Promise<string>((resolve, reject) => {
      readline.question(question, resolve);
      readline.once('SIGINT', () => reject(usageError('no password given')));
    });
  } finally {
    process.stderr.write('\n');
    readline.close();
  }
}
