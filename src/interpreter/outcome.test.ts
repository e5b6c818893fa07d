import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseErrorRecord, toOutcome, type SnippetFiles } from './outcome.js';

const limits = { timeoutMs: 5000, memoryMb: 512, maxOutputBytes: 10 };
const files = (stdout = '', stderr = '', meta = ''): SnippetFiles => ({
  stdout: Buffer.from(stdout),
  stderr: Buffer.from(stderr),
  stdoutBytes: Buffer.byteLength(stdout),
  stderrBytes: Buffer.byteLength(stderr),
  meta,
});

test('each server status maps to its outcome kind', () => {
  const table: [string, string][] = [
    ['ok', 'ok'],
    ['error', 'error'],
    ['exit', 'error'],
    ['memory', 'memory'],
    ['timeout', 'timeout'],
    ['output_limit', 'output_limit'],
    ['crash', 'crash'],
    ['session_dead', 'infra_error'],
    ['setup_failed', 'infra_error'],
    ['server_died', 'infra_error'],
    ['refused', 'infra_error'],
    ['something new', 'infra_error'],
  ];
  for (const [status, kind] of table) assert.equal(toOutcome({ status }, files(), limits, 1).kind, kind, status);
});

test('output past the limit is output_limit even when the program ended normally', () => {
  const outcome = toOutcome({ status: 'ok' }, { ...files('0123456789'), stdoutBytes: 50 }, limits, 1);
  assert.deepEqual(outcome, { kind: 'output_limit', stdout: '0123456789', stderr: '', durationMs: 1, limitBytes: 10 });
});

test('errors come from the child record, else from the last stderr line', () => {
  const record = JSON.stringify({ type: 'KeyError', message: "'a'", last: "KeyError: 'a'" });
  const fromRecord = toOutcome({ status: 'error' }, files('', 'forged: line\n', record), { ...limits, maxOutputBytes: 1000 }, 1);
  assert.equal(fromRecord.kind === 'error' && fromRecord.lastLine, "KeyError: 'a'");
  assert.deepEqual(parseErrorRecord('', 'Traceback\n  File x\nValueError: bad thing\n\n'), {
    errorType: 'ValueError',
    message: 'bad thing',
    lastLine: 'ValueError: bad thing',
  });
  assert.deepEqual(parseErrorRecord('{"garbage', ''), { errorType: 'Error', message: '', lastLine: 'Error' });
  const exit = toOutcome({ status: 'exit', exit_code: 7 }, files(), limits, 1);
  assert.equal(exit.kind === 'error' && exit.lastLine, 'SystemExit: 7');
});

test('crash carries the signal; limits are echoed', () => {
  assert.deepEqual(toOutcome({ status: 'crash', signal: 'SIGSEGV' }, files('a'), limits, 2), {
    kind: 'crash',
    signal: 'SIGSEGV',
    stdout: 'a',
    stderr: '',
    durationMs: 2,
  });
  const timeout = toOutcome({ status: 'timeout' }, files(), limits, 3);
  assert.equal(timeout.kind === 'timeout' && timeout.limitMs, 5000);
});
