/**
 * From a model response to a runnable test: the final program is taken the way LiveCodeBench
 * takes it, and wrapped in a small Python driver that reproduces LCB's execution environment
 * (its import prelude, `__main__` handling, stdin served to every reading style, `exit()` ending
 * the run); a functional call's result is serialised for the host to compare (lcb-compare.ts).
 */
import { decodePythonResult, type PyValue } from './lcb-compare.js';

/**
 * LCB's `extract_code` for the direct mode: the text between the last two lines that contain a
 * triple backtick; empty when there are fewer than two such lines.
 */
export function extractFinalCodeBlock(text: string): string {
  const lines = text.split('\n');
  const fenceLines: number[] = [];
  lines.forEach((line, index) => {
    if (line.includes('```')) fenceLines.push(index);
  });
  if (fenceLines.length < 2) return '';
  const start = fenceLines[fenceLines.length - 2] as number;
  const end = fenceLines[fenceLines.length - 1] as number;
  return lines.slice(start + 1, end).join('\n');
}

/**
 * The final program of a code-integrated response: the last complete fenced block whose info
 * string is not `output` (the interpreter's feedback blocks must not be taken for the answer).
 */
export function extractFinalProgram(text: string): string {
  const fence = /^[ \t]*```[ \t]*([^\n`]*)\n([\s\S]*?)\n?[ \t]*```/gm;
  let last: string | undefined;
  for (const match of text.matchAll(fence)) {
    const tag = (match[1] ?? '').trim().toLowerCase();
    if (tag === 'output') continue;
    last = match[2] ?? '';
  }
  return last ?? '';
}

/** LCB's `import_string`, in its order (the builtins star import restores names shadowed above it). */
export const LCB_PRELUDE = [
  'from string import *',
  'from re import *',
  'from datetime import *',
  'from collections import *',
  'from heapq import *',
  'from bisect import *',
  'from copy import *',
  'from math import *',
  'from random import *',
  'from statistics import *',
  'from itertools import *',
  'from functools import *',
  'from operator import *',
  'from io import *',
  'from sys import *',
  'from json import *',
  'from builtins import *',
  'from typing import *',
  'import string',
  'import re',
  'import datetime',
  'import collections',
  'import heapq',
  'import bisect',
  'import copy',
  'import math',
  'import random',
  'import statistics',
  'import itertools',
  'import functools',
  'import operator',
  'import io',
  'import sys',
  'import json',
  'sys.setrecursionlimit(50000)',
  '',
].join('\n');

/** Python string literal for arbitrary text (JSON strings are valid Python literals once `\u2028` is escaped). */
function pyLiteral(text: string): string {
  return JSON.stringify(text).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * The shared head of both drivers. The driver reads its whole stdin first (whatever stream the
 * executor provides), then serves it again as a fresh `sys.stdin` with a `.buffer`, and patches
 * `open(0)` / `open('/dev/stdin')`, which LCB's harness also redirects. The program runs in its own
 * namespace so it cannot clobber the driver's names.
 */
function driverHead(program: string, moduleName: string): string {
  return `import sys as _cir_sys, io as _cir_io, builtins as _cir_builtins
_cir_data = _cir_sys.stdin.read()
_cir_out = _cir_sys.stdout
_cir_real_open = _cir_builtins.open
_cir_stdin_bytes = None
def _cir_open(file, mode="r", *args, **kwargs):
    if file in (0, "/dev/stdin"):
        if "b" in mode:
            return _cir_io.BytesIO(_cir_stdin_bytes)
        return _cir_io.StringIO(_cir_stdin_text)
    return _cir_real_open(file, mode, *args, **kwargs)
_cir_g = {"__name__": ${pyLiteral(moduleName)}, "__builtins__": _cir_builtins}
_cir_program = ${pyLiteral(program)}
`;
}

const SERVE_STDIN = `_cir_stdin_bytes = _cir_stdin_text.encode("utf-8")
_cir_sys.stdin = _cir_io.TextIOWrapper(_cir_io.BytesIO(_cir_stdin_bytes), encoding="utf-8")
exec(compile(${pyLiteral(LCB_PRELUDE)}, "<prelude>", "exec"), _cir_g)
_cir_g["open"] = _cir_open
`;

/**
 * A driver for a standard-input problem: the test input arrives on the executor's stdin, the
 * program's stdout is its answer. `exit()` and `sys.exit()` end the run without failing it (LCB).
 */
export function stdinDriver(program: string): string {
  return `${driverHead(program, '__main__')}_cir_stdin_text = _cir_data
${SERVE_STDIN}_cir_code = compile(_cir_program, "<solution>", "exec")
try:
    exec(_cir_code, _cir_g)
except SystemExit:
    pass
try:
    _cir_sys.stdout.flush()
except Exception:
    pass
`;
}

/** Marks the driver's result line among whatever the program itself printed. */
export const FUNCTIONAL_MARKER = '\u0001cir-functional-result\u0001';

/**
 * Serialises a call result into plain tagged JSON (decoded by `decodePythonResult` in lcb-compare.ts).
 * Exact built-in types map directly; subclasses and numeric types (numpy scalars) are reduced to the
 * built-in value they stand for; anything else becomes `{"o": type name}`, equal to no expected value.
 * The names it uses are bound before the program runs. The program could still reach and change
 * this code, but all it could make it print is some value, which it could as well have returned: it
 * never sees the expected output, and the comparison happens on the host.
 */
export const RESULT_ENCODER = `import numbers as _cir_numbers
def _cir_encode(value, _type=type, _isinstance=isinstance, _int=int, _float=float, _str=str, _list=list,
                _tuple=tuple, _dict=dict, _bool=bool, _repr=float.__repr__, _Integral=_cir_numbers.Integral,
                _Real=_cir_numbers.Real):
    if value is None:
        return None
    kind = _type(value)
    if kind is _bool:
        return value
    if _isinstance(value, _int) or (_isinstance(value, _Integral) and not _isinstance(value, _bool)):
        value = _int(value)
        return value if -9007199254740991 <= value <= 9007199254740991 else {"i": _str(value)}
    if _isinstance(value, _float) or _isinstance(value, _Real):
        return {"f": _repr(_float(value))}
    if _isinstance(value, _str):
        return _str.__str__(value)
    if _isinstance(value, _list):
        return [_cir_encode(item) for item in _list.__iter__(value)]
    if _isinstance(value, _tuple):
        return {"t": [_cir_encode(item) for item in _tuple.__iter__(value)]}
    if _isinstance(value, _dict):
        return {"d": [[_cir_encode(k), _cir_encode(v)] for k, v in _dict.items(value)]}
    return {"o": kind.__name__ if _isinstance(kind.__name__, _str) else "object"}
_cir_dumps = _cir_json.dumps
`;

/**
 * A driver for a functional (LeetCode) problem. Its stdin carries only the test input, one JSON
 * positional argument per line; the expected output never enters the sandbox. The driver calls the
 * function, turns a top-level tuple into a list (as LCB does), and prints the result serialised on a
 * marked line; the host compares it with Python's `==` rules (`pythonEquals`). The program runs as
 * a module (`__name__` is not `__main__`, so a self-test block under it does not run, as in LCB).
 */
export function functionalDriver(program: string, functionName: string): string {
  return `${driverHead(program, 'solution')}import json as _cir_json
${RESULT_ENCODER}_cir_input = _cir_data
_cir_stdin_text = ""
${SERVE_STDIN}exec(compile(_cir_program, "<solution>", "exec"), _cir_g)
_cir_name = ${pyLiteral(functionName)}
if "class Solution" in _cir_program:
    _cir_fn = getattr(_cir_g["Solution"](), _cir_name)
else:
    _cir_fn = _cir_g[_cir_name]
_cir_args = [_cir_json.loads(_cir_line) for _cir_line in _cir_input.split("\\n")]
_cir_result = _cir_fn(*_cir_args)
if isinstance(_cir_result, tuple):
    _cir_result = list(_cir_result)
_cir_out.write("\\n" + ${pyLiteral(FUNCTIONAL_MARKER)} + _cir_dumps(_cir_encode(_cir_result), separators=(",", ":")) + "\\n")
_cir_out.flush()
`;
}

/**
 * The call result the driver printed (the last marked line), decoded; undefined when there is no
 * such line or it is not a serialised value. Whatever the program printed itself is only ever read
 * as its answer, never as a verdict.
 */
export function parseFunctionalResult(stdout: string): PyValue | undefined {
  const at = stdout.lastIndexOf(FUNCTIONAL_MARKER);
  if (at < 0) return undefined;
  return decodePythonResult(stdout.slice(at + FUNCTIONAL_MARKER.length).split('\n')[0] ?? '');
}
