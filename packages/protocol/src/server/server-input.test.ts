import { describe, expect, it } from 'vitest';
import { overlongLine, ServerInput } from './server-input.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (line: Uint8Array | null | typeof overlongLine) =>
  line instanceof Uint8Array ? new TextDecoder().decode(line) : line;

describe('ServerInput', () => {
  it('takes lines across chunks, without their CRLF, and says when one ended in a bare LF', () => {
    const input = new ServerInput();
    input.append(bytes('NOOP\r\nRS'));
    expect(text(input.takeLine(512))).toBe('NOOP');
    expect(input.isBareLineFeed).toBe(false);
    expect(input.takeLine(512)).toBeNull();
    input.append(bytes('ET\nQUIT\r\n'));
    expect(text(input.takeLine(512))).toBe('RSET');
    expect(input.isBareLineFeed).toBe(true);
    expect(text(input.takeLine(512))).toBe('QUIT');
    expect(input.size).toBe(0);
  });

  it('never buffers an over-long line: its bytes are dropped as they come, then it is reported once', () => {
    const input = new ServerInput();
    input.append(bytes(`MAIL FROM:<${'a'.repeat(20)}`));
    expect(input.takeLine(16)).toBeNull();
    expect(input.size).toBe(0);
    expect(input.overlongPreview).toBe(`MAIL FROM:<${'a'.repeat(20)}`);
    input.append(bytes('aaaa>\r\nNOOP\r\n'));
    expect(input.takeLine(16)).toBe(overlongLine);
    expect(text(input.takeLine(16))).toBe('NOOP');
  });

  it('keeps views handed out valid when more bytes arrive, and consumes what a reader used', () => {
    const input = new ServerInput();
    input.append(bytes('DATA\r\nbody'));
    const line = input.takeLine(512);
    input.append(bytes(' more'));
    expect(text(line)).toBe('DATA');
    expect(text(input.peek())).toBe('body more');
    input.consume(5);
    expect(text(input.peek())).toBe('more');
    input.consume(4);
    expect(input.peek()).toBeNull();
  });
});
