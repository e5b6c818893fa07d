/** `cir bench grader`: comparisons per second and latency of the math grader, with Math-Verify as anchor. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchGrader, benchMathVerify, buildBenchMix, LABELLED_FILES, loadHeldOut, loadLabelledCases, measureHeldOut } from '../../grader/bench.js';
import { numberFlag, parseCommandLine, type Command } from '../command.js';
import { ProgressBar } from '../progress.js';

const help = `Usage: cir bench grader [--json] [--limit N] [--passes N] [--datasets DIR] [--labelled FILE]...
                        [--held-out FILE] [--math-verify-path DIR [--python PY]]

Times the grader on a mix built from the evaluation datasets (AIME 24/25, AMC 23, MATH500, Minerva,
OlympiadBench, OlymMATH): every reference against a correct respelling and a perturbed wrong answer,
as bare answers and inside generated free-text responses of up to --max-chars characters (timed
with extraction). The labelled suites (test data in a checkout, not in the package) join the mix
when present. Prints comparisons per second, p50/p99/max latency in ms (overall and per kind),
the verdict reasons, and two self-checks: the generated mix and the labelled suites are what
the tests require to pass, so those shares show the bench is sound, not how accurate the grader is.

Accuracy on cases the grader was not written against: --held-out FILE, a JSONL file of
{"gold","pred","expected"[,"source"]} converted from another grader's test suite; both sides are
read as free text (as cir grade --jsonl --extract does) and the share of labels reproduced is
reported, overall and per source.

With --math-verify-path, the bare-answer cases also run through HF Math-Verify (Python; DIR must
hold the math_verify, latex2sympy2_extended and antlr4 packages) in the same run, adding its rate,
p50/p99, the speedup and the agreement between the two graders.

Options:
  --limit N                use the first N comparisons of the mix (default: all)
  --passes N               timed passes after a warm-up; per_s is the median pass (default 3)
  --max-chars N            longest generated response (default 4000)
  --datasets DIR           dataset folder (default ../shared/datasets beside the repository)
  --labelled FILE          a labelled-case file (repeatable; default the checkout's
                           ${LABELLED_FILES.join(', ')}; absent files are reported)
  --no-labelled            leave the labelled suites out of the mix
  --held-out FILE          held-out JSONL cases to measure agreement on
  --math-verify-path DIR   run Math-Verify as the anchor
  --python PY              Python interpreter for the anchor (default python3)
  --json                   print the report as JSON
`;

export const benchGraderCommand: Command = {
  name: 'bench grader',
  summary: 'grader throughput and latency on a dataset mix with free-text responses; held-out agreement; Math-Verify as anchor',
  help,
  async run(argv) {
    const { values } = parseCommandLine(
      argv,
      {
        json: { type: 'boolean' },
        limit: { type: 'string' },
        passes: { type: 'string' },
        'max-chars': { type: 'string' },
        labelled: { type: 'string', multiple: true },
        'no-labelled': { type: 'boolean' },
        'held-out': { type: 'string' },
        'math-verify-path': { type: 'string' },
        python: { type: 'string' },
        datasets: { type: 'string' },
      },
      false,
    );
    const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
    const datasets = resolve(values.datasets ?? join(repoRoot, '..', 'shared', 'datasets'));
    const limit = numberFlag(values.limit, 'limit', Infinity, 1);
    const maxResponseChars = numberFlag(values['max-chars'], 'max-chars', 4000, 300, 100_000);
    const labelledPaths = values['no-labelled'] ? [] : (values.labelled ?? LABELLED_FILES.map((file) => join(repoRoot, file))).map((path) => resolve(path));
    const labelled = loadLabelledCases(labelledPaths);
    if (labelled.absent.length > 0 && !values.json) {
      process.stderr.write(`labelled suite absent (not in the package; run from a checkout or pass --labelled FILE): ${labelled.absent.join(', ')}\n`);
    }
    const { cases, labelled: labelledInMix } = buildBenchMix(datasets, { limit, maxResponseChars, labelled: labelled.cases });
    const passes = numberFlag(values.passes, 'passes', 3, 1, 100);
    const progress = new ProgressBar({ label: 'bench grader', total: cases.length * passes, silent: Boolean(values.json) });
    const ours = benchGrader(cases, passes, (done) => progress.update(done), labelledInMix);
    progress.finish();
    const { verdicts: _verdicts, ...report } = ours;
    let heldOut = {};
    if (values['held-out'] !== undefined) {
      const file = resolve(values['held-out']);
      const { misses: _misses, ...measured } = measureHeldOut(loadHeldOut(file), file);
      heldOut = { held_out: measured };
    }
    let anchor = {};
    if (values['math-verify-path'] !== undefined) {
      if (!values.json) process.stderr.write('running Math-Verify on the answer cases...\n');
      anchor = await benchMathVerify(cases, ours, resolve(values['math-verify-path']), values.python ?? 'python3');
    }
    const full = {
      ...report,
      labelled: { cases: labelledInMix, files: labelledPaths.filter((path) => !labelled.absent.includes(path)), absent: labelled.absent },
      ...heldOut,
      ...anchor,
      datasets,
    };
    if (values.json) process.stdout.write(`${JSON.stringify(full)}\n`);
    else {
      for (const [key, value] of Object.entries(full)) process.stdout.write(`${key.padEnd(26)} ${typeof value === 'object' ? JSON.stringify(value) : String(value)}\n`);
    }
    return 0;
  },
};
