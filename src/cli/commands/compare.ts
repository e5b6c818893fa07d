/** `cir compare DIR1 DIR2 ...`: eval runs side by side with paired differences. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileSafely } from '../../core/files.js';
import { compareRuns, comparisonHtml, comparisonMarkdown } from '../../eval/compare.js';
import { numberFlag, parseCommandLine, UsageError, type Command } from '../command.js';

const help = `Usage: cir compare DIR1 DIR2 [DIR...] [--labels A,B,...] [--resamples N] [--seed N] [--json] [--out DIR]

Puts eval runs side by side (for example code vs text, or two checkpoints): accuracy per benchmark
with 95% bootstrap intervals, and each run's difference from the first one, with a paired bootstrap
interval and p-value over the problems both runs share; each run's pass@k curve (unbiased estimator,
k = 1, 2, 4, … up to the samples per problem; JSON key "passAtK"); per-subject (or per-family)
accuracy with paired differences; efficiency (policy tokens and tool calls per correct answer); the
error-feedback table (no calls / clean / at least one failure / recovered after a failure).
Prints Markdown (or JSON with --json).

Options:
  --labels A,B,...   run names (default: the directory names)
  --resamples N      bootstrap resamples (default 2000)      --seed N   bootstrap seed (default 1)
  --out DIR          also write DIR/compare.md and DIR/compare.html (pass@k curves overlaid)
  --json             print the comparison as JSON
`;

export const compareCommand: Command = {
  name: 'compare',
  summary: 'compare eval runs side by side with paired bootstrap differences',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, {
      labels: { type: 'string' },
      resamples: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean' },
      out: { type: 'string' },
    });
    if (positionals.length < 2) throw new UsageError('give at least two run directories');
    const labels = values.labels?.split(',');
    if (labels && labels.length !== positionals.length) throw new UsageError(`--labels has ${labels.length} names for ${positionals.length} runs`);
    const comparison = compareRuns(positionals, {
      resamples: numberFlag(values.resamples, 'resamples', 2000, 10, 1e6),
      seed: numberFlag(values.seed, 'seed', 1, 0, 2 ** 31),
      ...(labels ? { labels } : {}),
    });
    if (values.out !== undefined) {
      mkdirSync(values.out, { recursive: true });
      writeFileSafely(join(values.out, 'compare.md'), comparisonMarkdown(comparison));
      writeFileSafely(join(values.out, 'compare.html'), comparisonHtml(comparison));
    }
    process.stdout.write(values.json ? `${JSON.stringify(comparison)}\n` : comparisonMarkdown(comparison));
    return 0;
  },
};
