/** `cir report DIR`: summary.json, report.md and report.html for a run directory. */
import { intervalText, percent, writeReport } from '../../eval/report.js';
import { numberFlag, parseCommandLine, UsageError, type Command } from '../command.js';

const help = `Usage: cir report DIR [--resamples N] [--seed N] [--json]

Reads DIR/config.json and DIR/results.jsonl (a run written by cir eval, finished or not) and writes
DIR/summary.json, DIR/report.md and a self-contained DIR/report.html (inline SVG plots: pass@k and
maj@k curves, accuracy by subject and level, response-length and tool-call histograms).
Accuracies carry 95% bootstrap intervals over problems (seeded, reproducible).

Options:
  --resamples N   bootstrap resamples (default 2000)
  --seed N        bootstrap seed (default 1)
  --json          print summary.json to stdout
`;

export const reportCommand: Command = {
  name: 'report',
  summary: 'write summary.json, report.md and report.html for an eval run',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { resamples: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' } });
    if (positionals.length !== 1 || !positionals[0]) throw new UsageError('give exactly one run directory');
    const { summary, paths } = writeReport(positionals[0], {
      resamples: numberFlag(values.resamples, 'resamples', 2000, 10, 1e6),
      seed: numberFlag(values.seed, 'seed', 1, 0, 2 ** 31),
    });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      return 0;
    }
    for (const b of summary.benchmarks) process.stdout.write(`${b.name.padEnd(16)} ${intervalText(b.accuracy)}  (${b.problems} problems × ${b.samplesPerProblem})\n`);
    process.stdout.write(`${'average'.padEnd(16)} ${percent(summary.averageAccuracy)}\n${paths.summary}\n${paths.markdown}\n${paths.html}\n`);
    for (const caveat of summary.caveats) process.stdout.write(`caveat: ${caveat}\n`);
    return 0;
  },
};
