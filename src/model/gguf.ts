/**
 * GGUF, llama.cpp's model file: written from the format's specification (ggml-org/ggml
 * docs/gguf.md at 9d325133eed396b7bf005a53a83d9747cbd8bde1), version 3, little-endian.
 *
 *   header   magic "GGUF", u32 version, u64 tensor count, u64 metadata count
 *   metadata key (u64-length string), u32 value type, value (arrays: u32 item type, u64 count, items)
 *   tensors  name, u32 dimension count, u64 dimensions innermost first, u32 ggml type, u64 offset
 *   padding  to `general.alignment` (default 32), then the tensor data, each tensor aligned
 *
 * Only what cir writes is supported: float32 tensors, scalar/string/array metadata. The reader reads
 * the header (metadata and tensor table) and float32 tensors, for tests and for `cir export` checks.
 */
import { InputError } from '../core/errors.js';

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** ggml_type of a float32 tensor. */
export const GGML_TYPE_F32 = 0;

export enum GgufType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

type ScalarType = Exclude<GgufType, GgufType.ARRAY>;

export type GgufEntry =
  | { key: string; type: ScalarType; value: number | bigint | boolean | string }
  | { key: string; type: GgufType.ARRAY; itemType: ScalarType; value: readonly (number | bigint | boolean | string)[] };

export interface GgufTensor {
  name: string;
  /** Row-major shape, outermost first (as in safetensors); GGUF stores it reversed. */
  shape: readonly number[];
  data: Float32Array;
}

const scalarSize: Partial<Record<GgufType, number>> = {
  [GgufType.UINT8]: 1,
  [GgufType.INT8]: 1,
  [GgufType.BOOL]: 1,
  [GgufType.UINT16]: 2,
  [GgufType.INT16]: 2,
  [GgufType.UINT32]: 4,
  [GgufType.INT32]: 4,
  [GgufType.FLOAT32]: 4,
  [GgufType.UINT64]: 8,
  [GgufType.INT64]: 8,
  [GgufType.FLOAT64]: 8,
};

/** Grows as it is written; little-endian throughout. */
class ByteWriter {
  private buffer = Buffer.alloc(1 << 16);
  length = 0;

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const next = Buffer.alloc(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }

  u32(value: number): void {
    this.reserve(4);
    this.buffer.writeUInt32LE(value, this.length);
    this.length += 4;
  }

  u64(value: number | bigint): void {
    this.reserve(8);
    this.buffer.writeBigUInt64LE(BigInt(value), this.length);
    this.length += 8;
  }

  string(text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    this.u64(bytes.length);
    this.bytes(bytes);
  }

  bytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  scalar(type: ScalarType, value: number | bigint | boolean | string, key: string): void {
    if (type === GgufType.STRING) {
      if (typeof value !== 'string') throw new InputError(`metadata ${key}: expected a string`, 'gguf');
      this.string(value);
      return;
    }
    const size = scalarSize[type]!;
    this.reserve(size);
    const b = this.buffer;
    const at = this.length;
    switch (type) {
      case GgufType.UINT8: b.writeUInt8(Number(value), at); break;
      case GgufType.INT8: b.writeInt8(Number(value), at); break;
      case GgufType.BOOL: b.writeUInt8(value ? 1 : 0, at); break;
      case GgufType.UINT16: b.writeUInt16LE(Number(value), at); break;
      case GgufType.INT16: b.writeInt16LE(Number(value), at); break;
      case GgufType.UINT32: b.writeUInt32LE(Number(value), at); break;
      case GgufType.INT32: b.writeInt32LE(Number(value), at); break;
      case GgufType.FLOAT32: b.writeFloatLE(Number(value), at); break;
      case GgufType.UINT64: b.writeBigUInt64LE(BigInt(value), at); break;
      case GgufType.INT64: b.writeBigInt64LE(BigInt(value), at); break;
      case GgufType.FLOAT64: b.writeDoubleLE(Number(value), at); break;
    }
    this.length += size;
  }

  pad(alignment: number): void {
    const padding = (alignment - (this.length % alignment)) % alignment;
    this.reserve(padding);
    this.buffer.fill(0, this.length, this.length + padding);
    this.length += padding;
  }

  result(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

const alignUp = (value: number, alignment: number) => Math.ceil(value / alignment) * alignment;

export function encodeGguf(metadata: readonly GgufEntry[], tensors: readonly GgufTensor[]): Buffer {
  const alignmentEntry = metadata.find((entry) => entry.key === 'general.alignment');
  const alignment = alignmentEntry ? Number(alignmentEntry.value) : GGUF_DEFAULT_ALIGNMENT;
  const keys = new Set<string>();
  for (const entry of metadata) {
    if (keys.has(entry.key)) throw new InputError(`metadata key ${entry.key} appears twice`, 'gguf');
    keys.add(entry.key);
  }
  const out = new ByteWriter();
  out.u32(GGUF_MAGIC);
  out.u32(GGUF_VERSION);
  out.u64(tensors.length);
  out.u64(metadata.length);
  for (const entry of metadata) {
    out.string(entry.key);
    out.u32(entry.type);
    if (entry.type === GgufType.ARRAY) {
      out.u32(entry.itemType);
      out.u64(entry.value.length);
      for (const item of entry.value) out.scalar(entry.itemType, item, entry.key);
    } else out.scalar(entry.type, entry.value, entry.key);
  }
  let offset = 0;
  for (const tensor of tensors) {
    const count = tensor.shape.reduce((a, b) => a * b, 1);
    if (count !== tensor.data.length) throw new InputError(`tensor ${tensor.name}: shape [${tensor.shape.join(', ')}] holds ${count} values, data has ${tensor.data.length}`, 'gguf');
    out.string(tensor.name);
    out.u32(tensor.shape.length);
    for (let d = tensor.shape.length - 1; d >= 0; d--) out.u64(tensor.shape[d]!);
    out.u32(GGML_TYPE_F32);
    out.u64(offset);
    offset = alignUp(offset + tensor.data.length * 4, alignment);
  }
  out.pad(alignment);
  for (const tensor of tensors) {
    out.bytes(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.length * 4));
    out.pad(alignment);
  }
  return out.result();
}

export interface GgufTensorInfo {
  name: string;
  /** Row-major shape, outermost first. */
  shape: number[];
  ggmlType: number;
  /** Absolute byte offset of the data in the file. */
  offset: number;
}

export interface DecodedGguf {
  version: number;
  metadata: Map<string, unknown>;
  tensors: GgufTensorInfo[];
}

/** Reads a GGUF header; `source` names the file in errors. */
export function decodeGguf(bytes: Uint8Array, source: string): DecodedGguf {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  let at = 0;
  const need = (n: number) => {
    if (at + n > view.length) throw new InputError(`file ends at byte ${view.length} inside the GGUF header`, source);
  };
  const u32 = () => (need(4), (at += 4), view.readUInt32LE(at - 4));
  const u64 = () => {
    need(8);
    at += 8;
    const value = view.readBigUInt64LE(at - 8);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new InputError(`a count or size of ${value} is not plausible`, source);
    return Number(value);
  };
  const string = () => {
    const length = u64();
    need(length);
    at += length;
    return view.toString('utf8', at - length, at);
  };
  const scalar = (type: number): unknown => {
    if (type === GgufType.STRING) return string();
    const size = scalarSize[type as GgufType];
    if (size === undefined) throw new InputError(`unknown metadata value type ${type}`, source);
    need(size);
    const p = at;
    at += size;
    switch (type as GgufType) {
      case GgufType.UINT8: return view.readUInt8(p);
      case GgufType.INT8: return view.readInt8(p);
      case GgufType.BOOL: return view.readUInt8(p) !== 0;
      case GgufType.UINT16: return view.readUInt16LE(p);
      case GgufType.INT16: return view.readInt16LE(p);
      case GgufType.UINT32: return view.readUInt32LE(p);
      case GgufType.INT32: return view.readInt32LE(p);
      case GgufType.FLOAT32: return view.readFloatLE(p);
      case GgufType.UINT64: return view.readBigUInt64LE(p);
      case GgufType.INT64: return view.readBigInt64LE(p);
      default: return view.readDoubleLE(p);
    }
  };
  if (u32() !== GGUF_MAGIC) throw new InputError('not a GGUF file (the first four bytes are not "GGUF")', source);
  const version = u32();
  if (version !== 2 && version !== 3) throw new InputError(`GGUF version ${version}; this reader knows versions 2 and 3`, source);
  const tensorCount = u64();
  const metadataCount = u64();
  const metadata = new Map<string, unknown>();
  for (let i = 0; i < metadataCount; i++) {
    const key = string();
    const type = u32();
    if (type === GgufType.ARRAY) {
      const itemType = u32();
      const count = u64();
      const items: unknown[] = [];
      for (let j = 0; j < count; j++) items.push(scalar(itemType));
      metadata.set(key, items);
    } else metadata.set(key, scalar(type));
  }
  const infos: { name: string; shape: number[]; ggmlType: number; relative: number }[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = string();
    const dims = u32();
    const ne: number[] = [];
    for (let d = 0; d < dims; d++) ne.push(u64());
    infos.push({ name, shape: ne.reverse(), ggmlType: u32(), relative: u64() });
  }
  const alignment = Number(metadata.get('general.alignment') ?? GGUF_DEFAULT_ALIGNMENT);
  const dataStart = alignUp(at, alignment);
  const tensors = infos.map(({ relative, ...rest }) => ({ ...rest, offset: dataStart + relative }));
  return { version, metadata, tensors };
}

/** A float32 tensor's values from a decoded GGUF file. */
export function readGgufF32(bytes: Uint8Array, info: GgufTensorInfo, source: string): Float32Array {
  if (info.ggmlType !== GGML_TYPE_F32) throw new InputError(`tensor ${info.name} has ggml type ${info.ggmlType}; only F32 (0) is read`, source);
  const count = info.shape.reduce((a, b) => a * b, 1);
  if (info.offset + count * 4 > bytes.length) throw new InputError(`tensor ${info.name} runs past the end of the file`, source);
  const data = new Float32Array(count);
  new Uint8Array(data.buffer).set(bytes.subarray(info.offset, info.offset + count * 4));
  return data;
}
