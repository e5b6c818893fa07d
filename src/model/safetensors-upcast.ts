/**
 * Hugging Face checkpoints are mostly bfloat16 or float16; the embedded model computes in float32. This
 * widens such a safetensors file to an all-F32 one (exactly: every BF16/F16 value is representable in
 * float32) that `decodeSafetensors` reads. Other dtypes (integers, F64, FP8) are refused by name.
 */
import { InputError } from '../core/errors.js';
import { encodeSafetensors, type NamedTensor } from './safetensors.js';

const WIDENED = new Set(['BF16', 'F16']);

function f16ToF32(half: number): number {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >> 10) & 0x1f;
  const fraction = half & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** `bytes` itself when every tensor is already F32; else an F32 copy. */
export function widenSafetensors(bytes: Uint8Array, source: string): Uint8Array {
  if (bytes.length < 8) return bytes; // decodeSafetensors says what is wrong
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const headerLength = Number(view.readBigUInt64LE(0));
  if (headerLength > bytes.length - 8) return bytes;
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(view.toString('utf8', 8, 8 + headerLength)) as Record<string, unknown>;
  } catch {
    return bytes;
  }
  const entries = Object.entries(header).filter(([name]) => name !== '__metadata__') as [string, { dtype?: unknown; shape?: unknown; data_offsets?: unknown }][];
  if (entries.every(([, spec]) => spec.dtype === 'F32')) return bytes;
  const dataStart = 8 + headerLength;
  const tensors: NamedTensor[] = [];
  for (const [name, spec] of entries) {
    const dtype = String(spec.dtype);
    if (dtype !== 'F32' && !WIDENED.has(dtype)) throw new InputError(`tensor ${name} has dtype ${dtype}; the embedded model loads F32, BF16 and F16`, source);
    const shape = spec.shape as number[];
    const [begin, end] = spec.data_offsets as [number, number];
    const count = shape.reduce((a, b) => a * b, 1);
    const width = dtype === 'F32' ? 4 : 2;
    if (end - begin !== count * width || dataStart + end > bytes.length) throw new InputError(`tensor ${name} has inconsistent offsets`, source);
    const data = new Float32Array(count);
    const at = dataStart + begin;
    if (dtype === 'F32') new Uint8Array(data.buffer).set(bytes.subarray(at, at + count * 4));
    else if (dtype === 'BF16') {
      const bits = new Uint32Array(data.buffer);
      for (let i = 0; i < count; i++) bits[i] = view.readUInt16LE(at + 2 * i) << 16;
    } else for (let i = 0; i < count; i++) data[i] = f16ToF32(view.readUInt16LE(at + 2 * i));
    tensors.push({ name, shape, data });
  }
  const metadata = (header['__metadata__'] ?? {}) as Record<string, string>;
  return encodeSafetensors(tensors, metadata);
}
