import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { formatFeedback, REFERENCE_EMPTY_OUTPUT_ERROR } from './feedback.js';
import { withReferenceSemantics } from './reference-semantics.js';
import { createSandboxExecutor, type SandboxExecutor } from './sandbox-executor.js';
import type { CodeExecutor } from '../core/execution.js';

const UID_BASE = 63400; // own slot range, so parallel test files never share uids
let sandbox: SandboxExecutor;
let reference: CodeExecutor;
before(async () => {
  sandbox = await createSandboxExecutor({ uidBase: UID_BASE, uids: 4, timeoutMs: 5000, concurrency: 2 });
  reference = withReferenceSemantics(sandbox);
});
after(() => sandbox.close());

const feedback = async (code: string) => formatFeedback(await reference.execute(code), { emptyOutput: 'reference' });

// RUCAIBox/CIR @ 6d27817, verl/verl-main/verl/workers/rollout/vllm_rollout/code_excute.py (cir-reference §5.3):
// exec into empty globals (`__name__` resolves to the builtins module's name), `input(` / `os.system(`
// rejected with RuntimeError before running, and a block that prints nothing reported as the TypeError of
// its dead fallback path.
test('the reference semantics: __name__ is builtins, a main guard does not run, and printing nothing is an error report', async () => {
  assert.equal(await feedback('print(__name__)'), 'builtins');
  assert.equal(await feedback('if __name__ == "__main__":\n    print(42)'), REFERENCE_EMPTY_OUTPUT_ERROR);
  assert.equal(await feedback('x = 6 * 7'), REFERENCE_EMPTY_OUTPUT_ERROR);
  assert.equal(await feedback('print(6 * 7)'), '42');
  assert.equal(await feedback('1/0'), 'ZeroDivisionError: division by zero');
  // The same code through the project's own semantics.
  assert.equal(formatFeedback(await sandbox.execute('print(__name__)')), '__main__');
});

test('input( and os.system( are refused before anything runs, as RuntimeError', async () => {
  assert.equal(await feedback('name = input("? ")\nprint(name)'), 'RuntimeError');
  assert.equal(await feedback('import os\nos.system("echo hi")'), 'RuntimeError');
  assert.equal(await feedback('print("input(")'), 'RuntimeError', 'the reference matches the text, even inside a string');
  const session = await reference.openSession();
  try {
    assert.equal(formatFeedback(await session.execute('print(__name__)')), 'builtins');
    assert.equal(formatFeedback(await session.execute('input()')), 'RuntimeError');
  } finally {
    await session.close();
  }
});
