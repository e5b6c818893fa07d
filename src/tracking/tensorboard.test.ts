import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { InputError } from '../core/errors.js';
import { crc32c, FILE_VERSION, scalarsOf, TensorBoardWriter } from './tensorboard.js';
import { readEventFile } from './testing/event-reader.js';

const scratch = () => mkdtempSync(join(tmpdir(), 'cir-tb-'));

test('CRC-32C gives the standard check value of "123456789"', () => {
  // The CRC catalogue's check value for CRC-32/ISCSI (Castagnoli).
  assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
});

test('scalars read back, with their steps, by a reader written from the specification', () => {
  const dir = scratch();
  try {
    const writer = TensorBoardWriter.open(dir, { now: () => 1_700_000_000_000 });
    writer.scalars(1, [['reward', -0.25], ['heldOut/accuracy', 0.5]], 1_700_000_001);
    writer.scalars(2, [['reward', 0.125]], 1_700_000_002);
    writer.close();
    const files = readdirSync(dir);
    assert.equal(files.length, 1);
    assert.match(files[0]!, /^events\.out\.tfevents\.1700000000\./);
    const events = readEventFile(join(dir, files[0]!));
    assert.equal(events.length, 3);
    assert.equal(events[0]!.fileVersion, FILE_VERSION);
    assert.deepEqual(events.slice(1).map((e) => [e.step, e.wallTime, e.values]), [
      [1, 1_700_000_001, [{ tag: 'reward', simpleValue: -0.25 }, { tag: 'heldOut/accuracy', simpleValue: 0.5 }]],
      [2, 1_700_000_002, [{ tag: 'reward', simpleValue: 0.125 }]],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('any scalars round-trip as float32, at any step', () => {
  const dir = scratch();
  try {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.float({ noNaN: true, noDefaultInfinity: true })), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        (scalars, step) => {
          const writer = TensorBoardWriter.open(dir);
          writer.scalars(step, scalars, 12.5);
          writer.close();
          const events = readEventFile(writer.file);
          const last = events[events.length - 1]!;
          assert.equal(last.step, step);
          assert.deepEqual(last.values, scalars.map(([tag, value]) => ({ tag, simpleValue: Math.fround(value) })));
        },
      ),
      { numRuns: 60 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a flipped byte anywhere in a record is caught by its CRCs', () => {
  const dir = scratch();
  try {
    const writer = TensorBoardWriter.open(dir);
    writer.scalars(3, [['loss', 1.5]]);
    writer.close();
    const bytes = readFileSync(writer.file);
    for (const at of [0, 9, 20, bytes.length - 2]) {
      const damaged = Buffer.from(bytes);
      damaged[at] = damaged[at]! ^ 0x40;
      writeFileSync(writer.file, damaged);
      assert.throws(() => readEventFile(writer.file), /CRC|torn/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('record flattening keeps finite numbers under slash-separated tags', () => {
  assert.deepEqual(scalarsOf({ step: 3, reward: 0.5, timings: { rolloutMs: 10, note: 'x' }, ci: [0.1, 0.2], bad: NaN, ok: true }), [
    ['step', 3],
    ['reward', 0.5],
    ['timings/rolloutMs', 10],
  ]);
});

test('a link planted at the log directory path is not followed into, and an unusable directory is an input error', () => {
  const dir = scratch();
  try {
    writeFileSync(join(dir, 'file'), 'x');
    assert.throws(() => TensorBoardWriter.open(join(dir, 'file')), InputError);
    symlinkSync('/etc/passwd', join(dir, 'link'));
    assert.throws(() => TensorBoardWriter.open(join(dir, 'link')), InputError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
