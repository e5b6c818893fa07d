/**
 * Incremental detokenization (the scheme vLLM uses): decode a short window of recent tokens and
 * emit only the new, complete characters. It handles byte-level BPE tokens that split a UTF-8
 * character (their text appears with the token that completes it) and decoders that treat the
 * first token of a string specially (the window keeps some left context).
 */
import type { Tokenizer } from '../core/tokenizer.js';

const ASCII_TEXT = new WeakMap<Tokenizer, Map<number, string | null>>();

export class IncrementalDecoder {
  private readonly tokens: number[] = [];
  private prefixOffset = 0;
  private readOffset = 0;
  /** Text decoded so far. */
  text = '';
  /** `ends[i]`: length of `text` once token i's characters are complete. */
  readonly ends: number[] = [];
  private pendingFrom = 0;

  /** Fast path for byte-level tokenizers: token bytes through a streaming UTF-8 decoder. */
  private readonly tokenBytes: ((id: number) => Uint8Array | null) | null;
  /** ignoreBOM: a token may start with U+FEFF (Qwen3 id 18206), which decode() keeps as text. */
  private readonly utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
  /** True when the streaming UTF-8 decoder holds no partial character (then ASCII tokens skip it). */
  private utf8Clean = true;
  /** Per token id: its text when all its bytes are ASCII, else null (shared by the tokenizer's decoders). */
  private readonly asciiText: Map<number, string | null>;

  constructor(private readonly tokenizer: Tokenizer) {
    this.tokenBytes = tokenizer.tokenBytes ? tokenizer.tokenBytes.bind(tokenizer) : null;
    let cache = ASCII_TEXT.get(tokenizer);
    if (!cache) ASCII_TEXT.set(tokenizer, (cache = new Map()));
    this.asciiText = cache;
  }

  get length(): number {
    return this.tokens.length;
  }

  /** Adds one token and returns the text it completes ('' while a character is still partial). */
  push(token: number): string {
    if (this.tokenBytes) {
      this.tokens.push(token);
      // Most tokens: a cached ASCII text and no decoder call (this was the bulk of the engine's own time).
      let piece = this.utf8Clean ? this.asciiTextOf(token) : null;
      if (piece === null) {
        const bytes = this.tokenBytes(token);
        if (bytes) {
          piece = this.utf8.decode(bytes, { stream: true });
          this.utf8Clean = endsOnCharacterBoundary(bytes);
        } else {
          // An id without bytes (unknown to the vocabulary) is decoded on its own.
          piece = this.utf8.decode() + this.tokenizer.decode([token]);
          this.utf8Clean = true;
        }
      }
      this.text += piece;
      this.ends.push(this.text.length);
      if (piece !== '') {
        for (let i = this.pendingFrom; i < this.tokens.length; i += 1) this.ends[i] = this.text.length;
        this.pendingFrom = this.tokens.length;
      }
      return piece;
    }
    this.tokens.push(token);
    const prefixText = this.tokenizer.decode(this.tokens.slice(this.prefixOffset, this.readOffset));
    const fullText = this.tokenizer.decode(this.tokens.slice(this.prefixOffset));
    if (fullText.length > prefixText.length && !fullText.endsWith('\uFFFD')) {
      const piece = fullText.slice(prefixText.length);
      this.text += piece;
      this.prefixOffset = this.readOffset;
      this.readOffset = this.tokens.length;
      for (let i = this.pendingFrom; i < this.tokens.length; i += 1) this.ends[i] = this.text.length;
      this.pendingFrom = this.tokens.length;
      return piece;
    }
    this.ends.push(this.text.length);
    return '';
  }

  /** The token's text when all its bytes are ASCII, else null; computed once per tokenizer and id. */
  private asciiTextOf(token: number): string | null {
    let text = this.asciiText.get(token);
    if (text === undefined) {
      const bytes = this.tokenBytes!(token);
      text = bytes && bytes.every((byte) => byte < 0x80) ? String.fromCharCode(...bytes) : null;
      this.asciiText.set(token, text);
    }
    return text;
  }

  /** Index of the first token whose text reaches `offset` (the token that completes that character). */
  tokenIndexCovering(offset: number): number {
    for (let i = 0; i < this.ends.length; i += 1) if ((this.ends[i] as number) >= offset) return i;
    return this.ends.length - 1;
  }
}

/**
 * Whether bytes fed to a streaming UTF-8 decoder certainly leave it without a partial character:
 * they end in ASCII, or in a lead byte followed by exactly the continuation bytes it announces.
 * Anything else (a cut character, stray continuation bytes) answers false, which only costs speed.
 */
export function endsOnCharacterBoundary(bytes: Uint8Array): boolean {
  let continuation = 0;
  for (let i = bytes.length - 1; i >= 0; i -= 1) {
    const byte = bytes[i] as number;
    if (byte < 0x80) return continuation === 0;
    if (byte < 0xc0) {
      continuation += 1;
      if (continuation > 3) return false;
      continue;
    }
    const needed = byte >= 0xc2 && byte <= 0xdf ? 1 : byte >= 0xe0 && byte <= 0xef ? 2 : byte >= 0xf0 && byte <= 0xf4 ? 3 : -1;
    return continuation === needed;
  }
  return false;
}
