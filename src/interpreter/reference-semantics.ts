/**
 * The reference interpreter's semantics (RUCAIBox/CIR @ 6d27817, verl/workers/rollout/vllm_rollout/
 * code_excute.py; cir-reference §5.3) over any executor: code calling `input(` or `os.system(` is
 * refused with `RuntimeError` before it runs, and each block runs with `__name__` resolving to
 * `'builtins'` (the reference's `exec` into empty globals), so `if __name__ == "__main__":` bodies do
 * not run. Code that prints nothing gets the reference's error report through `formatFeedback`'s
 * `emptyOutput: 'reference'`, not here.
 */
import type { CodeExecutor, ExecuteOptions, ExecutionOutcome, ExecutionSession } from '../core/execution.js';
import { referenceBannedCall } from './feedback.js';

/** One line ahead of the model's code; the reference's last-traceback-line reports carry no line numbers. */
const REFERENCE_NAME_PRELUDE = "__name__ = 'builtins'\n";

function refused(): ExecutionOutcome {
  return { kind: 'error', errorType: 'RuntimeError', message: '', lastLine: 'RuntimeError', stdout: '', stderr: '', durationMs: 0 };
}

async function run(execute: (code: string, options?: ExecuteOptions) => Promise<ExecutionOutcome>, code: string, options?: ExecuteOptions): Promise<ExecutionOutcome> {
  if (referenceBannedCall(code)) return refused();
  return execute(`${REFERENCE_NAME_PRELUDE}${code}`, options);
}

function wrapSession(session: ExecutionSession): ExecutionSession {
  return {
    id: session.id,
    execute: (code, options) => run((c, o) => session.execute(c, o), code, options),
    fork: async (count) => (await session.fork(count)).map(wrapSession),
    close: () => session.close(),
  };
}

export function withReferenceSemantics(executor: CodeExecutor): CodeExecutor {
  return {
    name: `${executor.name}+reference-semantics`,
    execute: (code, options) => run((c, o) => executor.execute(c, o), code, options),
    openSession: async () => wrapSession(await executor.openSession()),
    close: () => executor.close(),
  };
}
