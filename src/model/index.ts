/** The embedded policy model: public API. */
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from './checkpoint.js';
import { DEFAULT_MODEL_CONFIG, type ModelConfig } from './config.js';
import { EmbeddedPolicy, type EmbeddedPolicyOptions } from './policy.js';
import type { Tokenizer } from '../core/tokenizer.js';

export { EmbeddedPolicy, type EmbeddedPolicyOptions } from './policy.js';
export { CharTokenizer, charTokenizer, charTokenizerFiles, EOS_TEXT, EOS_TOKEN_ID, streamingTokenizer, type StreamingTokenizer } from './tokenizer.js';
export { DEFAULT_MODEL_CONFIG, parameterLayout, type ModelConfig } from './config.js';
export { DEFAULT_ADAM_PARAMS } from './adamw.js';
export { CHECKPOINT_MAGIC, CHECKPOINT_VERSION, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
export { deepenEmbeddedPolicy } from './grow.js';

/** The committed warm-start checkpoint (written by `cir pretrain`), resolved from src/ or dist/ alike. */
export const DEFAULT_CHECKPOINT_PATH = fileURLToPath(new URL('../../assets/checkpoints/warm-start', import.meta.url));

/** A freshly initialised policy (random weights). */
export function createEmbeddedPolicy(config?: Partial<ModelConfig>, options?: EmbeddedPolicyOptions): EmbeddedPolicy {
  return new EmbeddedPolicy({ ...DEFAULT_MODEL_CONFIG, ...config }, options);
}

/**
 * A freshly initialised policy over any tokenizer's vocabulary (e.g. a Hugging Face tokenizer.json), with
 * the vocabulary rounded up to a multiple of 8 for the SIMD kernels (the extra ids are never sampled and
 * get no probability in training) and the given context length.
 */
export function createEmbeddedPolicyForTokenizer(tokenizer: Tokenizer, config: Partial<ModelConfig> = {}, options: EmbeddedPolicyOptions = {}): EmbeddedPolicy {
  const vocabSize = Math.ceil(tokenizer.vocabSize / 8) * 8;
  return new EmbeddedPolicy({ ...DEFAULT_MODEL_CONFIG, ...config, vocabSize }, { ...options, tokenizer });
}

/** A policy built from a checkpoint directory (default: the committed warm start), with its optimizer state. */
export async function loadEmbeddedPolicy(path: string = DEFAULT_CHECKPOINT_PATH, options?: EmbeddedPolicyOptions): Promise<EmbeddedPolicy> {
  const contents = loadCheckpoint(path);
  const policy = new EmbeddedPolicy(contents.config, options);
  await policy.load(path);
  return policy;
}
