/**
 * The protobuf messages written in tinker-proto.ts against the SDK's own descriptor
 * (thinking-machines-lab/tinker @ d595dc2, src/tinker/proto/tinker_public_pb2.py; identical at
 * 6b02536, v0.24.1), and round trips of every message both ends exchange.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import 'protobufjs/ext/descriptor.js';
import fc from 'fast-check';
import { TINKER_SDK_DESCRIPTOR_BASE64 } from './testing/tinker-sdk-descriptor.js';
import {
  decodeForwardBackwardOutput,
  decodeForwardBackwardRequest,
  decodeSampleResponse,
  encodeForwardBackwardOutput,
  encodeForwardBackwardRequest,
  encodeSampleResponse,
  tinkerProtoRoot,
} from './tinker-proto.js';
import { InputError } from '../core/errors.js';
import { encodeDatum } from './tinker-wire.js';

const sdkRoot = (): protobuf.Root => {
  const file = Buffer.from(TINKER_SDK_DESCRIPTOR_BASE64, 'base64');
  // A FileDescriptorSet is field 1 (repeated FileDescriptorProto): one length-delimited entry.
  const set = protobuf.Writer.create().uint32(0x0a).bytes(file).finish();
  return protobuf.Root.fromDescriptor(set);
};

/** A decoded bytes field in a buffer of its own (Node hands out views into a shared pool). */
const own = (bytes: Uint8Array): ArrayBuffer => Uint8Array.from(bytes).buffer;

/** Every field of a type as one comparable line: number, name, rule, key type, type, oneof. */
function shape(type: protobuf.Type): string[] {
  return type.fieldsArray
    .map((field) => {
      const map = field instanceof protobuf.MapField ? `map<${field.keyType},` : '';
      const oneof = field.partOf && !field.partOf.name.startsWith('_') ? ` oneof ${field.partOf.name}` : '';
      const optional = field.partOf?.name.startsWith('_') ? ' optional' : '';
      return `${field.id} ${field.name} ${field.repeated && !map ? 'repeated ' : ''}${map}${field.type.split('.').pop()}${map ? '>' : ''}${optional}${oneof}`;
    })
    .sort();
}

test('every message and enum written here matches the SDK descriptor field by field', () => {
  const sdk = sdkRoot().lookup('tinker_public') as protobuf.Namespace;
  const ours = tinkerProtoRoot.lookup('tinker_public') as protobuf.Namespace;
  const defined = ours.nestedArray.map((item) => item.name).sort();
  const upstream = sdk.nestedArray.map((item) => item.name).sort();
  // The three messages left out are never sent by the SDK (sampling goes as JSON).
  assert.deepEqual(upstream.filter((name) => !defined.includes(name)), ['SamplingParams', 'StopStrings', 'StopTokens']);
  for (const name of defined) {
    const mine = ours.lookup(name);
    const theirs = sdk.lookup(name);
    assert.ok(theirs, `${name} exists in the SDK descriptor`);
    if (mine instanceof protobuf.Enum) assert.deepEqual({ ...mine.values }, { ...(theirs as protobuf.Enum).values }, name);
    else assert.deepEqual(shape(mine as protobuf.Type), shape(theirs as protobuf.Type), name);
  }
});

test('our ForwardBackwardRequest bytes decode with the SDK descriptor to the same values', () => {
  const request = {
    model_id: 'model_ab12',
    seq_id: 7,
    forward_backward_input: { data: [encodeDatum([5, 6, 7, 8], { advantages: [0.5, -1, 2], logprobs: [-0.125, -0.25, -0.375] })], loss_fn: 'ppo', loss_fn_config: { clip_low_threshold: 0.8, clip_high_threshold: 1.28 } },
  };
  const bytes = encodeForwardBackwardRequest(request, true);
  const Sdk = sdkRoot().lookupType('tinker_public.ForwardBackwardRequest');
  const read = Sdk.toObject(Sdk.decode(bytes), { longs: Number }) as Record<string, unknown>;
  assert.equal(read['model_id'], 'model_ab12');
  assert.equal(read['seq_id'], 7);
  assert.equal(read['forward_only'], true);
  assert.equal(read['loss_fn'], 'ppo');
  const datum = (read['data'] as Array<{ model_input: Array<{ encoded_text: { tokens: Uint8Array } }>; loss_fn_inputs: Record<string, { dense: Uint8Array; dtype: number; shape: number[] }> }>)[0]!;
  assert.deepEqual(Array.from(new Int32Array(own(datum.model_input[0]!.encoded_text.tokens))), [5, 6, 7]);
  const targets = datum.loss_fn_inputs['target_tokens']!;
  assert.equal(targets.dtype, 2, 'int64');
  assert.deepEqual(Array.from(new BigInt64Array(own(targets.dense)), Number), [6, 7, 8]);
  assert.deepEqual(targets.shape, [3]);
  assert.equal(datum.loss_fn_inputs['advantages']!.dtype, 1, 'float32');
  assert.deepEqual(decodeForwardBackwardRequest(bytes), { request, forwardOnly: true });
});

test('forward_backward requests and results survive the protobuf round trip (property)', () => {
  const sequence = fc.array(fc.integer({ min: 0, max: 150_000 }), { minLength: 2, maxLength: 40 });
  fc.assert(
    fc.property(fc.array(sequence, { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 2 ** 31 - 1 }), (sequences, seqId) => {
      const data = sequences.map((tokens) => encodeDatum(tokens, { weights: tokens.slice(1).map((t) => Math.fround(t / 7)) }));
      const request = { model_id: 'm', seq_id: seqId, forward_backward_input: { data, loss_fn: 'cross_entropy' } };
      assert.deepEqual(decodeForwardBackwardRequest(encodeForwardBackwardRequest(request, false)), { request, forwardOnly: false });
      const output = { loss_fn_output_type: 'ArrayRecord', loss_fn_outputs: sequences.map((tokens) => ({ logprobs: { data: tokens.slice(1).map((t) => Math.fround(-t / 1000)), dtype: 'float32' as const, shape: [tokens.length - 1] } })), metrics: { 'loss:sum': 1.25 } };
      assert.deepEqual(decodeForwardBackwardOutput(encodeForwardBackwardOutput(output)), output);
    }),
    { numRuns: 50 },
  );
});

test('a ForwardBackwardOutput split over several ArrayRecords, with int32 and bfloat16 fields, reads as the SDK reads it', () => {
  const Sdk = sdkRoot().lookupType('tinker_public.ForwardBackwardOutput');
  const i64 = (values: number[]) => new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer);
  const bf16 = (values: number[]) => new Uint8Array(Uint16Array.from(values.map((v) => new Uint32Array(Float32Array.of(v).buffer)[0]! >>> 16)).buffer);
  const message = Sdk.fromObject({
    loss_fn_output_type: 'tinker.types:ArrayRecord',
    metrics: { 'loss:sum': 3 },
    loss_fn_outputs: [
      { num_datums: 1, fields: { logprobs: { data: bf16([-0.5, -2]), offsets: i64([0, 4]), dtype: 4 } } },
      { num_datums: 2, fields: { logprobs: { data: new Uint8Array(Int32Array.of(1, 2, 3).buffer), offsets: i64([0, 4, 12]), dtype: 3 } } },
    ],
  });
  const output = decodeForwardBackwardOutput(Sdk.encode(message).finish());
  assert.equal(output.loss_fn_output_type, 'ArrayRecord', 'the bare class name, as response_conv.py keeps it');
  assert.deepEqual(output.loss_fn_outputs.map((entry) => entry.logprobs.data), [[-0.5, -2], [1], [2, 3]]);
  assert.deepEqual(output.metrics, { 'loss:sum': 3 });
});

test('SampleResponse: tokens, log-probs, stop reasons and NaN prompt log-probs', () => {
  const response = {
    type: 'sample' as const,
    sequences: [
      { stop_reason: 'length' as const, tokens: [1, 2, 3], logprobs: [-0.5, -1.5, -2.5] },
      { stop_reason: 'stop' as const, tokens: [4], logprobs: null },
    ],
    prompt_logprobs: [null, -0.25, -3],
    topk_prompt_logprobs: null,
  };
  const bytes = encodeSampleResponse(response);
  assert.deepEqual(decodeSampleResponse(bytes), response);
  const Sdk = sdkRoot().lookupType('tinker_public.SampleResponse');
  const read = Sdk.toObject(Sdk.decode(bytes), { defaults: false }) as { sequences: Array<{ stop_reason?: number }>; prompt_logprobs: Uint8Array };
  assert.equal(read.sequences[0]?.stop_reason, 1);
  assert.ok(Number.isNaN(new Float32Array(own(read.prompt_logprobs))[0]));
});

test('malformed protobuf bodies are refused by name', () => {
  assert.throws(() => decodeForwardBackwardRequest(Uint8Array.of(0x0a, 0xff)), (error: unknown) => error instanceof InputError && error.input === 'forward_backward body');
  const Sdk = sdkRoot().lookupType('tinker_public.ForwardBackwardRequest');
  const image = Sdk.encode(Sdk.fromObject({ model_id: 'm', seq_id: 1, loss_fn: 'cross_entropy', data: [{ model_input: [{ image: { data: Uint8Array.of(1), format: 'png' } }] }] })).finish();
  assert.throws(() => decodeForwardBackwardRequest(image), /only encoded_text chunks/);
});
