/**
 * A reader of TensorBoard event files written apart from the writer, from the format's specification
 * (TFRecord framing: tensorflow/tensorboard @ 149535a, tensorboard/summary/writer/record_writer.py;
 * Event and Summary: tensorboard/compat/proto/event.proto @ 0034239 and summary.proto @ 00bd827). It
 * checks both masked CRC-32Cs of every record with a bit-by-bit CRC (the writer uses a table) and
 * decodes the protocol buffers generically by wire type, so a writer bug is not mirrored here.
 */
import { readFileSync } from 'node:fs';

export interface ReadEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  values: Array<{ tag: string; simpleValue: number }>;
}

function crc32cBitwise(bytes: Uint8Array): number {
  let crc = ~0 >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    crc ^= bytes[i]!;
    for (let bit = 0; bit < 8; bit++) crc = (crc & 1) !== 0 ? ((crc >>> 1) ^ 0x82f63b78) >>> 0 : crc >>> 1;
  }
  return ~crc >>> 0;
}

function masked(bytes: Uint8Array): number {
  const crc = crc32cBitwise(bytes);
  const rotated = ((crc >>> 15) | (crc << 17)) >>> 0;
  return (rotated + 0xa282ead8) % 0x100000000;
}

type Field = { number: number; wireType: number; varint?: bigint; bytes?: Uint8Array };

function fields(buffer: Uint8Array): Field[] {
  const out: Field[] = [];
  let at = 0;
  const readVarint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (at >= buffer.length) throw new Error('truncated varint');
      const byte = buffer[at++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
  };
  while (at < buffer.length) {
    const tag = Number(readVarint());
    const field: Field = { number: tag >> 3, wireType: tag & 7 };
    if (field.wireType === 0) field.varint = readVarint();
    else if (field.wireType === 1 || field.wireType === 5) {
      const size = field.wireType === 1 ? 8 : 4;
      field.bytes = buffer.subarray(at, at + size);
      at += size;
    } else if (field.wireType === 2) {
      const length = Number(readVarint());
      field.bytes = buffer.subarray(at, at + length);
      at += length;
    } else throw new Error(`unexpected wire type ${field.wireType}`);
    if (at > buffer.length) throw new Error('field runs past the end of its message');
    out.push(field);
  }
  return out;
}

const text = new TextDecoder('utf-8', { fatal: true });

function decodeEvent(payload: Uint8Array): ReadEvent {
  const event: ReadEvent = { wallTime: NaN, step: 0, values: [] };
  for (const field of fields(payload)) {
    if (field.number === 1 && field.wireType === 1) event.wallTime = new DataView(field.bytes!.buffer, field.bytes!.byteOffset, 8).getFloat64(0, true);
    else if (field.number === 2 && field.wireType === 0) event.step = Number(BigInt.asIntN(64, field.varint!));
    else if (field.number === 3 && field.wireType === 2) event.fileVersion = text.decode(field.bytes);
    else if (field.number === 5 && field.wireType === 2) {
      for (const value of fields(field.bytes!)) {
        if (value.number !== 1 || value.wireType !== 2) continue;
        let tag = '';
        let simpleValue = NaN;
        for (const part of fields(value.bytes!)) {
          if (part.number === 1 && part.wireType === 2) tag = text.decode(part.bytes);
          if (part.number === 2 && part.wireType === 5) simpleValue = new DataView(part.bytes!.buffer, part.bytes!.byteOffset, 4).getFloat32(0, true);
        }
        event.values.push({ tag, simpleValue });
      }
    }
  }
  return event;
}

/** Every event of a file; throws on a bad length or data CRC, or a torn last record. */
export function readEventFile(path: string): ReadEvent[] {
  const data = new Uint8Array(readFileSync(path));
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const events: ReadEvent[] = [];
  let at = 0;
  while (at < data.length) {
    if (at + 12 > data.length) throw new Error(`torn record header at byte ${at}`);
    const lengthBytes = data.subarray(at, at + 8);
    if (view.getUint32(at + 8, true) !== masked(lengthBytes)) throw new Error(`bad length CRC at byte ${at}`);
    const length = Number(view.getBigUint64(at, true));
    const start = at + 12;
    if (start + length + 4 > data.length) throw new Error(`torn record at byte ${at}`);
    const payload = data.subarray(start, start + length);
    if (view.getUint32(start + length, true) !== masked(payload)) throw new Error(`bad data CRC at byte ${at}`);
    events.push(decodeEvent(payload));
    at = start + length + 4;
  }
  return events;
}
