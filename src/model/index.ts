/** The embedded policy model: public API. */
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from './checkpoint.js';
import { DEFAULT_MODEL_CONFIG, type ModelConfig } from './config.js';
import { EmbeddedPolicy, type EmbeddedPolicyOptions } from './policy.js';

export { EmbeddedPolicy, type EmbeddedPolicyOptions } from './policy.js';
export { CharTokenizer, charTokenizer, EOS_TEXT, EOS_TOKEN_ID } from './tokenizer.js';
export { DEFAULT_MODEL_CONFIG, parameterLayout, type ModelConfig } from './config.js';
export { DEFAULT_ADAM_PARAMS } from './adamw.js';
export { CHECKPOINT_MAGIC, CHECKPOINT_VERSION, loadCheckpoint, saveCheckpoint } from './checkpoint.js';

/** The committed warm-start checkpoint (written by `cir pretrain`), resolved from src/ or dist/ alike. */
export const DEFAULT_CHECKPOINT_PATH = fileURLToPath(new URL('../../assets/checkpoints/warm-start', import.meta.url));

/** A freshly initialised policy (random weights). */
export function createEmbeddedPolicy(config?: Partial<ModelConfig>, options?: EmbeddedPolicyOptions): EmbeddedPolicy {
  return new EmbeddedPolicy({ ...DEFAULT_MODEL_CONFIG, ...config }, options);
}

/** A policy built from a checkpoint directory (default: the committed warm start), with its optimizer state. */
export async function loadEmbeddedPolicy(path: string = DEFAULT_CHECKPOINT_PATH, options?: EmbeddedPolicyOptions): Promise<EmbeddedPolicy> {
  const contents = loadCheckpoint(path);
  const policy = new EmbeddedPolicy(contents.config, options);
  await policy.load(path);
  return policy;
}
