/**
 * Incremental detokenization (the scheme vLLM uses): decode a short window of recent tokens and
 * emit only the new, complete characters. It handles byte-level BPE tokens that split a UTF-8
 * character (their text appears with the token that completes it) and decoders that treat the
 * first token of a string specially (the window keeps some left context).
 */
import type { Tokenizer } from '../core/tokenizer.js';

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
  private readonly utf8 = new TextDecoder('utf-8');

  constructor(private readonly tokenizer: Tokenizer) {
    const withBytes = tokenizer as Tokenizer & { tokenBytes?: (id: number) => Uint8Array | null };
    this.tokenBytes = typeof withBytes.tokenBytes === 'function' ? withBytes.tokenBytes.bind(tokenizer) : null;
  }

  get length(): number {
    return this.tokens.length;
  }

  /** Adds one token and returns the text it completes ('' while a character is still partial). */
  push(token: number): string {
    if (this.tokenBytes) {
      this.tokens.push(token);
      const bytes = this.tokenBytes(token);
      // An id without bytes (unknown to the vocabulary) is decoded on its own.
      const piece = bytes ? this.utf8.decode(bytes, { stream: true }) : this.utf8.decode() + this.tokenizer.decode([token]);
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

  /** Index of the first token whose text reaches `offset` (the token that completes that character). */
  tokenIndexCovering(offset: number): number {
    for (let i = 0; i < this.ends.length; i += 1) if ((this.ends[i] as number) >= offset) return i;
    return this.ends.length - 1;
  }
}
