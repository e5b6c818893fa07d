/** The tokenizer contract shared by the embedded model, Hugging Face tokenizers and the rollout engine. */
export interface Tokenizer {
  readonly name: string;
  readonly vocabSize: number;
  /** Token that ends a sequence. */
  readonly eosTokenId: number;
  /** Encodes text without adding special tokens. */
  encode(text: string): number[];
  /** Decodes ids; special tokens are kept unless `skipSpecialTokens`. */
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  /**
   * Literal text of the special tokens (`<|im_end|>`, …). Token-exact rollouts need it to encode text
   * they inject (program output is untrusted) so a literal never becomes a special id. Absent: `encode`
   * never produces a special id from text (the embedded model's character tokenizer).
   */
  readonly specialTokens?: readonly string[];
  /**
   * The raw bytes of one token (byte-level BPE), null when the tokenizer has no byte view of it. Lets the
   * rollout decode a token stream incrementally with a streaming UTF-8 decoder; absent: it re-decodes.
   */
  tokenBytes?(id: number): Uint8Array | null;
}
