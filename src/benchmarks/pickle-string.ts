/**
 * A deliberately tiny pickle reader: it accepts only a pickle whose whole effect is to return one
 * `str`, and rejects every other opcode (GLOBAL, REDUCE, BUILD, ...) before anything could be
 * built. LiveCodeBench stores its hidden tests as base64(zlib(pickle(json string))); running a
 * general unpickler on downloaded data would run whatever code the file names, so we never do.
 */
import { InputError } from '../core/errors.js';

/** Names of the opcodes a hostile or unexpected pickle is likely to use, for clear errors. */
const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK',
  0x29: 'EMPTY_TUPLE',
  0x2e: 'STOP',
  0x30: 'POP',
  0x4a: 'BININT',
  0x4b: 'BININT1',
  0x4e: 'NONE',
  0x52: 'REDUCE',
  0x53: 'STRING',
  0x54: 'BINSTRING',
  0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE',
  0x58: 'BINUNICODE',
  0x5d: 'EMPTY_LIST',
  0x61: 'APPEND',
  0x62: 'BUILD',
  0x63: 'GLOBAL',
  0x64: 'DICT',
  0x65: 'APPENDS',
  0x67: 'GET',
  0x68: 'BINGET',
  0x69: 'INST',
  0x6f: 'OBJ',
  0x70: 'PUT',
  0x71: 'BINPUT',
  0x72: 'LONG_BINPUT',
  0x73: 'SETITEM',
  0x74: 'TUPLE',
  0x75: 'SETITEMS',
  0x7d: 'EMPTY_DICT',
  0x80: 'PROTO',
  0x81: 'NEWOBJ',
  0x85: 'TUPLE1',
  0x86: 'TUPLE2',
  0x87: 'TUPLE3',
  0x88: 'NEWTRUE',
  0x89: 'NEWFALSE',
  0x8c: 'SHORT_BINUNICODE',
  0x8d: 'BINUNICODE8',
  0x8e: 'BINBYTES8',
  0x92: 'NEWOBJ_EX',
  0x93: 'STACK_GLOBAL',
  0x94: 'MEMOIZE',
  0x95: 'FRAME',
  0x96: 'BYTEARRAY8',
  0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes Python's `raw-unicode-escape` (protocol 0 `UNICODE`): `\uXXXX`, `\UXXXXXXXX`, else Latin-1. */
function rawUnicodeEscape(bytes: Uint8Array): string {
  const latin1 = Buffer.from(bytes).toString('latin1');
  return latin1.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, short?: string, long?: string) =>
    String.fromCodePoint(parseInt((short ?? long) as string, 16)),
  );
}

/**
 * Returns the string a pickle holds. Accepted opcodes: PROTO, FRAME, one of SHORT_BINUNICODE /
 * BINUNICODE / BINUNICODE8 / UNICODE (exactly once), MEMOIZE / PUT / BINPUT / LONG_BINPUT, STOP.
 * `source` names the data in errors.
 */
export function readPickledString(data: Uint8Array, source: string): string {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let offset = 0;
  let value: string | undefined;
  const fail = (message: string): never => {
    throw new InputError(`not a pickle of a single string: ${message}`, source);
  };
  const need = (count: number | bigint, what: string): number => {
    const n = typeof count === 'bigint' ? count : BigInt(count);
    if (n > BigInt(data.length - offset)) fail(`${what} at byte ${offset} runs past the end of the data`);
    return Number(n);
  };
  const pushString = (text: string, opcodeOffset: number) => {
    if (value !== undefined) fail(`a second string at byte ${opcodeOffset}`);
    value = text;
  };
  const decode = (length: number, opcodeOffset: number) => {
    const bytes = data.subarray(offset, offset + length);
    offset += length;
    try {
      return utf8.decode(bytes);
    } catch {
      return fail(`invalid UTF-8 in the string at byte ${opcodeOffset}`);
    }
  };
  const readLine = (what: string): Uint8Array => {
    const end = data.indexOf(0x0a, offset);
    if (end < 0) fail(`${what} at byte ${offset} has no end of line`);
    const line = data.subarray(offset, end);
    offset = end + 1;
    return line;
  };

  while (true) {
    if (offset >= data.length) fail('the data ends without STOP');
    const at = offset;
    const opcode = data[offset++] as number;
    switch (opcode) {
      case 0x80: {
        // PROTO
        need(1, 'PROTO');
        const version = data[offset++] as number;
        if (version > 5) fail(`unknown protocol ${version}`);
        break;
      }
      case 0x95: {
        // FRAME: only a length prefix for buffering; the opcodes inside are read like any others.
        need(8, 'FRAME');
        const length = view.getBigUint64(offset, true);
        offset += 8;
        need(length, 'FRAME');
        break;
      }
      case 0x8c: {
        // SHORT_BINUNICODE
        need(1, 'SHORT_BINUNICODE');
        const length = data[offset++] as number;
        need(length, 'SHORT_BINUNICODE');
        pushString(decode(length, at), at);
        break;
      }
      case 0x58: {
        // BINUNICODE
        need(4, 'BINUNICODE');
        const length = view.getUint32(offset, true);
        offset += 4;
        need(length, 'BINUNICODE');
        pushString(decode(length, at), at);
        break;
      }
      case 0x8d: {
        // BINUNICODE8
        need(8, 'BINUNICODE8');
        const length = need(view.getBigUint64(offset, true) + 8n, 'BINUNICODE8') - 8;
        offset += 8;
        pushString(decode(length, at), at);
        break;
      }
      case 0x56: // UNICODE (protocol 0)
        pushString(rawUnicodeEscape(readLine('UNICODE')), at);
        break;
      case 0x94: // MEMOIZE
        if (value === undefined) fail(`MEMOIZE at byte ${at} with nothing to store`);
        break;
      case 0x71: // BINPUT
        need(1, 'BINPUT');
        offset += 1;
        break;
      case 0x72: // LONG_BINPUT
        need(4, 'LONG_BINPUT');
        offset += 4;
        break;
      case 0x70: {
        // PUT
        const index = Buffer.from(readLine('PUT')).toString('latin1');
        if (!/^\d+$/.test(index)) fail(`PUT at byte ${at} has a malformed index`);
        break;
      }
      case 0x2e: // STOP
        if (value === undefined) return fail(`STOP at byte ${at} with no string on the stack`);
        if (offset !== data.length) fail(`${data.length - offset} byte(s) after STOP`);
        return value;
      default: {
        const name = OPCODE_NAMES[opcode] ?? 'unknown';
        fail(`opcode ${name} (0x${opcode.toString(16).padStart(2, '0')}) at byte ${at} is not allowed`);
      }
    }
  }
}
