import type { ParsedMessage } from './parsed-message.js';

/**
 * The parser port: what the capture index needs to turn raw bytes into a ParsedMessage. The
 * composition root picks the adapter: the parse worker pool (ParsePool.parse) in the app,
 * parseMessage inline in tests.
 */
export type MessageParser = (raw: Uint8Array) => Promise<ParsedMessage>;
