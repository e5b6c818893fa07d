/**
 * The request models of the Tinker SDK, transcribed field by field (names, types, which are
 * required) from thinking-machines-lab/tinker @ d595dc2 (v0.25.0), src/tinker/types/*.py and
 * src/tinker/types/_pydantic_types/*.py, to validate every JSON request the client sends. Models
 * derived from `StrictBase` refuse unknown fields (extra="forbid"), so an extra key is an error here
 * too. The protobuf forward_backward is checked against the SDK's descriptor instead
 * (testing/tinker-sdk-descriptor.ts).
 */

type Scalar = 'string' | 'int' | 'number' | 'bool' | 'any';

/** A field: its type and whether it may be missing or null. */
export interface FieldRule {
  type: Scalar | 'int[]' | 'string[]' | 'stop' | 'record' | Schema | { listOf: Schema } | { literal: readonly string[] } | { recordOf: Schema };
  /** No default in the SDK model: must be present (null allowed only with `nullable`). */
  required?: boolean;
  nullable?: boolean;
}

export interface Schema {
  name: string;
  fields: Record<string, FieldRule>;
  /** StrictBase: unknown fields are refused. */
  strict: boolean;
}

const optional = (type: FieldRule['type']): FieldRule => ({ type, nullable: true });
const required = (type: FieldRule['type'], nullable = false): FieldRule => ({ type, required: true, nullable });
const literal = (value: string): FieldRule => ({ type: { literal: [value] } });

// types/encoded_text_chunk.py, _pydantic_types/model_input.py
const EncodedTextChunk: Schema = { name: 'EncodedTextChunk', strict: true, fields: { tokens: required('int[]'), type: literal('encoded_text') } };
const ModelInput: Schema = { name: 'ModelInput', strict: true, fields: { chunks: required({ listOf: EncodedTextChunk }) } };
// _pydantic_types/tensor_data.py
const TensorData: Schema = {
  name: 'TensorData',
  strict: true,
  fields: { data: required('any'), dtype: required({ literal: ['int64', 'float32'] }), shape: optional('int[]'), sparse_crow_indices: optional('int[]'), sparse_col_indices: optional('int[]') },
};
// _pydantic_types/datum.py
const Datum: Schema = { name: 'Datum', strict: true, fields: { loss_fn_inputs: required({ recordOf: TensorData }), model_input: required(ModelInput) } };
// _pydantic_types/forward_backward_input.py with types/loss_fn_type.py
const ForwardBackwardInput: Schema = {
  name: 'ForwardBackwardInput',
  strict: true,
  fields: { data: required({ listOf: Datum }), loss_fn: required({ literal: ['cross_entropy', 'importance_sampling', 'ppo', 'cispo', 'dro'] }), loss_fn_config: optional('record') },
};
// _pydantic_types/sampling_params.py (BaseModel: extra fields ignored, not refused)
const SamplingParams: Schema = {
  name: 'SamplingParams',
  strict: false,
  fields: { max_tokens: optional('int'), seed: optional('int'), stop: optional('stop'), temperature: { type: 'number' }, top_k: { type: 'int' }, top_p: { type: 'number' } },
};
// types/lora_config.py
const LoraConfig: Schema = { name: 'LoraConfig', strict: true, fields: { rank: required('int'), seed: optional('int'), train_unembed: { type: 'bool' }, train_mlp: { type: 'bool' }, train_attn: { type: 'bool' } } };
// types/optim_step_request.py
const AdamParams: Schema = {
  name: 'AdamParams',
  strict: true,
  fields: { learning_rate: { type: 'number' }, beta1: { type: 'number' }, beta2: { type: 'number' }, eps: { type: 'number' }, weight_decay: { type: 'number' }, grad_clip_norm: { type: 'number' } },
};

/** Request body schema by endpoint (path under /api/v1). */
export const SDK_REQUEST_SCHEMAS: Record<string, Schema> = {
  // types/client_config_request.py
  '/client/config': { name: 'ClientConfigRequest', strict: true, fields: { sdk_version: required('string') } },
  // types/create_session_request.py
  '/create_session': {
    name: 'CreateSessionRequest',
    strict: true,
    fields: { tags: required('string[]'), user_metadata: required('record', true), sdk_version: required('string'), project_id: optional('string'), type: literal('create_session') },
  },
  // types/session_heartbeat_request.py
  '/session_heartbeat': { name: 'SessionHeartbeatRequest', strict: true, fields: { session_id: required('string'), type: literal('session_heartbeat') } },
  // types/create_model_request.py
  '/create_model': {
    name: 'CreateModelRequest',
    strict: true,
    fields: { session_id: required('string'), model_seq_id: required('int'), base_model: required('string'), user_metadata: optional('record'), lora_config: optional(LoraConfig), type: literal('create_model') },
  },
  // types/forward_backward_request.py (JSON form, SDK <= 0.24.1 at 6b02536)
  '/forward_backward': { name: 'ForwardBackwardRequest', strict: true, fields: { forward_backward_input: required(ForwardBackwardInput), model_id: required('string'), seq_id: optional('int') } },
  // types/forward_request.py (SDK <= 0.24.1)
  '/forward': { name: 'ForwardRequest', strict: true, fields: { forward_input: required(ForwardBackwardInput), model_id: required('string'), seq_id: optional('int') } },
  '/optim_step': { name: 'OptimStepRequest', strict: true, fields: { adam_params: required(AdamParams), model_id: required('string'), seq_id: optional('int'), type: literal('optim_step') } },
  // types/save_weights_request.py
  '/save_weights': {
    name: 'SaveWeightsRequest',
    strict: true,
    fields: { model_id: required('string'), path: optional('string'), seq_id: optional('int'), ttl_seconds: optional('int'), overwrite: { type: 'bool' }, type: literal('save_weights') },
  },
  // types/save_weights_for_sampler_request.py
  '/save_weights_for_sampler': {
    name: 'SaveWeightsForSamplerRequest',
    strict: true,
    fields: { model_id: required('string'), path: optional('string'), sampling_session_seq_id: optional('int'), seq_id: optional('int'), ttl_seconds: optional('int'), type: literal('save_weights_for_sampler') },
  },
  // types/load_weights_request.py
  '/load_weights': {
    name: 'LoadWeightsRequest',
    strict: true,
    fields: {
      model_id: optional('string'),
      seq_id: optional('int'),
      session_id: optional('string'),
      model_seq_id: optional('int'),
      base_model: optional('string'),
      user_metadata: optional('record'),
      path: required('string'),
      optimizer: required('bool'),
      weights_access_token: optional('string'),
      type: literal('load_weights'),
    },
  },
  // types/unload_model_request.py
  '/unload_model': { name: 'UnloadModelRequest', strict: true, fields: { model_id: required('string'), type: literal('unload_model') } },
  // types/create_sampling_session_request.py
  '/create_sampling_session': {
    name: 'CreateSamplingSessionRequest',
    strict: true,
    fields: { session_id: required('string'), sampling_session_seq_id: required('int'), base_model: optional('string'), model_path: optional('string'), type: literal('create_sampling_session') },
  },
  // types/sample_request.py
  '/asample': {
    name: 'SampleRequest',
    strict: true,
    fields: {
      num_samples: { type: 'int' },
      prompt: required(ModelInput),
      sampling_params: required(SamplingParams),
      base_model: optional('string'),
      model_path: optional('string'),
      sampling_session_id: optional('string'),
      seq_id: optional('int'),
      prompt_logprobs: optional('bool'),
      topk_prompt_logprobs: { type: 'int' },
      type: literal('sample'),
    },
  },
  // types/future_retrieve_request.py
  '/retrieve_future': { name: 'FutureRetrieveRequest', strict: true, fields: { request_id: required('string'), allow_metadata_only: { type: 'bool' } } },
  // rest_client.py get_weights_info_by_tinker_path (a plain body)
  '/weights_info': { name: 'WeightsInfoRequest', strict: true, fields: { tinker_path: required('string') } },
};

const isInt = (value: unknown) => typeof value === 'number' && Number.isInteger(value);

function typeProblems(value: unknown, type: FieldRule['type'], where: string): string[] {
  if (typeof type === 'object' && 'fields' in type) return validateAgainst(value, type, where);
  if (typeof type === 'object' && 'listOf' in type) {
    if (!Array.isArray(value)) return [`${where} is not a list`];
    return value.flatMap((entry, i) => validateAgainst(entry, type.listOf, `${where}[${i}]`));
  }
  if (typeof type === 'object' && 'recordOf' in type) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${where} is not an object`];
    return Object.entries(value).flatMap(([key, entry]) => validateAgainst(entry, type.recordOf, `${where}.${key}`));
  }
  if (typeof type === 'object' && 'literal' in type) return type.literal.includes(value as string) ? [] : [`${where} is ${JSON.stringify(value)}, not one of ${type.literal.join(', ')}`];
  const ok: Record<string, (v: unknown) => boolean> = {
    string: (v) => typeof v === 'string',
    int: isInt,
    number: (v) => typeof v === 'number' && Number.isFinite(v),
    bool: (v) => typeof v === 'boolean',
    any: () => true,
    'int[]': (v) => Array.isArray(v) && v.every(isInt),
    'string[]': (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'),
    stop: (v) => typeof v === 'string' || (Array.isArray(v) && (v.every((x) => typeof x === 'string') || v.every(isInt))),
    record: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  };
  return ok[type]?.(value) ? [] : [`${where} is ${JSON.stringify(value)?.slice(0, 60)}, not ${type}`];
}

/** Problems of `value` against a schema (empty when it validates). */
export function validateAgainst(value: unknown, schema: Schema, where: string = schema.name): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${where} is not an object`];
  const record = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const [key, rule] of Object.entries(schema.fields)) {
    const entry = record[key];
    if (entry === undefined) {
      if (rule.required) problems.push(`${where}.${key} is required`);
      continue;
    }
    if (entry === null) {
      if (!rule.nullable) problems.push(`${where}.${key} may not be null`);
      continue;
    }
    problems.push(...typeProblems(entry, rule.type, `${where}.${key}`));
  }
  if (schema.strict) for (const key of Object.keys(record)) if (!(key in schema.fields)) problems.push(`${where}.${key} is not a field of ${schema.name} (extra fields are refused)`);
  return problems;
}

/** Problems of a JSON request to `path`; an endpoint the SDK does not call is itself a problem. */
export function validateRequest(path: string, body: unknown): string[] {
  const schema = SDK_REQUEST_SCHEMAS[path];
  if (!schema) return [`${path} is not an endpoint the SDK calls with a JSON body`];
  return validateAgainst(body, schema);
}
