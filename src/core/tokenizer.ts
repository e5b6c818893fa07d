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
}
