import { CramMd5Client } from './cram-md5.js';
import { LoginClient } from './login.js';
import { OauthbearerClient } from './oauthbearer.js';
import { PlainClient } from './plain.js';
import type { SaslClient, SaslClientCredentials, SaslClientOptions } from './sasl-client.js';
import type { SaslMechanismName } from './sasl-mechanism.js';
import { ScramSha256Client } from './scram-sha-256.js';
import { Xoauth2Client } from './xoauth2.js';

/**
 * The client side of one SASL exchange for `mechanism`. Throws SmtpUsageError when the credentials
 * lack what the mechanism needs (a password, a token).
 */
export function createSaslClient(
  mechanism: SaslMechanismName,
  credentials: SaslClientCredentials,
  options: SaslClientOptions = {},
): SaslClient {
  switch (mechanism) {
    case 'PLAIN':
      return new PlainClient(credentials);
    case 'LOGIN':
      return new LoginClient(credentials);
    case 'CRAM-MD5':
      return new CramMd5Client(credentials);
    case 'XOAUTH2':
      return new Xoauth2Client(credentials);
    case 'OAUTHBEARER':
      return new OauthbearerClient(credentials, options);
    case 'SCRAM-SHA-256':
      return new ScramSha256Client(
        credentials,
        options.random === undefined ? {} : { random: options.random },
      );
  }
}
