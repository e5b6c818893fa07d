/**
 * TensorBoard event files, written by hand: a TFRecord stream of `Event` protocol buffers, the first
 * carrying the file version, each later one a `Summary` of scalar values at a step. TensorBoard, and
 * anything that syncs its log directories (W&B), reads them as it reads verl's or SkyRL's.
 *
 * The format, as TensorBoard defines it:
 * - framing (tensorflow/tensorboard @ 149535a, tensorboard/summary/writer/record_writer.py): each record
 *   is uint64 length (little-endian), uint32 masked CRC-32C of those 8 bytes, the data, uint32 masked
 *   CRC-32C of the data; mask(crc) = rotate-right-15(crc) + 0xa282ead8 (mod 2^32);
 * - messages (tensorflow/tensorboard @ 0034239, tensorboard/compat/proto/event.proto; @ 00bd827,
 *   summary.proto): Event { double wall_time = 1; int64 step = 2; string file_version = 3;
 *   Summary summary = 5 }, Summary { repeated Value value = 1 }, Value { string tag = 1;
 *   float simple_value = 2 }. The first event of a file has file_version "brain.Event:2".
 * - file names contain "tfevents" (TensorBoard's directory loader looks for it).
 */
import { closeSync, constants, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';

export const FILE_VERSION = 'brain.Event:2';

/** CRC-32C (Castagnoli, reflected polynomial 0x82f63b78), table-driven. */
const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC32C_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

/** One TFRecord frame around a payload. */
export function tfRecord(payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(8 + 4 + payload.length + 4);
  const view = new DataView(frame.buffer);
  view.setBigUint64(0, BigInt(payload.length), true);
  view.setUint32(8, maskedCrc32c(frame.subarray(0, 8)), true);
  frame.set(payload, 12);
  view.setUint32(12 + payload.length, maskedCrc32c(payload), true);
  return frame;
}

// --- protocol-buffer encoding of the three messages above (wire types 0, 1, 2, 5) ---

function varint(value: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

const key = (field: number, wireType: number): number[] => varint(BigInt((field << 3) | wireType));
const utf8 = new TextEncoder();

function lengthDelimited(field: number, bytes: Uint8Array | number[]): number[] {
  return [...key(field, 2), ...varint(BigInt(bytes.length)), ...bytes];
}

function double(field: number, value: number): number[] {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setFloat64(0, value, true);
  return [...key(field, 1), ...bytes];
}

function float(field: number, value: number): number[] {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setFloat32(0, value, true);
  return [...key(field, 5), ...bytes];
}

/** A serialized Event: wall time, step, and either the file version or a summary of scalars. */
export function encodeEvent(event: { wallTime: number; step: number; fileVersion?: string; scalars?: ReadonlyArray<readonly [string, number]> }): Uint8Array {
  const bytes: number[] = [...double(1, event.wallTime), ...key(2, 0), ...varint(BigInt(Math.trunc(event.step)))];
  if (event.fileVersion !== undefined) bytes.push(...lengthDelimited(3, utf8.encode(event.fileVersion)));
  if (event.scalars !== undefined) {
    const summary: number[] = [];
    for (const [tag, value] of event.scalars) summary.push(...lengthDelimited(1, [...lengthDelimited(1, utf8.encode(tag)), ...float(2, value)]));
    bytes.push(...lengthDelimited(5, summary));
  }
  return Uint8Array.from(bytes);
}

/**
 * Flattens the finite numbers of a record into TensorBoard tags (`timings/rolloutMs`, `metrics/loss`);
 * strings, booleans, arrays and non-finite numbers are left out (TensorBoard scalars are floats).
 */
export function scalarsOf(record: unknown, prefix = ''): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  if (typeof record === 'number') {
    if (Number.isFinite(record) && prefix) out.push([prefix, record]);
  } else if (record !== null && typeof record === 'object' && !Array.isArray(record)) {
    for (const [name, value] of Object.entries(record)) out.push(...scalarsOf(value, prefix ? `${prefix}/${name}` : name));
  }
  return out;
}

/** Appends scalar summaries to a new event file in a log directory. Synchronous: a crash loses nothing written. */
export class TensorBoardWriter {
  readonly file: string;
  private fd: number | null;

  private constructor(file: string, fd: number) {
    this.file = file;
    this.fd = fd;
  }

  /** Creates `dir` if needed and a new event file in it (never follows a link planted at that name). */
  static open(dir: string, options: { now?: () => number } = {}): TensorBoardWriter {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw new InputError(`--tensorboard ${dir}: cannot create the log directory (${(error as Error).message})`, '--tensorboard', { cause: error });
    }
    const now = options.now ?? Date.now;
    const seconds = Math.floor(now() / 1000);
    for (let attempt = 0; ; attempt++) {
      const file = join(dir, `events.out.tfevents.${seconds}.${hostname()}.${process.pid}.${attempt}`);
      try {
        const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
        const writer = new TensorBoardWriter(file, fd);
        writer.writeEvent({ wallTime: now() / 1000, step: 0, fileVersion: FILE_VERSION });
        return writer;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 100) continue;
        throw new InputError(`--tensorboard ${dir}: cannot create an event file (${(error as Error).message})`, '--tensorboard', { cause: error });
      }
    }
  }

  /** Writes the scalars of one step; nothing is written for an empty list. */
  scalars(step: number, scalars: ReadonlyArray<readonly [string, number]>, wallTime = Date.now() / 1000): void {
    if (scalars.length > 0) this.writeEvent({ wallTime, step, scalars });
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private writeEvent(event: Parameters<typeof encodeEvent>[0]): void {
    if (this.fd === null) throw new InputError(`the TensorBoard event file ${this.file} is closed`, this.file);
    const frame = tfRecord(encodeEvent(event));
    let written = 0;
    while (written < frame.length) written += writeSync(this.fd, frame, written);
  }
}
