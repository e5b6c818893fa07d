/**
 * From a model response to a runnable test: the final program is taken the way LiveCodeBench
 * takes it, and wrapped in a small Python driver that reproduces LCB's execution environment
 * (its import prelude, `__main__` handling, stdin served to every reading style, `exit()` ending
 * the run, functional calls compared with Python `==`).
 */

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

/** Marks the driver's verdict line among whatever the program itself printed. */
export const FUNCTIONAL_MARKER = '\u0001cir-functional-verdict\u0001';

/**
 * A driver for a functional (LeetCode) problem. Its stdin carries `{"input","output"}` as JSON:
 * each input line is one positional argument, the output one JSON value; the call result (a tuple
 * turned into a list) is compared with Python `==`, as LCB does. The program runs as a module
 * (`__name__` is not `__main__`, so a self-test block under it does not run, as in LCB).
 */
export function functionalDriver(program: string, functionName: string): string {
  return `${driverHead(program, 'solution')}import json as _cir_json
_cir_test = _cir_json.loads(_cir_data)
_cir_stdin_text = ""
${SERVE_STDIN}exec(compile(_cir_program, "<solution>", "exec"), _cir_g)
_cir_name = ${pyLiteral(functionName)}
if "class Solution" in _cir_program:
    _cir_fn = getattr(_cir_g["Solution"](), _cir_name)
else:
    _cir_fn = _cir_g[_cir_name]
_cir_args = [_cir_json.loads(_cir_line) for _cir_line in _cir_test["input"].split("\\n")]
_cir_expected = _cir_json.loads(_cir_test["output"])
_cir_result = _cir_fn(*_cir_args)
if isinstance(_cir_result, tuple):
    _cir_result = list(_cir_result)
_cir_passed = bool(_cir_result == _cir_expected)
_cir_shown = repr(_cir_result)
if len(_cir_shown) > 200:
    _cir_shown = _cir_shown[:197] + "..."
_cir_out.write("\\n" + ${pyLiteral(FUNCTIONAL_MARKER)} + _cir_json.dumps({"passed": _cir_passed, "got": _cir_shown}) + "\\n")
_cir_out.flush()
`;
}

export interface FunctionalVerdict {
  passed: boolean;
  got: string;
}

/** Finds the driver's verdict line in the captured stdout (the last one wins). */
export function parseFunctionalVerdict(stdout: string): FunctionalVerdict | undefined {
  const at = stdout.lastIndexOf(FUNCTIONAL_MARKER);
  if (at < 0) return undefined;
  const line = stdout.slice(at + FUNCTIONAL_MARKER.length).split('\n')[0] ?? '';
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value === 'object' && value !== null && 'passed' in value && typeof value.passed === 'boolean') {
      const got = 'got' in value && typeof value.got === 'string' ? value.got : '';
      return { passed: value.passed, got };
    }
  } catch {
    return undefined;
  }
  return undefined;
}
