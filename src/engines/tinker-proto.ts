/**
 * The protobuf side of the Tinker wire: the forward_backward request the SDK sends since v0.25
 * (`Content-Type: application/x-protobuf`, optionally `Content-Encoding: zstd`) and the two results
 * it asks for in protobuf (`Accept: application/x-protobuf` on retrieve_future): ForwardBackwardOutput
 * and SampleResponse.
 *
 * The message definitions below are written here from the wire facts of package `tinker_public`
 * (field names, numbers, types) and checked field by field against the SDK's own serialized
 * descriptor by tinker-proto.test.ts (thinking-machines-lab/tinker @ d595dc2, v0.25.0,
 * src/tinker/proto/tinker_public_pb2.py). Array payloads are little-endian bytes: tokens int32,
 * float tensors float32, int tensors int64, BatchedTensor offsets int64 byte offsets (N+1 of them).
 * SamplingParams, StopStrings and StopTokens of that file are not defined: no request carries them.
 */
import protobuf from 'protobufjs';
import { InputError } from '../core/errors.js';
import type { DatumWire, ForwardBackwardOutputWire, SampleResponseWire, TensorDataWire } from './tinker-wire.js';

export const PROTOBUF_CONTENT_TYPE = 'application/x-protobuf';

const bytesField = (id: number, extra: Record<string, unknown> = {}) => ({ type: 'bytes', id, ...extra });

/** `package tinker_public` (proto3) as protobufjs JSON. */
export const TINKER_PUBLIC_PROTO = {
  nested: {
    tinker_public: {
      nested: {
        StopReason: { values: { STOP_REASON_STOP: 0, STOP_REASON_LENGTH: 1 } },
        DType: { values: { DTYPE_UNSPECIFIED: 0, DTYPE_FLOAT32: 1, DTYPE_INT64: 2, DTYPE_INT32: 3, DTYPE_BFLOAT16: 4 } },
        SampleResponse: {
          oneofs: { _prompt_logprobs: { oneof: ['prompt_logprobs'] }, _topk_prompt_logprobs: { oneof: ['topk_prompt_logprobs'] } },
          fields: {
            sequences: { rule: 'repeated', type: 'SampledSequence', id: 1 },
            prompt_logprobs: bytesField(2, { options: { proto3_optional: true } }),
            topk_prompt_logprobs: { type: 'TopkPromptLogprobs', id: 3, options: { proto3_optional: true } },
            prompt_cache_hit_tokens: { type: 'int32', id: 4 },
          },
        },
        SampledSequence: {
          oneofs: { _logprobs: { oneof: ['logprobs'] } },
          fields: {
            stop_reason: { type: 'StopReason', id: 1 },
            tokens: bytesField(2),
            logprobs: bytesField(3, { options: { proto3_optional: true } }),
          },
        },
        TopkPromptLogprobs: {
          fields: { token_ids: bytesField(1), logprobs: bytesField(2), k: { type: 'uint32', id: 3 }, prompt_length: { type: 'uint32', id: 4 } },
        },
        SparseCsr: { fields: { values: bytesField(1), crow_indices: bytesField(2), col_indices: bytesField(3) } },
        Tensor: {
          oneofs: { encoding: { oneof: ['dense', 'sparse_csr'] } },
          fields: { dense: bytesField(1), sparse_csr: { type: 'SparseCsr', id: 2 }, dtype: { type: 'DType', id: 3 }, shape: { rule: 'repeated', type: 'int64', id: 4 } },
        },
        BatchedTensor: {
          fields: { data: bytesField(1), offsets: bytesField(2), dtype: { type: 'DType', id: 3 }, trailing_shape: { rule: 'repeated', type: 'int64', id: 4 } },
        },
        ArrayRecord: {
          fields: { type_tag: { type: 'string', id: 1 }, fields: { keyType: 'string', type: 'BatchedTensor', id: 2 }, num_datums: { type: 'int64', id: 3 } },
        },
        ForwardBackwardOutput: {
          fields: {
            loss_fn_output_type: { type: 'string', id: 1 },
            loss_fn_outputs: { rule: 'repeated', type: 'ArrayRecord', id: 2 },
            metrics: { keyType: 'string', type: 'double', id: 3 },
          },
        },
        ForwardBackwardRequest: {
          fields: {
            model_id: { type: 'string', id: 1 },
            seq_id: { type: 'int32', id: 2 },
            data: { rule: 'repeated', type: 'Datum', id: 3 },
            loss_fn: { type: 'string', id: 4 },
            loss_fn_config: { keyType: 'string', type: 'double', id: 5 },
            forward_only: { type: 'bool', id: 6 },
          },
        },
        Datum: {
          fields: { model_input: { rule: 'repeated', type: 'Chunk', id: 1 }, loss_fn_inputs: { keyType: 'string', type: 'Tensor', id: 2 } },
        },
        Chunk: {
          oneofs: { chunk: { oneof: ['encoded_text', 'image', 'dmel'] } },
          fields: { encoded_text: { type: 'EncodedTextChunk', id: 1 }, image: { type: 'ImageChunk', id: 2 }, dmel: { type: 'DmelChunk', id: 3 } },
        },
        EncodedTextChunk: { fields: { tokens: bytesField(1) } },
        ImageChunk: {
          oneofs: { _expected_tokens: { oneof: ['expected_tokens'] } },
          fields: { data: bytesField(1), format: { type: 'string', id: 2 }, expected_tokens: { type: 'int32', id: 3, options: { proto3_optional: true } } },
        },
        DmelChunk: { fields: { dmel: bytesField(1) } },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(TINKER_PUBLIC_PROTO);
export const tinkerProtoRoot: protobuf.Root = root;
const ForwardBackwardRequest = root.lookupType('tinker_public.ForwardBackwardRequest');
const ForwardBackwardOutput = root.lookupType('tinker_public.ForwardBackwardOutput');
const SampleResponse = root.lookupType('tinker_public.SampleResponse');

const DTYPE_FLOAT32 = 1;
const DTYPE_INT64 = 2;
const DTYPE_INT32 = 3;
const DTYPE_BFLOAT16 = 4;

/** The JSON form of a forward_backward request, as both ends hold it. */
export interface ForwardBackwardRequestWire {
  model_id: string;
  seq_id: number;
  forward_backward_input: { data: DatumWire[]; loss_fn: string; loss_fn_config?: Record<string, number> };
}

function int32Bytes(values: readonly number[]): Uint8Array {
  const out = new Int32Array(values.length);
  values.forEach((value, i) => (out[i] = value));
  return new Uint8Array(out.buffer);
}

function float32Bytes(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

function int64Bytes(values: ArrayLike<number>): Uint8Array {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i] as number);
  return new Uint8Array(out.buffer);
}

/** Copies into a buffer of its own (decoded bytes are Buffer views into a shared pool, at any offset). */
function aligned(bytes: Uint8Array, width: number, where: string): ArrayBuffer {
  if (bytes.byteLength % width !== 0) throw new InputError(`has ${bytes.byteLength} bytes, not a multiple of ${width}`, where);
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

function readInt32(bytes: Uint8Array, where: string): number[] {
  return Array.from(new Int32Array(aligned(bytes, 4, where)));
}

function readFloat32(bytes: Uint8Array, where: string): number[] {
  return Array.from(new Float32Array(aligned(bytes, 4, where)));
}

function readInt64(bytes: Uint8Array, where: string): number[] {
  return Array.from(new BigInt64Array(aligned(bytes, 8, where)), (value) => Number(value));
}

function readBfloat16(bytes: Uint8Array, where: string): number[] {
  const halves = new Uint16Array(aligned(bytes, 2, where));
  const widened = new Uint32Array(halves.length);
  halves.forEach((half, i) => (widened[i] = half << 16));
  return Array.from(new Float32Array(widened.buffer));
}

function tensorToProto(tensor: TensorDataWire): Record<string, unknown> {
  const message: Record<string, unknown> = { dtype: tensor.dtype === 'int64' ? DTYPE_INT64 : DTYPE_FLOAT32, dense: tensor.dtype === 'int64' ? int64Bytes(tensor.data) : float32Bytes(tensor.data) };
  if (tensor.shape) message['shape'] = tensor.shape;
  return message;
}

/** Serializes a forward_backward request as the SDK does (request_conv.py at d595dc2). */
export function encodeForwardBackwardRequest(request: ForwardBackwardRequestWire, forwardOnly: boolean): Uint8Array {
  const input = request.forward_backward_input;
  const message = {
    model_id: request.model_id,
    seq_id: request.seq_id,
    loss_fn: input.loss_fn,
    loss_fn_config: input.loss_fn_config ?? {},
    forward_only: forwardOnly,
    data: input.data.map((datum) => ({
      model_input: datum.model_input.chunks.map((chunk) => ({ encoded_text: { tokens: int32Bytes(chunk.tokens) } })),
      loss_fn_inputs: Object.fromEntries(Object.entries(datum.loss_fn_inputs).map(([key, tensor]) => [key, tensorToProto(tensor)])),
    })),
  };
  return ForwardBackwardRequest.encode(ForwardBackwardRequest.fromObject(message)).finish();
}

interface DecodedTensor {
  dense?: Uint8Array;
  sparse_csr?: unknown;
  dtype?: number;
  shape?: Array<number | { toNumber(): number }>;
}

function tensorFromProto(tensor: DecodedTensor, where: string): TensorDataWire {
  if (tensor.sparse_csr) throw new InputError('sparse TensorData is not supported', where);
  const dense = tensor.dense ?? new Uint8Array();
  const shape = tensor.shape?.map((dim) => (typeof dim === 'number' ? dim : dim.toNumber()));
  if (tensor.dtype === DTYPE_FLOAT32) return { data: readFloat32(dense, where), dtype: 'float32', ...(shape ? { shape } : {}) };
  if (tensor.dtype === DTYPE_INT64) return { data: readInt64(dense, where), dtype: 'int64', ...(shape ? { shape } : {}) };
  throw new InputError(`dtype ${tensor.dtype ?? 'unset'} is not a request dtype (float32 = 1, int64 = 2)`, where);
}

/** Parses a protobuf forward_backward body into the JSON form plus the forward-only flag. */
export function decodeForwardBackwardRequest(body: Uint8Array): { request: ForwardBackwardRequestWire; forwardOnly: boolean } {
  let decoded: Record<string, unknown>;
  try {
    decoded = ForwardBackwardRequest.toObject(ForwardBackwardRequest.decode(body), { defaults: true, longs: Number }) as Record<string, unknown>;
  } catch (error) {
    throw new InputError(`is not a tinker_public.ForwardBackwardRequest: ${error instanceof Error ? error.message : String(error)}`, 'forward_backward body');
  }
  const data = (decoded['data'] as Array<{ model_input?: Array<Record<string, { tokens?: Uint8Array }>>; loss_fn_inputs?: Record<string, DecodedTensor> }>).map((datum, d) => ({
    model_input: {
      chunks: (datum.model_input ?? []).map((chunk, c) => {
        const where = `forward_backward_input.data[${d}].model_input.chunks[${c}]`;
        if (!chunk['encoded_text']) throw new InputError(`only encoded_text chunks are supported, got ${Object.keys(chunk).join(', ') || 'an empty chunk'}`, where);
        return { type: 'encoded_text' as const, tokens: readInt32(chunk['encoded_text'].tokens ?? new Uint8Array(), `${where}.tokens`) };
      }),
    },
    loss_fn_inputs: Object.fromEntries(Object.entries(datum.loss_fn_inputs ?? {}).map(([key, tensor]) => [key, tensorFromProto(tensor, `forward_backward_input.data[${d}].loss_fn_inputs.${key}`)])),
  }));
  const config = decoded['loss_fn_config'] as Record<string, number>;
  const input: ForwardBackwardRequestWire['forward_backward_input'] = { data, loss_fn: decoded['loss_fn'] as string };
  if (Object.keys(config).length > 0) input.loss_fn_config = config;
  return { request: { model_id: decoded['model_id'] as string, seq_id: decoded['seq_id'] as number, forward_backward_input: input }, forwardOnly: decoded['forward_only'] === true };
}

/** Serializes a forward_backward result as one batched ArrayRecord (the layout SkyRL and the SDK's reader use). */
export function encodeForwardBackwardOutput(output: ForwardBackwardOutputWire): Uint8Array {
  const names = [...new Set(output.loss_fn_outputs.flatMap((entry) => Object.keys(entry)))];
  const fields: Record<string, unknown> = {};
  for (const name of names) {
    const tensors = output.loss_fn_outputs.map((entry) => (entry as Record<string, TensorDataWire | undefined>)[name]);
    const dtype = tensors.find((tensor) => tensor)?.dtype ?? 'float32';
    const parts = tensors.map((tensor) => (dtype === 'int64' ? int64Bytes(tensor?.data ?? []) : float32Bytes(tensor?.data ?? [])));
    const offsets = [0];
    for (const part of parts) offsets.push((offsets[offsets.length - 1] as number) + part.byteLength);
    const data = new Uint8Array(offsets[offsets.length - 1] as number);
    parts.forEach((part, i) => data.set(part, offsets[i] as number));
    fields[name] = { data, offsets: int64Bytes(offsets), dtype: dtype === 'int64' ? DTYPE_INT64 : DTYPE_FLOAT32, trailing_shape: [] };
  }
  const message = {
    loss_fn_output_type: output.loss_fn_output_type,
    metrics: output.metrics,
    loss_fn_outputs: output.loss_fn_outputs.length > 0 ? [{ fields, num_datums: output.loss_fn_outputs.length }] : [],
  };
  return ForwardBackwardOutput.encode(ForwardBackwardOutput.fromObject(message)).finish();
}

interface DecodedBatchedTensor {
  data?: Uint8Array;
  offsets?: Uint8Array;
  dtype?: number;
}

function batchedValues(tensor: DecodedBatchedTensor, where: string): { dtype: 'float32' | 'int64'; rows: number[][] } {
  const offsets = readInt64(tensor.offsets ?? new Uint8Array(), `${where}.offsets`);
  const data = tensor.data ?? new Uint8Array();
  const width = tensor.dtype === DTYPE_INT64 ? 8 : tensor.dtype === DTYPE_BFLOAT16 ? 2 : 4;
  const read = (bytes: Uint8Array): number[] => {
    if (tensor.dtype === DTYPE_FLOAT32) return readFloat32(bytes, where);
    if (tensor.dtype === DTYPE_INT64) return readInt64(bytes, where);
    if (tensor.dtype === DTYPE_INT32) return readInt32(bytes, where);
    if (tensor.dtype === DTYPE_BFLOAT16) return readBfloat16(bytes, where);
    throw new InputError(`unknown dtype ${tensor.dtype ?? 'unset'}`, where);
  };
  const rows: number[][] = [];
  for (let i = 0; i + 1 < offsets.length; i++) {
    const start = offsets[i] as number;
    const end = offsets[i + 1] as number;
    if (start % width !== 0 || end < start || end > data.byteLength) throw new InputError(`offsets ${start}..${end} do not fit ${data.byteLength} bytes of width ${width}`, where);
    rows.push(read(data.subarray(start, end)));
  }
  return { dtype: tensor.dtype === DTYPE_INT64 || tensor.dtype === DTYPE_INT32 ? 'int64' : 'float32', rows };
}

/** Reads a protobuf ForwardBackwardOutput into the JSON form (any number of ArrayRecord chunks). */
export function decodeForwardBackwardOutput(body: Uint8Array): ForwardBackwardOutputWire {
  const decoded = ForwardBackwardOutput.toObject(ForwardBackwardOutput.decode(body), { defaults: true, longs: Number }) as {
    loss_fn_output_type: string;
    metrics: Record<string, number>;
    loss_fn_outputs: Array<{ fields: Record<string, DecodedBatchedTensor>; num_datums: number }>;
  };
  const outputs: Array<Record<string, TensorDataWire>> = [];
  for (const [r, record] of decoded.loss_fn_outputs.entries()) {
    const base = outputs.length;
    const fields = Object.entries(record.fields).map(([name, tensor]) => [name, batchedValues(tensor, `loss_fn_outputs[${r}].fields.${name}`)] as const);
    const count = record.num_datums || (fields[0]?.[1].rows.length ?? 0);
    for (let i = 0; i < count; i++) outputs.push({});
    for (const [name, { dtype, rows }] of fields) {
      rows.forEach((row, i) => {
        const entry = outputs[base + i];
        if (entry) entry[name] = { data: row, dtype, shape: [row.length] };
      });
    }
  }
  return {
    loss_fn_output_type: decoded.loss_fn_output_type.split(':').pop() ?? '',
    loss_fn_outputs: outputs as ForwardBackwardOutputWire['loss_fn_outputs'],
    metrics: decoded.metrics,
  };
}

/** Serializes a sampling result; undefined prompt log-probs (the first position) travel as NaN. */
export function encodeSampleResponse(response: SampleResponseWire): Uint8Array {
  const message: Record<string, unknown> = {
    sequences: response.sequences.map((sequence) => ({
      stop_reason: sequence.stop_reason === 'length' ? 1 : 0,
      tokens: int32Bytes(sequence.tokens),
      ...(sequence.logprobs ? { logprobs: float32Bytes(sequence.logprobs) } : {}),
    })),
  };
  if (response.prompt_logprobs) message['prompt_logprobs'] = float32Bytes(response.prompt_logprobs.map((value) => value ?? Number.NaN));
  return SampleResponse.encode(SampleResponse.fromObject(message)).finish();
}

/** Reads a protobuf SampleResponse into the JSON form. */
export function decodeSampleResponse(body: Uint8Array): SampleResponseWire {
  const decoded = SampleResponse.toObject(SampleResponse.decode(body), { defaults: false }) as {
    sequences?: Array<{ stop_reason?: number; tokens?: Uint8Array; logprobs?: Uint8Array }>;
    prompt_logprobs?: Uint8Array;
  };
  return {
    type: 'sample',
    sequences: (decoded.sequences ?? []).map((sequence, i) => ({
      stop_reason: sequence.stop_reason === 1 ? 'length' : 'stop',
      tokens: readInt32(sequence.tokens ?? new Uint8Array(), `sequences[${i}].tokens`),
      logprobs: sequence.logprobs && sequence.logprobs.byteLength > 0 ? readFloat32(sequence.logprobs, `sequences[${i}].logprobs`) : null,
    })),
    prompt_logprobs: decoded.prompt_logprobs ? readFloat32(decoded.prompt_logprobs, 'prompt_logprobs').map((value) => (Number.isNaN(value) ? null : value)) : null,
    topk_prompt_logprobs: null,
  };
}
