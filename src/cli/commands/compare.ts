/** `cir compare DIR1 DIR2 ...`: eval runs side by side with paired differences. */
import { compareRuns, comparisonMarkdown } from '../../eval/compare.js';
import { numberFlag, parseCommandLine, UsageError, type Command } from '../command.js';

const help = `Usage: cir compare DIR1 DIR2 [DIR...] [--labels A,B,...] [--resamples N] [--seed N] [--json]

Puts eval runs side by side (for example code vs text, or two checkpoints): accuracy per benchmark
with 95% bootstrap intervals, and each run's difference from the first one, with a paired bootstrap
interval and p-value over the problems both runs share. Also mean policy tokens and tool calls.
Prints Markdown (or JSON with --json).
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
    });
    if (positionals.length < 2) throw new UsageError('give at least two run directories');
    const labels = values.labels?.split(',');
    if (labels && labels.length !== positionals.length) throw new UsageError(`--labels has ${labels.length} names for ${positionals.length} runs`);
    const comparison = compareRuns(positionals, {
      resamples: numberFlag(values.resamples, 'resamples', 2000, 10, 1e6),
      seed: numberFlag(values.seed, 'seed', 1, 0, 2 ** 31),
      ...(labels ? { labels } : {}),
    });
    process.stdout.write(values.json ? `${JSON.stringify(comparison)}\n` : comparisonMarkdown(comparison));
    return 0;
  },
};
