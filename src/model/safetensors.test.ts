import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { DEFAULT_MODEL_CONFIG, parameterLayout } from './config.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

/** A safetensors file with this header (padded to 8 bytes) followed by `dataBytes` zero bytes. */
function forged(header: unknown, dataBytes: number): Buffer {
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const out = Buffer.alloc(8 + json.length + dataBytes);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  out.write(json, 8, 'utf8');
  return out;
}

const refused = (bytes: Uint8Array, message: RegExp) =>
  assert.throws(() => decodeSafetensors(bytes, 'evil.safetensors'), (e: unknown) => e instanceof InputError && e.input === 'evil.safetensors' && message.test(e.message), String(message));

test('a well-formed file round-trips, non-ASCII names included', () => {
  const tensors = [
    { name: 'a', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
    { name: 'é', shape: [0], data: new Float32Array(0) },
    { name: 'b', shape: [], data: new Float32Array([5]) },
  ];
  const decoded = decodeSafetensors(encodeSafetensors(tensors, { note: 'ü' }), 'ok');
  assert.deepEqual([...decoded.tensors.keys()].sort(), ['a', 'b', 'é']);
  assert.deepEqual([...(decoded.tensors.get('a')?.data ?? [])], [1, 2, 3, 4]);
  assert.equal(decoded.metadata['note'], 'ü');
});

test('attack: hostile safetensors headers are refused with an InputError naming the file', () => {
  // Negative offsets used to read the header's own bytes as weights.
  refused(forged({ w: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } }, 0), /data_offsets/);
  // Two tensors aliasing the same bytes.
  refused(forged({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 4), /overlap or gap/);
  // Bytes after the last tensor, a gap, offsets past the end, a shape that does not match.
  refused(forged({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 8), /cover 4 of the 8/);
  refused(forged({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), /overlap or gap/);
  refused(forged({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 0), /outside/);
  refused(forged({ a: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 4] } }, 4), /needs/);
  refused(forged({ a: { dtype: 'F32', shape: [-1, -1], data_offsets: [0, 4] } }, 4), /shape/);
  refused(forged({ a: { dtype: 'F32', shape: ['1'], data_offsets: [0, 4] } }, 4), /shape/);
  refused(forged({ a: { dtype: 'F32', shape: [1] } }, 4), /data_offsets/);
  refused(forged({ a: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, 8), /dtype/);
  refused(forged({ a: null }, 0), /not an object/);
  refused(forged(null, 0), /not a JSON object/);
  refused(forged([1, 2], 0), /not a JSON object/);
  refused(forged({ __metadata__: { step: 3 } }, 0), /__metadata__/);
  // A header length bigger than the file, or than any number can say exactly.
  const huge = Buffer.alloc(16);
  huge.writeBigUInt64LE(2n ** 63n, 0);
  refused(huge, /exceeds the file size/);
  refused(Buffer.alloc(4), /too short/);
});

test('attack: a config.json claiming a huge model is refused before anything that size is allocated', () => {
  const config = { ...DEFAULT_MODEL_CONFIG, vocabSize: 16, hiddenSize: 8, numHeads: 2, numKvHeads: 2, numLayers: 1, intermediateSize: 8, contextLength: 16 };
  const dir = mkdtempSync(join(tmpdir(), 'cir-ckpt-attack-'));
  saveCheckpoint(dir, { config, params: new Float32Array(parameterLayout(config).totalSize), info: {} });
  assert.equal(loadCheckpoint(dir).params.length, parameterLayout(config).totalSize);
  const json = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...json, vocab_size: 1e12 }));
  assert.throws(() => loadCheckpoint(dir), (e: unknown) => e instanceof InputError && /shape/.test(e.message));
});
