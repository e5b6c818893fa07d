/**
 * Model configuration and the parameter layout: every tensor's Hugging Face name, shape and
 * offset inside the one parameter buffer (llm.c's "one allocation carved into views").
 */
import { InputError } from '../core/errors.js';

export interface ModelConfig {
  /** Vocabulary size; a multiple of 8 so the logits matmul takes the SIMD path. */
  vocabSize: number;
  /** Residual width C. */
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  /** Grouped-query attention: numHeads must be a multiple of it. */
  numKvHeads: number;
  /** SwiGLU inner width F. */
  intermediateSize: number;
  /** Longest prompt + completion in tokens. */
  contextLength: number;
  ropeTheta: number;
  rmsNormEps: number;
}

/** Small enough to train on two CPU cores in minutes, big enough to copy numbers into code. */
export const DEFAULT_MODEL_CONFIG: Readonly<ModelConfig> = {
  vocabSize: 128,
  hiddenSize: 96,
  numLayers: 4,
  numHeads: 4,
  numKvHeads: 2,
  intermediateSize: 256,
  contextLength: 384,
  ropeTheta: 10000,
  rmsNormEps: 1e-5,
};

export function headDim(config: ModelConfig): number {
  return config.hiddenSize / config.numHeads;
}

export function validateConfig(config: ModelConfig, source = 'model config'): void {
  const positive = ['vocabSize', 'hiddenSize', 'numLayers', 'numHeads', 'numKvHeads', 'intermediateSize', 'contextLength'] as const;
  for (const key of positive) {
    const value = config[key];
    if (!Number.isInteger(value) || value <= 0) throw new InputError(`${key} must be a positive integer, got ${String(value)}`, source);
  }
  if (config.hiddenSize % config.numHeads !== 0) throw new InputError(`hiddenSize ${config.hiddenSize} is not a multiple of numHeads ${config.numHeads}`, source);
  if (config.numHeads % config.numKvHeads !== 0) throw new InputError(`numHeads ${config.numHeads} is not a multiple of numKvHeads ${config.numKvHeads}`, source);
  if (headDim(config) % 2 !== 0) throw new InputError(`head dimension ${headDim(config)} must be even for rotary embeddings`, source);
  if (!(config.ropeTheta > 0) || !(config.rmsNormEps > 0)) throw new InputError('ropeTheta and rmsNormEps must be positive', source);
}

export interface TensorSpec {
  /** Hugging Face name, e.g. `model.layers.0.self_attn.q_proj.weight`. */
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

export interface LayerTensors {
  inputNorm: TensorSpec;
  qProj: TensorSpec;
  kProj: TensorSpec;
  vProj: TensorSpec;
  oProj: TensorSpec;
  postNorm: TensorSpec;
  gateProj: TensorSpec;
  upProj: TensorSpec;
  downProj: TensorSpec;
}

export interface ParameterLayout {
  embed: TensorSpec;
  layers: LayerTensors[];
  finalNorm: TensorSpec;
  lmHead: TensorSpec;
  /** All tensors in buffer order. */
  tensors: TensorSpec[];
  totalSize: number;
}

export function parameterLayout(config: ModelConfig): ParameterLayout {
  const tensors: TensorSpec[] = [];
  let offset = 0;
  const add = (name: string, shape: number[]): TensorSpec => {
    const size = shape.reduce((a, b) => a * b, 1);
    const spec = { name, shape, offset, size };
    offset += size;
    tensors.push(spec);
    return spec;
  };
  const C = config.hiddenSize;
  const F = config.intermediateSize;
  const hd = headDim(config);
  const embed = add('model.embed_tokens.weight', [config.vocabSize, C]);
  const layers: LayerTensors[] = [];
  for (let l = 0; l < config.numLayers; l++) {
    const p = `model.layers.${l}`;
    layers.push({
      inputNorm: add(`${p}.input_layernorm.weight`, [C]),
      qProj: add(`${p}.self_attn.q_proj.weight`, [config.numHeads * hd, C]),
      kProj: add(`${p}.self_attn.k_proj.weight`, [config.numKvHeads * hd, C]),
      vProj: add(`${p}.self_attn.v_proj.weight`, [config.numKvHeads * hd, C]),
      oProj: add(`${p}.self_attn.o_proj.weight`, [C, config.numHeads * hd]),
      postNorm: add(`${p}.post_attention_layernorm.weight`, [C]),
      gateProj: add(`${p}.mlp.gate_proj.weight`, [F, C]),
      upProj: add(`${p}.mlp.up_proj.weight`, [F, C]),
      downProj: add(`${p}.mlp.down_proj.weight`, [C, F]),
    });
  }
  const finalNorm = add('model.norm.weight', [C]);
  const lmHead = add('lm_head.weight', [config.vocabSize, C]);
  return { embed, layers, finalNorm, lmHead, tensors, totalSize: offset };
}

/** The config as a Hugging Face `config.json` (Llama architecture), plus our own fields. */
export function toHfConfig(config: ModelConfig): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    num_key_value_heads: config.numKvHeads,
    intermediate_size: config.intermediateSize,
    max_position_embeddings: config.contextLength,
    rope_theta: config.ropeTheta,
    rms_norm_eps: config.rmsNormEps,
    hidden_act: 'silu',
    tie_word_embeddings: false,
    attention_bias: false,
    torch_dtype: 'float32',
  };
}

export function fromHfConfig(json: Record<string, unknown>, source: string): ModelConfig {
  const num = (key: string): number => {
    const value = json[key];
    if (typeof value !== 'number') throw new InputError(`field ${key} must be a number`, source);
    return value;
  };
  const config: ModelConfig = {
    vocabSize: num('vocab_size'),
    hiddenSize: num('hidden_size'),
    numLayers: num('num_hidden_layers'),
    numHeads: num('num_attention_heads'),
    numKvHeads: num('num_key_value_heads'),
    intermediateSize: num('intermediate_size'),
    contextLength: num('max_position_embeddings'),
    ropeTheta: num('rope_theta'),
    rmsNormEps: num('rms_norm_eps'),
  };
  validateConfig(config, source);
  return config;
}
