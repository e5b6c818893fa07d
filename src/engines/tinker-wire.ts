/**
 * Wire shapes of the Tinker REST API (JSON forms, protocols.md §1) and pure mappers between them and
 * the project's types. Shared by the Tinker client (src/engines/tinker-client.ts) and the server
 * that speaks the same subset (src/serve/tinker-api.ts), so both ends agree by construction.
 */
import { InputError } from '../core/errors.js';
import type { AdamParams, TrainingDatum } from '../core/policy.js';
import type { FinishReason } from '../core/sampling.js';
import type { TinkerLossName } from '../core/builtin-losses.js';

export interface TensorDataWire {
  data: number[];
  dtype: 'int64' | 'float32';
  shape?: number[];
}

export interface EncodedTextChunkWire {
  type: 'encoded_text';
  tokens: number[];
}

export interface ModelInputWire {
  chunks: EncodedTextChunkWire[];
}

export interface DatumWire {
  model_input: ModelInputWire;
  loss_fn_inputs: Record<string, TensorDataWire>;
}


export interface ForwardBackwardInputWire {
  data: DatumWire[];
  loss_fn: TinkerLossName;
  loss_fn_config?: Record<string, number>;
}

export interface ForwardBackwardOutputWire {
  loss_fn_output_type: string;
  loss_fn_outputs: Array<{ logprobs: TensorDataWire; elementwise_loss?: TensorDataWire }>;
  metrics: Record<string, number>;
}

export interface AdamParamsWire {
  learning_rate: number;
  beta1: number;
  beta2: number;
  eps: number;
  weight_decay: number;
  grad_clip_norm?: number;
}

export interface SamplingParamsWire {
  max_tokens: number;
  temperature: number;
  top_p: number;
  top_k: number;
  seed: number | null;
  stop: string[] | number[] | null;
}

export interface SampleRequestWire {
  sampling_session_id: string;
  seq_id: number;
  num_samples: number;
  prompt: ModelInputWire;
  sampling_params: SamplingParamsWire;
  prompt_logprobs: boolean;
  topk_prompt_logprobs: number;
  type: 'sample';
}

export interface SampledSequenceWire {
  stop_reason: 'stop' | 'length';
  tokens: number[];
  logprobs: number[] | null;
}

export interface SampleResponseWire {
  type: 'sample';
  sequences: SampledSequenceWire[];
  /** One entry per prompt token; null where undefined (the first token). */
  prompt_logprobs: Array<number | null> | null;
  topk_prompt_logprobs: null;
}

/** The immediate answer to every call that runs as a future. */
export interface FutureWire {
  request_id: string;
  model_id?: string;
}

export function tensor(data: ArrayLike<number>, dtype: 'int64' | 'float32'): TensorDataWire {
  const values = Array.from(data);
  return { data: values, dtype, shape: [values.length] };
}

export function modelInput(tokens: readonly number[]): ModelInputWire {
  return { chunks: [{ type: 'encoded_text', tokens: [...tokens] }] };
}

/** Concatenates the text chunks of a model input; other chunk kinds are refused by name. */
export function modelInputTokens(input: unknown, where: string): number[] {
  if (!isRecord(input) || !Array.isArray(input['chunks'])) throw new InputError('expected {"chunks":[...]}', where);
  const tokens: number[] = [];
  input['chunks'].forEach((chunk: unknown, index) => {
    if (!isRecord(chunk) || chunk['type'] !== 'encoded_text') {
      throw new InputError(`chunk ${index}: only "encoded_text" chunks are supported`, where);
    }
    tokens.push(...intArray(chunk['tokens'], `${where}.chunks[${index}].tokens`));
  });
  return tokens;
}

/**
 * One training sequence in Tinker's layout: position i of `model_input` predicts `target_tokens[i]`,
 * so the input is `tokens[:-1]` and the targets `tokens[1:]`. `inputs` are extra per-target tensors
 * (weights, advantages, logprobs), each of length `tokens.length - 1`.
 */
export function encodeDatum(tokens: readonly number[], inputs: Record<string, ArrayLike<number>>): DatumWire {
  if (tokens.length < 2) throw new InputError(`a training sequence needs at least 2 tokens, got ${tokens.length}`, 'datum.tokens');
  const targetCount = tokens.length - 1;
  const lossInputs: Record<string, TensorDataWire> = { target_tokens: tensor(tokens.slice(1), 'int64') };
  for (const [key, values] of Object.entries(inputs)) {
    if (values.length !== targetCount) {
      throw new InputError(`length ${values.length} differs from the ${targetCount} targets`, `datum.loss_fn_inputs.${key}`);
    }
    lossInputs[key] = tensor(values, 'float32');
  }
  return { model_input: modelInput(tokens.slice(0, -1)), loss_fn_inputs: lossInputs };
}

/** A decoded datum: the full sequence and its float inputs by name. */
export interface DecodedDatum {
  datum: TrainingDatum;
  inputs: Record<string, Float32Array>;
}

/**
 * Reads a wire datum back into a full sequence. Targets must be the input shifted by one (the
 * only layout a next-token model can train on); anything else is refused with the position.
 */
export function decodeDatum(value: unknown, where: string): DecodedDatum {
  if (!isRecord(value)) throw new InputError('expected an object', where);
  const input = modelInputTokens(value['model_input'], `${where}.model_input`);
  const lossInputs = value['loss_fn_inputs'];
  if (!isRecord(lossInputs)) throw new InputError('expected an object', `${where}.loss_fn_inputs`);
  const targets = intArray(tensorValues(lossInputs['target_tokens'], `${where}.loss_fn_inputs.target_tokens`), `${where}.loss_fn_inputs.target_tokens`);
  if (input.length === 0) throw new InputError('model_input is empty', `${where}.model_input`);
  if (targets.length !== input.length) {
    throw new InputError(`has ${targets.length} targets for ${input.length} input tokens`, `${where}.loss_fn_inputs.target_tokens`);
  }
  for (let i = 0; i + 1 < input.length; i++) {
    if (targets[i] !== input[i + 1]) {
      throw new InputError(`target ${i} is ${targets[i]} but the next input token is ${input[i + 1]}; only shifted targets are supported`, `${where}.loss_fn_inputs.target_tokens`);
    }
  }
  const tokens = [...input, targets[targets.length - 1] as number];
  const inputs: Record<string, Float32Array> = {};
  for (const [key, tensorValue] of Object.entries(lossInputs)) {
    if (key === 'target_tokens') continue;
    const values = tensorValues(tensorValue, `${where}.loss_fn_inputs.${key}`);
    if (values.length !== targets.length) {
      throw new InputError(`has length ${values.length}, expected ${targets.length}`, `${where}.loss_fn_inputs.${key}`);
    }
    inputs[key] = Float32Array.from(values);
  }
  return { datum: { tokens, lossMask: new Float32Array(targets.length).fill(1) }, inputs };
}

/** The numbers of a TensorData (dense form; the sparse form is refused by name). */
export function tensorValues(value: unknown, where: string): number[] {
  if (!isRecord(value) || !Array.isArray(value['data'])) throw new InputError('expected TensorData {"data":[...]}', where);
  if (value['sparse_crow_indices'] !== undefined) throw new InputError('sparse TensorData is not supported', where);
  const data = value['data'] as unknown[];
  return data.map((entry, index) => {
    if (typeof entry !== 'number' || !Number.isFinite(entry)) throw new InputError(`data[${index}] is not a finite number`, where);
    return entry;
  });
}

export function adamToWire(params: AdamParams): AdamParamsWire {
  return {
    learning_rate: params.learningRate,
    beta1: params.beta1,
    beta2: params.beta2,
    eps: params.eps,
    weight_decay: params.weightDecay,
    grad_clip_norm: params.gradClip,
  };
}

/** Reads Adam settings with the hosted defaults for missing fields; out-of-range values are refused. */
export function adamFromWire(value: unknown, where: string): AdamParams {
  if (!isRecord(value)) throw new InputError('expected an object', where);
  const read = (key: string, fallback: number, ok: (x: number) => boolean, rule: string): number => {
    const raw = value[key];
    if (raw === undefined || raw === null) return fallback;
    if (typeof raw !== 'number' || !Number.isFinite(raw) || !ok(raw)) throw new InputError(`must be ${rule}, got ${JSON.stringify(raw)}`, `${where}.${key}`);
    return raw;
  };
  return {
    learningRate: read('learning_rate', 1e-4, (x) => x >= 0, '>= 0'),
    beta1: read('beta1', 0.9, (x) => x >= 0 && x < 1, 'in [0, 1)'),
    beta2: read('beta2', 0.95, (x) => x >= 0 && x < 1, 'in [0, 1)'),
    eps: read('eps', 1e-12, (x) => x > 0, '> 0'),
    weightDecay: read('weight_decay', 0, (x) => x >= 0, '>= 0'),
    gradClip: read('grad_clip_norm', 0, (x) => x >= 0, '>= 0'),
  };
}

/** Tinker's stop_reason to the project's finish reason. */
export function finishReasonFromWire(stopReason: unknown): FinishReason {
  if (stopReason === 'stop') return 'stop';
  if (stopReason === 'length') return 'length';
  return 'abort';
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function intArray(value: unknown, where: string): number[] {
  if (!Array.isArray(value)) throw new InputError('expected an array of integers', where);
  return value.map((entry: unknown, index) => {
    if (typeof entry !== 'number' || !Number.isInteger(entry) || entry < 0) {
      throw new InputError(`entry ${index} is not a non-negative integer: ${JSON.stringify(entry)}`, where);
    }
    return entry;
  });
}

/** Tinker checkpoint paths: `tinker://<model_id>/<kind>/<name>`. */
export interface TinkerPath {
  modelId: string;
  kind: 'weights' | 'sampler_weights';
  name: string;
}

/** Names allowed for saved weights (SkyRL's rule): letters, digits, `_` and `-`, at most 255. */
export const CHECKPOINT_NAME_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;

export function formatTinkerPath(path: TinkerPath): string {
  return `tinker://${path.modelId}/${path.kind}/${path.name}`;
}

export function parseTinkerPath(value: unknown, where: string): TinkerPath {
  if (typeof value !== 'string') throw new InputError('expected a tinker:// path', where);
  const match = /^tinker:\/\/([^/]+)\/(weights|sampler_weights)\/([^/]+)$/.exec(value);
  if (!match) throw new InputError(`${JSON.stringify(value)} is not of the form tinker://<model_id>/weights/<name>`, where);
  const name = match[3] as string;
  if (!CHECKPOINT_NAME_PATTERN.test(name)) {
    throw new InputError(`checkpoint name ${JSON.stringify(name)} may only use letters, digits, "_" and "-"`, where);
  }
  return { modelId: match[1] as string, kind: match[2] as TinkerPath['kind'], name };
}
