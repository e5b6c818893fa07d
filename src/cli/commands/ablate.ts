/** `cir ablate`: the paper's comparisons at this scale, each arm a full `cir train` run with the same seed. */
import { writeFileSafely } from '../../core/files.js';
import { join } from 'node:path';
import { ABLATIONS, ablationRow, ablationTable, findAblation, readBaseline, runTraining, type AblationRow } from '../../train/index.js';
import { parseCommandLine, UsageError, type Command } from '../command.js';
import { configFromFlags, openResources, progressReporter, trainerDeps, TRAIN_FLAGS, TRAIN_FLAGS_HELP } from './train.js';

const help = `Usage: cir ablate <${Object.keys(ABLATIONS).join('|')}> [--out DIR] [train options]

Runs the two arms of one comparison one after the other, each a full training run from the same
starting checkpoint with the same seed and flags except the one setting compared, and prints a table
of held-out accuracy (start, end, code-helps and text families, 95% intervals). Each arm writes its
own run directory (DIR/<arm>/, with summary.json and report.html); DIR/ablation.json has the table.

${Object.values(ABLATIONS)
  .map((a) => `  ${a.name.padEnd(12)} ${a.question}\n${a.arms.map((arm) => `  ${''.padEnd(12)}   ${arm.name}: ${arm.describe}`).join('\n')}`)
  .join('\n')}

  --out DIR               parent directory of the arms (default runs/ablate-<name>)
  --baseline DIR          a finished \`cir train\` run with exactly the first arm's settings (same flags,
                          seed and starting policy, as its config.json records them) stands in for the
                          first arm instead of running it again; any difference is named and refused

${TRAIN_FLAGS_HELP}`;

export const ablateCommand: Command = {
  name: 'ablate',
  summary: `run a paper comparison (${Object.keys(ABLATIONS).join(', ')}) as two training runs and print a table`,
  help,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { ...TRAIN_FLAGS, baseline: { type: 'string' } }, true);
    if (positionals.length !== 1) throw new UsageError(`name one ablation: ${Object.keys(ABLATIONS).join(', ')}`);
    const ablation = findAblation(positionals[0]!);
    const base = configFromFlags(values);
    // The ablation table compares held-out accuracy on the generated tasks; dataset runs report validation instead.
    if (base.data.kind === 'dataset') throw new UsageError('cir ablate compares runs on the generated tasks; run cir train twice for a dataset (--recipe cir-paper) comparison');
    const parent = values.out ?? join('runs', `ablate-${ablation.name}`);
    const silent = Boolean(values.quiet) || Boolean(values.json);
    const rows: AblationRow[] = [];
    for (const [index, arm] of ablation.arms.entries()) {
      const config = arm.apply(base);
      if (index === 0 && values.baseline !== undefined) {
        rows.push(ablationRow(arm, readBaseline(values.baseline, config)));
        if (!silent) process.stderr.write(`ablate ${ablation.name}: arm ${arm.name} taken from ${values.baseline}\n`);
        continue;
      }
      const out = join(parent, arm.name);
      if (!silent) process.stderr.write(`ablate ${ablation.name}: arm ${arm.name} (${arm.describe}) → ${out}\n`);
      const resources = await openResources(values, config, out);
      try {
        const result = await runTraining(
          config,
          trainerDeps(resources),
          { out, onEvent: progressReporter(config.rl.totalSteps, silent, config.tools, `${ablation.name}/${arm.name}`) },
        );
        rows.push(ablationRow(arm, result.summary!));
      } finally {
        await resources.close();
      }
    }
    const table = ablationTable(rows);
    writeFileSafely(join(parent, 'ablation.json'), `${JSON.stringify({ ablation: ablation.name, question: ablation.question, rows }, null, 2)}\n`);
    if (values.json) process.stdout.write(`${JSON.stringify({ ablation: ablation.name, rows })}\n`);
    else process.stdout.write(`${ablation.question}\n\n${table}\n`);
    return 0;
  },
};
