import { serializeDomain, serializeForwardPath, serializeReversePath } from '../address/serialize-path.js';
import { encodeBase64 } from '../bytes/base64.js';
import { encodeXtext } from '../bytes/xtext.js';
import { SmtpUsageError } from '../errors.js';
import type { Command } from './command.js';
import { serializeMailParameters } from './mail-parameters.js';
import { serializeRcptParameters } from './rcpt-parameters.js';

const mechanismPattern = /^[A-Z0-9_-]{1,20}$/;
const attributeName = /^[A-Z][A-Z0-9-]*$/;
/** Free-text arguments must stay on one line: no controls (CR, LF, NUL...) and no DEL. */
const controlCharacter = /[\u0000-\u001f\u007f]/;

function withParameters(head: string, parameters: string): string {
  return parameters.length === 0 ? head : `${head} ${parameters}`;
}

function serializeText(verb: string, argument: string, required: boolean): string {
  if (controlCharacter.test(argument))
    throw new SmtpUsageError(`${verb} argument must not contain control characters`);
  if (required && argument.trim().length === 0) throw new SmtpUsageError(`${verb} needs an argument`);
  if (argument.length === 0) return verb;
  return `${verb} ${argument}`;
}

/**
 * The command line without its CRLF; `parseCommand(encodeUtf8(serializeCommand(c)))` gives back `c`
 * (under SMTPUTF8 syntax when `c` holds UTF-8). Values that cannot be written throw SmtpUsageError,
 * so a caller's string can never inject a second command.
 */
export function serializeCommand(command: Command): string {
  switch (command.verb) {
    case 'EHLO':
    case 'HELO':
    case 'LHLO':
      return `${command.verb} ${serializeDomain(command.client)}`;
    case 'MAIL':
      return withParameters(
        `MAIL FROM:${serializeReversePath(command.from)}`,
        serializeMailParameters(command.parameters),
      );
    case 'RCPT':
      return withParameters(
        `RCPT TO:${serializeForwardPath(command.to)}`,
        serializeRcptParameters(command.parameters),
      );
    case 'DATA':
    case 'RSET':
    case 'QUIT':
    case 'STARTTLS':
      return command.verb;
    case 'NOOP':
    case 'HELP':
      return serializeText(command.verb, command.argument, false);
    case 'VRFY':
    case 'EXPN':
    case 'ETRN':
      return serializeText(command.verb, command.argument, true);
    case 'BDAT':
      if (!Number.isSafeInteger(command.size) || command.size < 0) {
        throw new SmtpUsageError(`BDAT size must be a non-negative safe integer, got ${command.size}`);
      }
      return command.last ? `BDAT ${command.size} LAST` : `BDAT ${command.size}`;
    case 'AUTH': {
      if (!mechanismPattern.test(command.mechanism)) {
        throw new SmtpUsageError(`Invalid SASL mechanism name: ${JSON.stringify(command.mechanism)}`);
      }
      const response = command.initialResponse;
      if (response === null) return `AUTH ${command.mechanism}`;
      // RFC 4954 §4: "=" stands for an empty initial response.
      return `AUTH ${command.mechanism} ${response.length === 0 ? '=' : encodeBase64(response)}`;
    }
    case 'XCLIENT': {
      if (command.attributes.size === 0) throw new SmtpUsageError('XCLIENT needs at least one attribute');
      let line = 'XCLIENT';
      for (const [name, value] of command.attributes) {
        if (!attributeName.test(name))
          throw new SmtpUsageError(`Invalid XCLIENT attribute name: ${JSON.stringify(name)}`);
        line += ` ${name}=${encodeXtext(value)}`;
      }
      return line;
    }
  }
}
