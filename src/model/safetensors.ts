/** Reading and writing safetensors files (float32 tensors only), the Hugging Face weight format. */
import { InputError } from '../core/errors.js';

export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export function encodeSafetensors(tensors: readonly NamedTensor[], metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const tensor of tensors) {
    const bytes = tensor.data.length * 4;
    header[tensor.name] = { dtype: 'F32', shape: tensor.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8); // keeps the data 8-byte aligned
  const out = Buffer.alloc(8 + json.length + offset);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  out.write(json, 8, 'utf8');
  let at = 8 + json.length;
  for (const tensor of tensors) {
    const bytes = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.length * 4);
    bytes.copy(out, at);
    at += bytes.length;
  }
  return out;
}

export interface DecodedSafetensors {
  tensors: Map<string, NamedTensor>;
  metadata: Record<string, string>;
}

export function decodeSafetensors(bytes: Uint8Array, source: string): DecodedSafetensors {
  if (bytes.length < 8) throw new InputError('file is too short to be safetensors', source);
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const headerLength = Number(view.readBigUInt64LE(0));
  if (headerLength > bytes.length - 8) throw new InputError(`header length ${headerLength} exceeds the file size`, source);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(view.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new InputError('header is not valid JSON', source, { cause: error });
  }
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, NamedTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const spec = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (spec.dtype !== 'F32') throw new InputError(`tensor ${name} has dtype ${String(spec.dtype)}; only F32 is supported`, source);
    const shape = spec.shape as number[];
    const [begin, end] = spec.data_offsets as [number, number];
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * 4 || dataStart + end > bytes.length) throw new InputError(`tensor ${name} has inconsistent offsets`, source);
    const data = new Float32Array(count);
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { name, shape, data });
  }
  return { tensors, metadata };
}
