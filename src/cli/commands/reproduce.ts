/** `cir reproduce`: the paper's five findings on the embedded model at CPU scale, as one report. */
import { join } from 'node:path';
import { planReproduction, reproduce, type ReproduceEvent } from '../../reproduce/index.js';
import { numberFlag, parseCommandLine, UsageError, type Command } from '../command.js';
import { ProgressBar } from '../progress.js';
import { configFromFlags, openResources, progressReporter, trainerDeps } from './train.js';

const FLAGS = {
  out: { type: 'string' },
  'minutes-budget': { type: 'string' },
  steps: { type: 'string' },
  prompts: { type: 'string' },
  group: { type: 'string' },
  seed: { type: 'string' },
  'eval-tasks': { type: 'string' },
  'eval-every': { type: 'string' },
  'passk-tasks': { type: 'string' },
  'passk-samples': { type: 'string' },
  'max-response-tokens': { type: 'string' },
  threads: { type: 'string' },
  'sandbox-concurrency': { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const;

const help = `Usage: cir reproduce [--out DIR] [--minutes-budget M] [options]

Measures the paper's five findings on the embedded model at CPU scale and writes DIR/report.md,
DIR/report.html and DIR/findings.json ({"findings":[{"id":"a"…"e","claim","measure","verdict",
"difference":{"estimate","low","high"},"details"}]}):
  (a) RL with the interpreter beats RL without it (final held-out accuracy, paired over tasks)
  (b) a progressive tool budget trains more stably than the final budget from step 0 (largest drop of
      held-out accuracy between evaluations; validation at the current budget drawn beside it)
  (c) masking the interpreter's output keeps training stable (the same measure, masked vs trained)
  (d) code-integrated RL lifts the capability boundary (pass@k up to k = 32 of the starting, trained and
      text-only-trained policies, each with and without the interpreter, unbiased estimator)
  (e) the model recovers from failed executions (share of trajectories with a failed execution that
      end correct, trained vs starting policy)
A verdict is "holds" when the 95% interval of the difference excludes zero in the claimed direction,
"does not hold" when it excludes zero the other way, else "inconclusive".

Four training runs under DIR/runs/ (default — the first arm of the masking, budget and interpreter
comparisons, as \`cir ablate --baseline\` checks it —, unmasked, fixed-budget, text-only), then six
pass@k evaluations. Each run resumes where it stopped: run the same command again after an interruption.

  --out DIR               output directory (default runs/reproduce)
  --minutes-budget M      cut the training steps until the estimate fits M minutes on 2 cores (default 60;
                          the estimate uses the README's 11.7 s per default step and 35 trajectories/s)
  --steps N               training steps per run before the cut (default 32, the default run's)
  --prompts N, --group N  prompts per step and rollouts per prompt (16, 8)
  --seed N                run seed (80)
  --eval-tasks N          held-out tasks of the evaluations and validations (400)
  --eval-every N          steps between evaluations and current-budget validations (10)
  --passk-tasks N         held-out tasks of the pass@k evaluations (100)
  --passk-samples N       samples per task: the largest k (32)
  --max-response-tokens N policy + tool tokens per trajectory (240)
  --threads 1|2, --sandbox-concurrency N   as for cir train
  --json                  print findings.json to stdout
  --quiet                 no progress on stderr`;

export const reproduceCommand: Command = {
  name: 'reproduce',
  summary: "the paper's five findings at CPU scale with verdicts (report.md/.html, findings.json)",
  help,
  async run(argv) {
    const { values } = parseCommandLine(argv, FLAGS, false);
    const out = values.out ?? join('runs', 'reproduce');
    const minutesBudget = numberFlag(values['minutes-budget'], 'minutes-budget', 60, 1, 100_000);
    const every = values['eval-every'] ?? '10';
    const trainValues = (steps: string | undefined) => ({
      ...(steps !== undefined ? { steps } : {}),
      ...(values.prompts !== undefined ? { prompts: values.prompts } : {}),
      ...(values.group !== undefined ? { group: values.group } : {}),
      ...(values.seed !== undefined ? { seed: values.seed } : {}),
      ...(values['eval-tasks'] !== undefined ? { 'eval-tasks': values['eval-tasks'] } : {}),
      ...(values['max-response-tokens'] !== undefined ? { 'max-response-tokens': values['max-response-tokens'] } : {}),
      'eval-every': every,
      'val-every': every,
    });
    const integer = (flag: 'passk-tasks' | 'passk-samples', fallback: number, max: number) => {
      const parsed = numberFlag(values[flag], flag, fallback, 1, max);
      if (!Number.isInteger(parsed)) throw new UsageError(`--${flag} must be an integer, got ${JSON.stringify(values[flag])}`);
      return parsed;
    };
    const passAtK = {
      tasks: integer('passk-tasks', 100, 100_000),
      samples: integer('passk-samples', 32, 1024),
      budget: 5,
      temperature: 1,
    };
    const plan = planReproduction(configFromFlags(trainValues(values.steps)), passAtK, minutesBudget, (steps) => configFromFlags(trainValues(String(steps))));
    const silent = Boolean(values.quiet) || Boolean(values.json);
    if (!silent) process.stderr.write(`reproduce: ${plan.base.rl.totalSteps} steps per run; estimated ${plan.estimatedMinutes.toFixed(0)} minutes on 2 cores (budget ${minutesBudget})\n`);
    const resourceFlags = { ...(values.threads !== undefined ? { threads: values.threads } : {}), ...(values['sandbox-concurrency'] !== undefined ? { 'sandbox-concurrency': values['sandbox-concurrency'] } : {}) };
    const reporters = new Map<string, ReturnType<typeof progressReporter>>();
    let passkBar: ProgressBar | undefined;
    const onEvent = (event: ReproduceEvent) => {
      if (silent) return;
      if (event.type === 'phase') {
        passkBar?.finish();
        passkBar = undefined;
        process.stderr.write(`reproduce: phase ${event.index}/${event.total} ${event.name}; about ${Math.ceil(event.secondsLeft / 60)} min left\n`);
      } else if (event.type === 'train') {
        const config = plan.base;
        if (!reporters.has(event.phase)) reporters.set(event.phase, progressReporter(config.rl.totalSteps, false, event.phase !== 'text-only', `reproduce/${event.phase}`));
        reporters.get(event.phase)!(event.event);
      } else {
        passkBar ??= new ProgressBar({ label: `reproduce pass@k ${event.phase}`, total: event.total });
        passkBar.update(event.done);
      }
    };
    const result = await reproduce(
      plan,
      {
        async open(config, runDir, engine) {
          const resources = await openResources({ ...resourceFlags, engine }, config, runDir);
          return { deps: trainerDeps(resources), close: () => resources.close() };
        },
      },
      { out, onEvent },
    );
    passkBar?.finish();
    if (values.json) process.stdout.write(`${JSON.stringify({ findings: result.findings, minutes: result.minutes })}\n`);
    else {
      for (const f of result.findings) process.stdout.write(`(${f.id}) ${f.verdict}: ${f.claim}\n`);
      process.stdout.write(`report: ${join(out, 'report.html')}; ${result.minutes.toFixed(1)} minutes\n`);
    }
    return 0;
  },
};
