import { createHash, type KeyObject, sign } from 'node:crypto';
import { RelaxedBodyHash, relaxedHeaderField } from './relaxed-canonicalization.js';

/**
 * DKIM signing (RFC 6376) with relaxed/relaxed canonicalization, RSA-SHA256 and Ed25519-SHA256
 * (RFC 8463): one DKIM-Signature per key, to put in front of the message.
 *
 * Written here rather than with mailauth's signer because that one lists in h= only the fields present,
 * and we oversign: h= names From (and the other fields in `oversignedFields`) once more than the message
 * has them, so that nobody can add a second From after signing without breaking the signature
 * (RFC 6376 §8.15). mailauth verifies what we sign, in the tests.
 */

export interface DkimKey {
  readonly selector: string;
  /** An RSA (2048 bits or more) or Ed25519 private key. */
  readonly privateKey: KeyObject;
}

export interface DkimSignOptions {
  /** d=: the signing domain, normally the From domain so that DMARC aligns. */
  readonly domain: string;
  readonly keys: readonly DkimKey[];
  /** t=, in milliseconds: the caller's clock. */
  readonly now: number;
  readonly signedFields?: readonly string[];
  readonly oversignedFields?: readonly string[];
}

/**
 * The fields signed when present: who it is from and to, what and when, and how to read it (MIME),
 * so a changed Content-Type cannot make the body mean something else. RFC 6376 §5.4.1.
 */
export const defaultSignedFields = [
  'from',
  'to',
  'cc',
  'subject',
  'date',
  'message-id',
  'reply-to',
  'in-reply-to',
  'references',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
  'content-disposition',
  'list-id',
  'list-unsubscribe',
  'list-unsubscribe-post',
  'sender',
] as const;

/** Signed one time more than present (an absent instance signs the null string, RFC 6376 §5.4.2). */
export const defaultOversignedFields = ['from', 'subject', 'date', 'to', 'cc', 'reply-to'] as const;

const headerEnd = Buffer.from('\r\n\r\n', 'latin1');

/** Signs a whole message held in memory; see {@link DkimStreamSigner} for one that streams by. */
export function signMessage(message: Uint8Array, options: DkimSignOptions): string {
  const signer = new DkimStreamSigner(options);
  signer.update(message);
  return signer.finish();
}

/**
 * Takes the message in chunks (the header section is kept, the body only hashed) and returns the
 * DKIM-Signature fields, each ending in CRLF, to write before the message.
 */
export class DkimStreamSigner {
  readonly #options: DkimSignOptions;
  readonly #body = new RelaxedBodyHash('sha256');
  #header: Buffer | null = Buffer.alloc(0);
  #headerSection = '';

  constructor(options: DkimSignOptions) {
    if (options.keys.length === 0) throw new Error('DKIM signing needs at least one key');
    for (const key of options.keys) algorithmOf(key.privateKey);
    this.#options = options;
  }

  update(chunk: Uint8Array): void {
    if (this.#header === null) {
      this.#body.update(chunk);
      return;
    }
    const buffered = Buffer.concat([this.#header, chunk]);
    const end = buffered.indexOf(headerEnd);
    if (end === -1) {
      this.#header = buffered;
      return;
    }
    this.#headerSection = buffered.subarray(0, end + 2).toString('latin1');
    this.#header = null;
    this.#body.update(buffered.subarray(end + 4));
  }

  finish(): string {
    if (this.#header !== null) {
      // No empty line: the message is all header and has an empty body.
      this.#headerSection = this.#header.toString('latin1');
      if (this.#headerSection !== '' && !this.#headerSection.endsWith('\r\n')) this.#headerSection += '\r\n';
      this.#header = null;
    }
    const bodyHash = this.#body.digest().toString('base64');
    const fields = parseHeaderFields(this.#headerSection);
    const signedNames = signedFieldNames(
      fields,
      this.#options.signedFields ?? defaultSignedFields,
      this.#options.oversignedFields ?? defaultOversignedFields,
    );
    const signedData = selectFields(fields, signedNames).map(relaxedHeaderField).join('');
    return this.#options.keys
      .map((key) => signatureField(key, this.#options, signedNames, bodyHash, signedData))
      .join('');
  }
}

function signatureField(
  key: DkimKey,
  options: DkimSignOptions,
  signedNames: readonly string[],
  bodyHash: string,
  signedData: string,
): string {
  const algorithm = algorithmOf(key.privateKey);
  const tags = [
    'v=1',
    `a=${algorithm}`,
    'c=relaxed/relaxed',
    `d=${options.domain}`,
    `s=${key.selector}`,
    `t=${Math.floor(options.now / 1000)}`,
    `h=${signedNames.join(':')}`,
    `bh=${bodyHash}`,
  ];
  const unsigned = `DKIM-Signature: ${tags.join(';\r\n\t')};\r\n\tb=`;
  // RFC 6376 §3.7: the signature covers the signed fields, then this field with an empty b=, no CRLF.
  const data = Buffer.from(signedData + relaxedHeaderField(unsigned).slice(0, -2), 'latin1');
  const signature =
    algorithm === 'rsa-sha256'
      ? sign('sha256', data, key.privateKey)
      : // RFC 8463 §3: Ed25519 signs the SHA-256 hash of the data.
        sign(null, createHash('sha256').update(data).digest(), key.privateKey);
  const folded = signature.toString('base64').match(/.{1,72}/g) ?? [];
  return `${unsigned}${folded.join('\r\n\t')}\r\n`;
}

function algorithmOf(privateKey: KeyObject): 'rsa-sha256' | 'ed25519-sha256' {
  if (privateKey.type !== 'private') throw new Error('DKIM signing needs a private key');
  if (privateKey.asymmetricKeyType === 'ed25519') return 'ed25519-sha256';
  if (privateKey.asymmetricKeyType === 'rsa') {
    // RFC 8301 §3.2: signers MUST use RSA keys of at least 1024 bits, SHOULD use 2048.
    const bits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 1024) throw new Error(`DKIM RSA keys have at least 1024 bits, this one has ${bits}`);
    return 'rsa-sha256';
  }
  throw new Error(`DKIM signs with RSA or Ed25519 keys, not ${privateKey.asymmetricKeyType}`);
}

interface HeaderField {
  /** Lower-cased. */
  readonly name: string;
  /** The whole field as it stands, continuation lines included, with its final CRLF. */
  readonly raw: string;
}

function parseHeaderFields(headerSection: string): HeaderField[] {
  const fields: HeaderField[] = [];
  for (const line of headerSection.split(/(?<=\r\n)/)) {
    if (line === '') continue;
    const last = fields.at(-1);
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== undefined) {
      fields[fields.length - 1] = { name: last.name, raw: last.raw + line };
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue; // not a field: nothing a verifier would find by name either
    fields.push({ name: line.slice(0, colon).trim().toLowerCase(), raw: line });
  }
  return fields;
}

/** h=: each wanted field once per instance present, oversigned ones once more. */
function signedFieldNames(
  fields: readonly HeaderField[],
  signed: readonly string[],
  oversigned: readonly string[],
): string[] {
  const names: string[] = [];
  for (const name of signed) {
    const present = fields.filter((field) => field.name === name).length;
    const count = present + (oversigned.includes(name) ? 1 : 0);
    for (let index = 0; index < count; index++) names.push(name);
  }
  return names;
}

/** RFC 6376 §5.4.2: repeated names take instances from the bottom up; a missing one signs nothing. */
function selectFields(fields: readonly HeaderField[], names: readonly string[]): string[] {
  const used = new Set<number>();
  const selected: string[] = [];
  for (const name of names) {
    for (let index = fields.length - 1; index >= 0; index--) {
      const field = fields[index] as HeaderField;
      if (field.name === name && !used.has(index)) {
        used.add(index);
        selected.push(field.raw.replace(/\r\n$/, ''));
        break;
      }
    }
  }
  return selected;
}
