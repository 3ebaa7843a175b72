import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { ConcatenatingBlob } from './fast-blob.js';

const message = [
  'From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.com>',
  'To: a@example.com',
  'Subject: mixed',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b"',
  '',
  '--b',
  'Content-Type: text/plain; charset=iso-8859-1',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Gr=FC=DFe, a soft=',
  ' break',
  '--b',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<p>Grüße</p>',
  '--b',
  'Content-Type: application/octet-stream; name="x.bin"',
  'Content-Transfer-Encoding: base64',
  '',
  'AAECAwQFBgcICQ==',
  '--b--',
  '',
].join('\r\n');

describe('ConcatenatingBlob', () => {
  it('makes postal-mime produce exactly what it produces with the real Blob', async () => {
    const raw = new TextEncoder().encode(message);
    const withNative = await PostalMime.parse(raw, { attachmentEncoding: 'arraybuffer' });
    const nativeBlob = globalThis.Blob;
    (globalThis as { Blob: unknown }).Blob = ConcatenatingBlob;
    try {
      const withShim = await PostalMime.parse(raw, { attachmentEncoding: 'arraybuffer' });
      expect(withShim).toEqual(withNative);
      expect(withShim.text).toContain('Grüße, a soft break');
      expect(new Uint8Array(withShim.attachments[0]!.content as ArrayBuffer)).toEqual(
        Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
      );
    } finally {
      globalThis.Blob = nativeBlob;
    }
  });

  it('concatenates strings and byte arrays', async () => {
    const blob = new ConcatenatingBlob(['ab', Uint8Array.from([0x63]), new Uint8Array([0x64]).buffer], {
      type: 'x/y',
    });
    expect(blob.size).toBe(4);
    expect(blob.type).toBe('x/y');
    expect(new TextDecoder().decode(await blob.arrayBuffer())).toBe('abcd');
  });

  it('writes strings as UTF-8, single characters and lone surrogates included, and reads any view', async () => {
    const view = new DataView(Uint8Array.from([0x78, 0x79, 0x7a]).buffer, 1, 2);
    const parts = ['\n', 'é', 'Grüße 👋', '\ud800', Uint8Array.from([0x41]).subarray(0, 1), view];
    const blob = new ConcatenatingBlob(parts);
    const expected = new Uint8Array(await new Blob(parts).arrayBuffer());
    expect(blob.size).toBe(expected.byteLength);
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(expected);
    expect(new TextDecoder().decode(await blob.arrayBuffer())).toBe('\néGrüße 👋\ufffdAyz');
  });
});
