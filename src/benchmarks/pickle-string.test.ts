/** Pickles built byte by byte: the ones Python writes for a str, and hostile or malformed ones. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readPickledString } from './pickle-string.js';

const bytes = (...parts: (number[] | string | Uint8Array)[]) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'utf8')] : [...p])));
const u32 = (n: number) => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255];
const u64 = (n: number) => [...u32(n), 0, 0, 0, 0];

/** What `pickle.dumps(text)` writes with protocol 4/5: PROTO, FRAME, SHORT_BINUNICODE or BINUNICODE, MEMOIZE, STOP. */
function protocol4(text: string): Uint8Array {
  const utf = Buffer.from(text, 'utf8');
  const body = utf.length < 256 ? bytes([0x8c, utf.length], utf, [0x94, 0x2e]) : bytes([0x58, ...u32(utf.length)], utf, [0x94, 0x2e]);
  return bytes([0x80, 4, 0x95, ...u64(body.length)], body);
}

test('reads the pickles Python writes for a str (protocols 0, 2/3, 4)', () => {
  // pickle.dumps("hi", protocol=4) == b'\x80\x04\x95\x06\x00\x00\x00\x00\x00\x00\x00\x8c\x02hi\x94.'
  assert.equal(readPickledString(bytes([0x80, 4, 0x95, 6, 0, 0, 0, 0, 0, 0, 0, 0x8c, 2], 'hi', [0x94, 0x2e]), 't'), 'hi');
  // pickle.dumps("hé", protocol=3) == b'\x80\x03X\x03\x00\x00\x00h\xc3\xa9q\x00.'
  assert.equal(readPickledString(bytes([0x80, 3, 0x58, 3, 0, 0, 0], 'hé', [0x71, 0, 0x2e]), 't'), 'hé');
  // pickle.dumps("h\u20ac", protocol=0) == b'Vh\\u20ac\np0\n.'
  assert.equal(readPickledString(bytes('Vh\\u20ac\np0\n.'), 't'), 'h\u20ac');
  // BINUNICODE8 and LONG_BINPUT are accepted too.
  assert.equal(readPickledString(bytes([0x80, 5, 0x8d, ...u64(3)], 'abc', [0x72, 0, 0, 0, 0, 0x2e]), 't'), 'abc');
});

test('round-trips any string, short or long', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), (text) => {
      assert.equal(readPickledString(protocol4(text), 't'), text);
    }),
  );
  const long = '[{"input": "1\\n", "output": "2\\n", "testtype": "stdin"}]'.repeat(50);
  assert.equal(readPickledString(protocol4(long), 't'), long);
});

test('rejects code-running opcodes before anything is built', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    // cos\nsystem\n(S'echo pwned'\ntR.  : the classic os.system payload
    ['GLOBAL', bytes("cos\nsystem\n(S'echo pwned'\ntR."), /GLOBAL \(0x63\) at byte 0/],
    // protocol 4: the string arrives first, then STACK_GLOBAL and REDUCE
    ['STACK_GLOBAL', bytes([0x80, 4, 0x8c, 2], 'os', [0x94, 0x8c, 6], 'system', [0x94, 0x93]), /second string at byte 7/],
    ['REDUCE', bytes([0x80, 2, 0x8c, 1], 'x', [0x52, 0x2e]), /REDUCE \(0x52\) at byte 5/],
    ['BUILD', bytes([0x80, 2, 0x8c, 1], 'x', [0x62, 0x2e]), /BUILD \(0x62\)/],
    ['INST', bytes('(ios\nsystem\n.'), /MARK \(0x28\) at byte 0/],
    ['NEWOBJ', bytes([0x80, 2, 0x81, 0x2e]), /NEWOBJ \(0x81\)/],
    ['list', bytes([0x80, 2, 0x5d, 0x2e]), /EMPTY_LIST/],
    ['bytes', bytes([0x80, 3, 0x43, 1, 0x41, 0x2e]), /unknown \(0x43\)/],
  ];
  for (const [name, data, pattern] of cases) {
    assert.throws(() => readPickledString(data, 'evil.pkl'), (error: Error) => {
      assert.match(error.message, /not a pickle of a single string/, name);
      assert.match(error.message, pattern, name);
      assert.equal((error as { input?: string }).input, 'evil.pkl');
      return true;
    });
  }
});

test('rejects malformed pickles with a clear reason', () => {
  assert.throws(() => readPickledString(bytes([0x80, 4]), 't'), /ends without STOP/);
  assert.throws(() => readPickledString(bytes([0x2e]), 't'), /STOP at byte 0 with no string/);
  assert.throws(() => readPickledString(bytes([0x8c, 10], 'ab'), 't'), /runs past the end/);
  assert.throws(() => readPickledString(bytes([0x58, 0xff, 0xff, 0xff, 0x7f], 'ab'), 't'), /runs past the end/);
  assert.throws(() => readPickledString(bytes([0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 't'), /runs past the end/);
  assert.throws(() => readPickledString(bytes([0x8c, 2, 0xc3, 0x28, 0x2e]), 't'), /invalid UTF-8/);
  assert.throws(() => readPickledString(bytes([0x8c, 1], 'a', [0x2e, 0x2e]), 't'), /1 byte\(s\) after STOP/);
  assert.throws(() => readPickledString(bytes([0x80, 9]), 't'), /unknown protocol 9/);
  assert.throws(() => readPickledString(bytes([0x94, 0x2e]), 't'), /MEMOIZE at byte 0 with nothing/);
});

test('never throws anything but a clear InputError on random bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (data) => {
      try {
        readPickledString(data, 'random');
      } catch (error) {
        assert.equal((error as Error).name, 'InputError');
      }
    }),
  );
});
