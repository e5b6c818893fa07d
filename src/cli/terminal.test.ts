import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { terminalSafe } from './terminal.js';

const mainPath = join(dirname(fileURLToPath(import.meta.url)), 'main.js');

test('terminalSafe shows control sequences as visible escapes and keeps text, newlines and tabs', () => {
  assert.equal(terminalSafe('a\tb\nc\r\n'), 'a\tb\nc\r\n');
  assert.equal(terminalSafe('\u001b]0;pwned\u0007'), '\\x1b]0;pwned\\x07');
  assert.equal(terminalSafe('ok\rFAKE'), 'ok\\x0dFAKE');
  assert.equal(terminalSafe('\u009b2J \u007f \u202eevil'), '\\x9b2J \\x7f \\u202eevil');
  assert.equal(terminalSafe('σ = √2, 数学 🙂'), 'σ = √2, 数学 🙂');
});

// The attack: a program (or a model) prints an OSC title change, a screen clear and an 8-bit CSI.
const HOSTILE = 'import sys\nsys.stdout.write("title\\x1b]0;pwned\\x07 clear\\x1b[2J csi\\x9b31m\\n")\nsys.stderr.write("\\x1b[31m")\nraise ValueError("\\x1b[2J")\n';

test('attack: cir exec does not pass a program\'s control sequences to the terminal unless --raw-output', () => {
  const run = (...flags: string[]) => spawnSync(process.execPath, [mainPath, 'exec', ...flags], { input: HOSTILE, encoding: 'utf8' });
  const safe = run();
  assert.equal(safe.status, 1, safe.stderr);
  assert.match(safe.stdout, /title\\x1b\]0;pwned\\x07 clear\\x1b\[2J csi\\x9b31m/);
  for (const control of ['\u001b', '\u0007', '\u009b']) assert.ok(!(safe.stdout + safe.stderr).includes(control), `no ${JSON.stringify(control)}`);
  assert.match(safe.stderr, /ValueError/);
  const raw = run('--raw-output');
  assert.ok(raw.stdout.includes('\u001b]0;pwned\u0007'));
});
