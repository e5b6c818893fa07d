/** `cir exec [FILE]`: runs one Python snippet in the sandbox and prints its outcome. */
import { readFile } from 'node:fs/promises';
import { InputError } from '../../core/errors.js';
import type { ExecutionOutcome } from '../../core/execution.js';
import { createSandboxExecutor, formatFeedback } from '../../interpreter/index.js';
import { numberFlag, parseCommandLine, UsageError, type Command } from '../command.js';
import { untrustedTextPrinter } from '../terminal.js';

const help = `Usage: cir exec [FILE] [--json] [--timeout MS] [--memory MB] [--stdin-file PATH] [--feedback] [--session] [--unsafe]
                [--raw-output]

Runs Python code (FILE, or standard input when no FILE is given) in the sandbox: a bubblewrap jail,
a fresh uid, rlimits and a seccomp filter, with sympy, numpy and scipy preloaded.
Prints what the program printed, then a line with the outcome kind when it was not ok.

Options:
  --json             print the typed outcome record as JSON
  --timeout MS       wall-clock limit (default 5000, the paper's)
  --memory MB        address-space limit (default 2048)
  --stdin-file PATH  file fed to the program's standard input
  --feedback         print the text a model would see (CIR formatter) instead of raw output
  --session          split the code at lines '# %%' and run the cells in one session (state persists)
  --unsafe           run without isolation (only for trusted code, e.g. where bubblewrap is missing)
  --raw-output       print the program's output as it is; by default control characters and escape
                     sequences (which could drive the terminal) are shown as visible \\xNN escapes

Exit code: 0 when the outcome is ok, 1 otherwise.`;

function splitCells(code: string): string[] {
  return code.split(/^# %%.*$/m).filter((cell) => cell.trim() !== '');
}

function printOutcome(outcome: ExecutionOutcome, json: boolean, feedback: boolean, shown: (text: string) => string): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(outcome)}\n`);
    return;
  }
  if (feedback) {
    process.stdout.write(`${shown(formatFeedback(outcome))}\n`);
    return;
  }
  if (outcome.kind === 'infra_error') {
    process.stderr.write(`infra_error: ${outcome.reason}\n`);
    return;
  }
  process.stdout.write(shown(outcome.stdout));
  if (outcome.kind === 'error') process.stderr.write(shown(outcome.stderr.endsWith('\n') ? outcome.stderr : `${outcome.stderr}\n`));
  if (outcome.kind !== 'ok') {
    const detail = outcome.kind === 'error' ? outcome.lastLine : outcome.kind === 'crash' ? outcome.signal : '';
    process.stderr.write(`[${outcome.kind}${detail ? `: ${shown(detail)}` : ''} after ${outcome.durationMs} ms]\n`);
  }
}

export const execCommand: Command = {
  name: 'exec',
  summary: 'run Python code in the sandbox and print the outcome',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, {
      json: { type: 'boolean' },
      timeout: { type: 'string' },
      memory: { type: 'string' },
      'stdin-file': { type: 'string' },
      feedback: { type: 'boolean' },
      session: { type: 'boolean' },
      unsafe: { type: 'boolean' },
      'raw-output': { type: 'boolean' },
    });
    const shown = untrustedTextPrinter(values['raw-output'] ?? false);
    if (positionals.length > 1) throw new UsageError(`expected at most one FILE, got ${positionals.length}`);
    const file = positionals[0];
    const timeoutMs = numberFlag(values.timeout, 'timeout', 5000, 1, 3_600_000);
    const memoryMb = numberFlag(values.memory, 'memory', 2048, 64, 1 << 20);
    let code: string;
    try {
      code = file !== undefined ? await readFile(file, 'utf8') : await readStdin();
    } catch (error) {
      throw new InputError(`cannot read: ${error instanceof Error ? error.message : String(error)}`, file ?? 'stdin');
    }
    let stdin: string | undefined;
    if (values['stdin-file'] !== undefined) {
      try {
        stdin = await readFile(values['stdin-file'], 'utf8');
      } catch (error) {
        throw new InputError(`cannot read: ${error instanceof Error ? error.message : String(error)}`, values['stdin-file']);
      }
    }
    const executor = await createSandboxExecutor({ concurrency: 1, timeoutMs, memoryMb, unsafe: values.unsafe ?? false });
    try {
      const options = stdin !== undefined ? { stdin } : {};
      if (!values.session) {
        const outcome = await executor.execute(code, options);
        printOutcome(outcome, values.json ?? false, values.feedback ?? false, shown);
        return outcome.kind === 'ok' ? 0 : 1;
      }
      const session = await executor.openSession();
      let allOk = true;
      for (const cell of splitCells(code)) {
        const outcome = await session.execute(cell, options);
        printOutcome(outcome, values.json ?? false, values.feedback ?? false, shown);
        allOk &&= outcome.kind === 'ok';
      }
      await session.close();
      return allOk ? 0 : 1;
    } finally {
      await executor.close();
    }
  },
};

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}
