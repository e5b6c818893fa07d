/**
 * The embedded model's tokenizer: one token per ASCII character (id = character code), with id 0
 * (NUL, never in text) standing for `<|endoftext|>`. Characters outside ASCII have no token and are
 * encoded as `?`, so encode/decode round-trips exactly on ASCII text only; the task texts are ASCII.
 */
import type { Tokenizer } from '../core/tokenizer.js';

export const EOS_TOKEN_ID = 0;
export const EOS_TEXT = '<|endoftext|>';
const UNKNOWN_CHAR_CODE = 63; // '?'

/** A tokenizer the decoder can stream with: the text of one token, for stop strings and chunks. */
export interface StreamingTokenizer extends Tokenizer {
  tokenText(id: number): string;
}

/**
 * Any tokenizer as a streaming one. A token's text alone can be part of a multi-byte character (byte-level
 * BPE); the decoded trajectory is always re-decoded from all its ids, so this only affects stop strings
 * that end inside such a character.
 */
export function streamingTokenizer(tokenizer: Tokenizer): StreamingTokenizer {
  if ('tokenText' in tokenizer && typeof tokenizer.tokenText === 'function') return tokenizer as StreamingTokenizer;
  return Object.assign(Object.create(tokenizer) as Tokenizer, { tokenText: (id: number) => tokenizer.decode([id]) }) as StreamingTokenizer;
}

export class CharTokenizer implements StreamingTokenizer {
  readonly name = 'cir-char-ascii';
  readonly vocabSize = 128;
  readonly eosTokenId = EOS_TOKEN_ID;

  encode(text: string): number[] {
    const ids = new Array<number>(text.length);
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      ids[i] = code > 0 && code < 128 ? code : UNKNOWN_CHAR_CODE;
    }
    return ids;
  }

  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string {
    let text = '';
    for (const id of ids) {
      if (id === EOS_TOKEN_ID) {
        if (!options?.skipSpecialTokens) text += EOS_TEXT;
      } else text += String.fromCharCode(id);
    }
    return text;
  }

  /** Text of one token, for streaming stop-string checks. */
  tokenText(id: number): string {
    return id === EOS_TOKEN_ID ? EOS_TEXT : String.fromCharCode(id);
  }
}

export const charTokenizer = new CharTokenizer();

/**
 * The char tokenizer as Hugging Face files (`tokenizer.json`, `tokenizer_config.json`): a BPE model with
 * one token per ASCII character and no merges, `?` for anything else, `<|endoftext|>` as id 0, decoded by
 * plain concatenation. Any Hugging Face tokenizer library then encodes and decodes as `CharTokenizer` does.
 */
export function charTokenizerFiles(): { 'tokenizer.json': Record<string, unknown>; 'tokenizer_config.json': Record<string, unknown> } {
  const vocab: Record<string, number> = { [EOS_TEXT]: EOS_TOKEN_ID };
  for (let code = 1; code < 128; code++) vocab[String.fromCharCode(code)] = code;
  return {
    'tokenizer.json': {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [{ id: EOS_TOKEN_ID, content: EOS_TEXT, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
      normalizer: null,
      pre_tokenizer: null,
      post_processor: null,
      decoder: { type: 'Fuse' },
      model: { type: 'BPE', dropout: null, unk_token: '?', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: [] },
    },
    'tokenizer_config.json': { tokenizer_class: 'PreTrainedTokenizerFast', eos_token: EOS_TEXT, model_max_length: 384, clean_up_tokenization_spaces: false },
  };
}
