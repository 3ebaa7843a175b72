import { CramMd5Server } from './cram-md5.js';
import { LoginServer } from './login.js';
import { createOauthbearerServer } from './oauthbearer.js';
import { PlainServer } from './plain.js';
import type { SaslMechanismName } from './sasl-mechanism.js';
import type { SaslServer, SaslServerOptions } from './sasl-server.js';
import { ScramSha256Server } from './scram-sha-256.js';
import { createXoauth2Server } from './xoauth2.js';

/** The server side of one SASL exchange (RFC 4422) for `mechanism`. */
export function createSaslServer(mechanism: SaslMechanismName, options: SaslServerOptions): SaslServer {
  switch (mechanism) {
    case 'PLAIN':
      return new PlainServer();
    case 'LOGIN':
      return new LoginServer();
    case 'CRAM-MD5':
      return new CramMd5Server(options);
    case 'XOAUTH2':
      return createXoauth2Server(options);
    case 'OAUTHBEARER':
      return createOauthbearerServer(options);
    case 'SCRAM-SHA-256':
      return new ScramSha256Server({ random: options.random });
  }
}
