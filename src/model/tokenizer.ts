/**
 * The embedded model's tokenizers. Both give one token per ASCII character (id = character code),
 * with id 0 (NUL, never in text) standing for `<|endoftext|>`; characters outside ASCII have no
 * token and are encoded as `?`, so encode/decode round-trips exactly on ASCII text only (the task
 * texts are ASCII).
 *
 * `cir-char-num3` also has one token per 2- and 3-digit string, and splits every run of digits into
 * chunks of three from the left (as Llama 3's tokenizer does): 716457 → "716" "457", 1234 → "123" "4".
 * A small model copies numbers (from the problem into code, from the output into \boxed{}) far more
 * reliably when a number is one or two tokens than when it is a sequence of look-alike digits.
 */
import { InputError } from '../core/errors.js';
import type { Tokenizer } from '../core/tokenizer.js';

export const EOS_TOKEN_ID = 0;
export const EOS_TEXT = '<|endoftext|>';
const UNKNOWN_CHAR_CODE = 63; // '?'

/** What the embedded sampler needs beyond the Tokenizer contract: the text of one token. */
export interface EmbeddedTokenizer extends Tokenizer {
  tokenText(id: number): string;
}

export class CharTokenizer implements EmbeddedTokenizer {
  readonly name: string = 'cir-char-ascii';
  readonly vocabSize: number = 128;
  readonly eosTokenId = EOS_TOKEN_ID;

  encode(text: string): number[] {
    const ids = new Array<number>(text.length);
    for (let i = 0; i < text.length; i++) ids[i] = charId(text.charCodeAt(i));
    return ids;
  }

  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string {
    let text = '';
    for (const id of ids) {
      if (id === EOS_TOKEN_ID) {
        if (!options?.skipSpecialTokens) text += EOS_TEXT;
      } else text += this.tokenText(id);
    }
    return text;
  }

  /** Text of one token, for streaming stop-string checks. */
  tokenText(id: number): string {
    return id === EOS_TOKEN_ID ? EOS_TEXT : String.fromCharCode(id);
  }
}

function charId(code: number): number {
  return code > 0 && code < 128 ? code : UNKNOWN_CHAR_CODE;
}

const TWO_DIGITS = 128; // ids 128..227: "00".."99"
const THREE_DIGITS = 228; // ids 228..1227: "000".."999"

export class NumberChunkTokenizer extends CharTokenizer {
  override readonly name = 'cir-char-num3';
  /** 1228 used ids, padded to a multiple of 8 for the SIMD logits matmul; 1228..1231 never occur. */
  override readonly vocabSize = 1232;

  override encode(text: string): number[] {
    const ids: number[] = [];
    for (let i = 0; i < text.length; ) {
      let end = i;
      while (end < text.length && end - i < 3 && isDigit(text.charCodeAt(end))) end++;
      if (end - i >= 2) {
        const value = Number(text.slice(i, end));
        ids.push(end - i === 2 ? TWO_DIGITS + value : THREE_DIGITS + value);
        i = end;
      } else {
        ids.push(charId(text.charCodeAt(i)));
        i++;
      }
    }
    return ids;
  }

  override tokenText(id: number): string {
    if (id >= THREE_DIGITS && id < THREE_DIGITS + 1000) return String(id - THREE_DIGITS).padStart(3, '0');
    if (id >= TWO_DIGITS && id < TWO_DIGITS + 100) return String(id - TWO_DIGITS).padStart(2, '0');
    if (id >= TWO_DIGITS) return '?';
    return super.tokenText(id);
  }
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

export const charTokenizer = new CharTokenizer();
export const numberChunkTokenizer = new NumberChunkTokenizer();
export const EMBEDDED_TOKENIZERS: readonly EmbeddedTokenizer[] = [charTokenizer, numberChunkTokenizer];

export function embeddedTokenizer(name: string): EmbeddedTokenizer {
  const found = EMBEDDED_TOKENIZERS.find((tokenizer) => tokenizer.name === name);
  if (!found) throw new InputError(`unknown embedded tokenizer; known: ${EMBEDDED_TOKENIZERS.map((t) => t.name).join(', ')}`, name);
  return found;
}
