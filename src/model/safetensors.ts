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
  // Padded with spaces to keep the data 8-byte aligned; lengths in bytes (names may be non-ASCII).
  const json = JSON.stringify(header);
  const headerBytes = Buffer.from(json, 'utf8');
  const padded = Buffer.concat([headerBytes, Buffer.alloc((8 - ((8 + headerBytes.length) % 8)) % 8, 0x20)]);
  const out = Buffer.alloc(8 + padded.length + offset);
  out.writeBigUInt64LE(BigInt(padded.length), 0);
  padded.copy(out, 8);
  let at = 8 + padded.length;
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

/** Largest header read (the reference implementation's limit): a bigger one is refused, not parsed. */
export const MAX_SAFETENSORS_HEADER_BYTES = 100 * 1024 * 1024;

/**
 * Reads a safetensors file that may come from anywhere: every field is checked before it is used
 * (an object header of at most 100 MiB, string metadata, F32 dtype, shapes of non-negative safe
 * integers, integer offsets that lie inside the file, match the shape's size and tile the data
 * section exactly with no gap, overlap or trailing bytes). Nothing is allocated from a size the
 * file claims before that size is known to fit inside the file. Errors are InputErrors naming the file.
 */
export function decodeSafetensors(bytes: Uint8Array, source: string): DecodedSafetensors {
  if (bytes.length < 8) throw new InputError('file is too short to be safetensors', source);
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const declared = view.readBigUInt64LE(0);
  if (declared > BigInt(bytes.length - 8)) throw new InputError(`header length ${declared} exceeds the file size ${bytes.length}`, source);
  const headerLength = Number(declared);
  if (headerLength > MAX_SAFETENSORS_HEADER_BYTES) throw new InputError(`header length ${headerLength} is over the ${MAX_SAFETENSORS_HEADER_BYTES}-byte limit`, source);
  let header: unknown;
  try {
    header = JSON.parse(view.subarray(8, 8 + headerLength).toString('utf8'));
  } catch (error) {
    throw new InputError('header is not valid JSON', source, { cause: error });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new InputError('header is not a JSON object', source);
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const tensors = new Map<string, NamedTensor>();
  const ranges: Array<{ name: string; begin: number; end: number }> = [];
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry) || Object.values(entry).some((v) => typeof v !== 'string')) {
        throw new InputError('__metadata__ must be an object of strings', source);
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    const bad = (what: string): never => {
      throw new InputError(`tensor ${JSON.stringify(name)}: ${what}`, source);
    };
    if (typeof entry !== 'object' || entry === null) bad('entry is not an object');
    const spec = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (spec.dtype !== 'F32') bad(`dtype ${JSON.stringify(spec.dtype)}; only F32 is supported`);
    const shape = spec.shape;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || (d as number) < 0)) bad('shape must be a list of non-negative integers');
    const offsets = spec.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)) bad('data_offsets must be two non-negative integers');
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLength) bad(`data_offsets [${begin}, ${end}] lie outside the ${dataLength}-byte data section`);
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== count * 4) bad(`shape [${(shape as number[]).join(', ')}] needs ${count * 4} bytes, data_offsets give ${end - begin}`);
    ranges.push({ name, begin, end });
  }
  // The ranges must tile the data section: no overlap (two tensors aliasing bytes), no gap, nothing after.
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const range of ranges) {
    if (range.begin !== covered) throw new InputError(`tensor ${JSON.stringify(range.name)} starts at ${range.begin}, expected ${covered} (overlap or gap in the data section)`, source);
    covered = range.end;
  }
  if (covered !== dataLength) throw new InputError(`the tensors cover ${covered} of the ${dataLength} data bytes`, source);
  for (const { name, begin, end } of ranges) {
    const spec = (header as Record<string, { shape: number[] }>)[name] as { shape: number[] };
    const data = new Float32Array((end - begin) / 4);
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { name, shape: spec.shape, data });
  }
  return { tensors, metadata };
}
