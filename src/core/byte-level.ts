/**
 * GPT-2's byte-level alphabet (`bytes_to_unicode` in openai/gpt-2 encoder.py, also used by Hugging
 * Face's ByteLevel pre-tokenizer and llama.cpp's BPE vocabularies): every byte is written as one
 * printable character, printable Latin-1 bytes as themselves and the rest as U+0100 upward.
 */
const table = (() => {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b += 1) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b += 1) printable.push(b);
  for (let b = 0xae; b <= 0xff; b += 1) printable.push(b);
  const charOf = new Array<string>(256);
  for (const b of printable) charOf[b] = String.fromCharCode(b);
  let extra = 0;
  for (let b = 0; b < 256; b += 1) if (charOf[b] === undefined) charOf[b] = String.fromCharCode(256 + extra++);
  return charOf;
})();

/** The character standing for `byte` (0-255). */
export function byteLevelChar(byte: number): string {
  return table[byte]!;
}

/** The inverse: character → byte. */
export const BYTE_LEVEL_DECODER: ReadonlyMap<string, number> = new Map(table.map((char, byte) => [char, byte]));
