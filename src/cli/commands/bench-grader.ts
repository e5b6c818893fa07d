/** `cir bench grader`: comparisons per second and latency of the math grader, with Math-Verify as anchor. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchGrader, benchMathVerify, buildBenchMix } from '../../grader/bench.js';
import { numberFlag, parseCommandLine, type Command } from '../command.js';
import { ProgressBar } from '../progress.js';

const help = `Usage: cir bench grader [--json] [--limit N] [--passes N] [--math-verify-path DIR [--python PY]] [--datasets DIR]

Times the grader on a realistic mix built from the evaluation datasets (AIME 24/25, AMC 23,
MATH500, Minerva, OlympiadBench, OlymMATH): every reference against a correct respelling and a
perturbed wrong answer. Prints comparisons per second, p50/p99/max latency in ms, the share of
the mix's labels reproduced, and the verdict reasons.

With --math-verify-path, runs the same cases through HF Math-Verify (Python; DIR must hold the
math_verify, latex2sympy2_extended and antlr4 packages) in the same run and adds anchor_per_s,
anchor p50/p99, the speedup, the agreement between the two graders, and both graders' accuracy
on the labelled suite.

Options:
  --limit N                use the first N comparisons of the mix (default: all)
  --passes N               timed passes after a warm-up; per_s is the median pass (default 3)
  --math-verify-path DIR   run Math-Verify as the anchor
  --python PY              Python interpreter for the anchor (default python3)
  --datasets DIR           dataset folder (default ../shared/datasets beside the repository)
  --json                   print the report as JSON
`;

export const benchGraderCommand: Command = {
  name: 'bench grader',
  summary: 'grader throughput and latency on a dataset mix, with Math-Verify as anchor',
  help,
  async run(argv) {
    const { values } = parseCommandLine(
      argv,
      {
        json: { type: 'boolean' },
        limit: { type: 'string' },
        passes: { type: 'string' },
        'math-verify-path': { type: 'string' },
        python: { type: 'string' },
        datasets: { type: 'string' },
      },
      false,
    );
    const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
    const datasets = resolve(values.datasets ?? join(repoRoot, '..', 'shared', 'datasets'));
    const limit = numberFlag(values.limit, 'limit', Infinity, 1);
    const cases = buildBenchMix(datasets, limit);
    const passes = numberFlag(values.passes, 'passes', 3, 1, 100);
    const progress = new ProgressBar({ label: 'bench grader', total: cases.length * passes, silent: Boolean(values.json) });
    const ours = benchGrader(cases, passes, (done) => progress.update(done));
    progress.finish();
    const { verdicts: _verdicts, ...report } = ours;
    let anchor = {};
    if (values['math-verify-path'] !== undefined) {
      if (!values.json) process.stderr.write('running Math-Verify on the same cases...\n');
      anchor = await benchMathVerify(cases, ours, resolve(values['math-verify-path']), values.python ?? 'python3');
    }
    const full = { ...report, ...anchor, datasets };
    if (values.json) process.stdout.write(`${JSON.stringify(full)}\n`);
    else {
      for (const [key, value] of Object.entries(full)) process.stdout.write(`${key.padEnd(26)} ${typeof value === 'object' ? JSON.stringify(value) : String(value)}\n`);
    }
    return 0;
  },
};
