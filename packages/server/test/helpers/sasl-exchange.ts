import { connect as netConnect } from 'node:net';
import {
  createSaslClient,
  decodeBase64,
  encodeBase64,
  type Reply,
  type SaslClientCredentials,
  type SaslClientOptions,
  type SaslMechanismName,
} from '@smtp/protocol';
import { SmtpTalk } from './smtp-talk.js';

/** What a SASL exchange over SmtpTalk saw: every 334 challenge (decoded) and the final reply. */
export interface SaslTranscript {
  readonly challenges: readonly string[];
  readonly final: Reply;
}

/**
 * Runs one AUTH exchange with the core's SASL client on a raw socket: `AUTH MECH [initial]`, then
 * answers each 334 until a final reply. The server side under test is ours; the client side is the
 * protocol's client, which is tested against the RFC vectors in @smtp/protocol.
 */
export async function authenticate(
  talk: SmtpTalk,
  mechanism: SaslMechanismName,
  credentials: SaslClientCredentials,
  options: SaslClientOptions = {},
): Promise<SaslTranscript> {
  const client = createSaslClient(mechanism, credentials, options);
  const initial = client.initialResponse();
  // RFC 4954 §4: an empty initial response is sent as "=".
  const argument = initial === null ? '' : ` ${initial.length === 0 ? '=' : encodeBase64(initial)}`;
  talk.send(`AUTH ${mechanism}${argument}`);
  const challenges: string[] = [];
  for (;;) {
    const reply = await talk.read();
    if (reply.code !== 334) return { challenges, final: reply };
    const challenge = decodeBase64(reply.lines[0] ?? '') ?? new Uint8Array(0);
    challenges.push(Buffer.from(challenge).toString('utf8'));
    const answer = client.respond(challenge);
    talk.send(answer.ok ? encodeBase64(answer.response) : '*');
  }
}

/** Connects from a chosen loopback address (127.0.0.2 is loopback on Linux), for per-IP tests. */
export function connectFrom(port: number, localAddress: string): Promise<SmtpTalk> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ port, host: '127.0.0.1', localAddress }, () =>
      resolve(SmtpTalk.fromSocket(socket)),
    );
    socket.once('error', reject);
  });
}
