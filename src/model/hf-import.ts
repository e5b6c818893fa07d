/**
 * Loading a Hugging Face Llama-layout folder (what `cir export --format hf` writes, or another
 * `LlamaForCausalLM` of the same shape family) into the embedded model. What the embedded transformer
 * does not compute is refused by name rather than loaded wrongly: other architectures, activations,
 * biases, rotary scaling, another head size, a vocabulary other than the 128-character one, weights that
 * are not safetensors of F32, BF16 or F16 (widened to float32). Sharded weights (`model.safetensors.index.json`) are read shard by shard.
 * Conventions: huggingface/transformers src/transformers/models/llama/modeling_llama.py and
 * configuration_llama.py at 5dd4a63548857797727ae73eeb6a6e886ea02a3e.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import type { CheckpointContents } from './checkpoint.js';
import { fromHfConfig, parameterLayout } from './config.js';
import { decodeSafetensors, type NamedTensor } from './safetensors.js';
import { widenSafetensors } from './safetensors-upcast.js';
import { charTokenizer } from './tokenizer.js';

function readJson(file: string): Record<string, unknown> {
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (error) {
    throw new InputError(`not a valid JSON object: ${error instanceof Error ? error.message : String(error)}`, file, { cause: error });
  }
}

/** Checks the config describes a model the embedded transformer computes exactly. */
function checkSupported(json: Record<string, unknown>, file: string): void {
  const architectures = json['architectures'];
  const names = Array.isArray(architectures) ? architectures.map(String) : [];
  if (!names.includes('LlamaForCausalLM') && json['model_type'] !== 'llama') {
    throw new InputError(`architecture ${names.length ? names.join(', ') : String(json['model_type'] ?? 'unknown')} is not supported; the embedded model loads LlamaForCausalLM (model_type "llama")`, file);
  }
  const refuse = (what: string) => {
    throw new InputError(`${what}; the embedded model computes plain Llama (SiLU SwiGLU, no biases, unscaled rotary embeddings)`, file);
  };
  if ((json['hidden_act'] ?? 'silu') !== 'silu') refuse(`hidden_act ${JSON.stringify(json['hidden_act'])}`);
  if (json['attention_bias'] === true) refuse('attention_bias is true');
  if (json['mlp_bias'] === true) refuse('mlp_bias is true');
  if (json['rope_scaling'] !== undefined && json['rope_scaling'] !== null) refuse(`rope_scaling ${JSON.stringify(json['rope_scaling'])}`);
  const hidden = Number(json['hidden_size']);
  const heads = Number(json['num_attention_heads']);
  if (json['head_dim'] !== undefined && json['head_dim'] !== null && Number(json['head_dim']) !== hidden / heads) {
    refuse(`head_dim ${String(json['head_dim'])} differs from hidden_size / num_attention_heads = ${hidden / heads}`);
  }
  if (json['vocab_size'] !== charTokenizer.vocabSize) {
    throw new InputError(`vocab_size ${String(json['vocab_size'])}: the embedded model tokenizes with its ${charTokenizer.vocabSize}-character ASCII vocabulary (${charTokenizer.name})`, file);
  }
}

/** The folder's tensors, from model.safetensors or the shards listed in model.safetensors.index.json. */
function readWeights(dir: string): Map<string, NamedTensor> {
  const single = join(dir, 'model.safetensors');
  if (existsSync(single)) return decodeSafetensors(widenSafetensors(readFileSync(single), single), single).tensors;
  const indexFile = join(dir, 'model.safetensors.index.json');
  if (existsSync(indexFile)) {
    const weightMap = readJson(indexFile)['weight_map'];
    if (weightMap === null || typeof weightMap !== 'object') throw new InputError('has no weight_map object', indexFile);
    const tensors = new Map<string, NamedTensor>();
    const shards = [...new Set(Object.values(weightMap as Record<string, unknown>).map(String))];
    for (const shard of shards) {
      const file = join(dir, shard);
      if (!existsSync(file)) throw new InputError(`shard ${shard} listed in model.safetensors.index.json is missing`, dir);
      for (const [name, tensor] of decodeSafetensors(widenSafetensors(readFileSync(file), file), file).tensors) tensors.set(name, tensor);
    }
    return tensors;
  }
  const present = readdirSync(dir).filter((name) => /\.(bin|pt|pth|gguf|safetensors)$/.test(name));
  throw new InputError(
    present.length
      ? `no model.safetensors or model.safetensors.index.json; found ${present.join(', ')} (only safetensors weights load: convert them first)`
      : 'no model.safetensors or model.safetensors.index.json here',
    dir,
  );
}

export function importHfLlama(dir: string): CheckpointContents {
  const configFile = join(dir, 'config.json');
  if (!existsSync(configFile)) throw new InputError('no config.json here', dir);
  const json = readJson(configFile);
  checkSupported(json, configFile);
  const config = fromHfConfig({ rope_theta: 10000, rms_norm_eps: 1e-6, ...json, max_position_embeddings: json['max_position_embeddings'] ?? 2048 }, configFile);
  const tensors = readWeights(dir);
  const layout = parameterLayout(config);
  const params = new Float32Array(layout.totalSize);
  const tied = json['tie_word_embeddings'] === true;
  for (const spec of layout.tensors) {
    const tensor = tensors.get(spec.name) ?? (spec.name === 'lm_head.weight' && tied ? tensors.get('model.embed_tokens.weight') : undefined);
    if (!tensor) throw new InputError(`tensor ${spec.name} is missing${spec.name === 'lm_head.weight' ? ' (and tie_word_embeddings is not true)' : ''}`, dir);
    if (tensor.shape.join('x') !== spec.shape.join('x')) throw new InputError(`tensor ${spec.name} has shape [${tensor.shape.join(', ')}], config.json implies [${spec.shape.join(', ')}]`, dir);
    params.set(tensor.data, spec.offset);
  }
  const known = new Set(layout.tensors.map((spec) => spec.name));
  const unknown = [...tensors.keys()].filter((name) => !known.has(name) && !name.endsWith('rotary_emb.inv_freq'));
  if (unknown.length) throw new InputError(`tensors the Llama layout does not have: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}`, dir);
  const cir = json['cir'];
  return { config, params, info: { imported_from: dir, ...(cir && typeof cir === 'object' ? { export: cir } : {}) } };
}
