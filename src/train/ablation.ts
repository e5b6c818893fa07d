/**
 * The paper's comparisons at this scale, as pairs of arms that differ in one setting and share
 * everything else (seed included): tool output masked vs trained, progressive vs fixed tool budget,
 * training with vs without the interpreter, and the loss's ingredients the paper's recipe sets one
 * way (clip-higher on; no KL term; no entropy bonus) against the other, and the precise interaction
 * boundary against the heuristic stop strings it replaced. The first arm of each is the
 * configuration as given, so a finished run with that configuration can stand in for it
 * (`cir ablate --baseline DIR`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configDifferences, describeDifference } from '../core/config-diff.js';
import { InputError } from '../core/errors.js';
import { fixedBudgetSchedule } from '../rl/index.js';
import { storedTrainConfig, type TrainConfig } from './config.js';
import type { AccuracyFigure } from './evaluate.js';
import type { RunSummary } from './summary.js';

export interface AblationArm {
  name: string;
  describe: string;
  apply(config: TrainConfig): TrainConfig;
}

export interface Ablation {
  name: string;
  question: string;
  arms: [AblationArm, AblationArm];
}

const clone = (config: TrainConfig): TrainConfig => structuredClone(config);

/** An arm that changes the loss configuration only. */
function lossArm(name: string, describe: string, change: (loss: TrainConfig['rl']['loss']) => void): AblationArm {
  return {
    name,
    describe,
    apply: (config) => {
      const copy = clone(config);
      change(copy.rl.loss);
      return copy;
    },
  };
}

/** The largest budget the schedule reaches: the fixed arm uses it from step 0. */
export function finalBudget(config: TrainConfig): number {
  const schedule = config.rl.budget;
  return schedule.kind === 'fixed' ? schedule.budget : Math.max(...schedule.stages.map((stage) => stage.budget));
}

export const ABLATIONS: Readonly<Record<string, Ablation>> = {
  masking: {
    name: 'masking',
    question: 'Does masking interpreter output out of the loss help (as the paper does)?',
    arms: [
      { name: 'masked', describe: 'tool output masked (paper)', apply: (config) => ({ ...clone(config), rl: { ...clone(config).rl, maskToolOutput: true } }) },
      { name: 'unmasked', describe: 'tool output trained like policy tokens', apply: (config) => ({ ...clone(config), rl: { ...clone(config).rl, maskToolOutput: false } }) },
    ],
  },
  budget: {
    name: 'budget',
    question: 'Does raising the tool budget progressively (2 → 3 → 4) beat the final budget from the start?',
    arms: [
      { name: 'progressive', describe: 'budget as configured (default 2 → 3 → 4)', apply: clone },
      {
        name: 'fixed',
        describe: 'the final budget from step 0',
        apply: (config) => {
          const copy = clone(config);
          copy.rl.budget = fixedBudgetSchedule(finalBudget(config));
          return copy;
        },
      },
    ],
  },
  interpreter: {
    name: 'interpreter',
    question: 'Does training with the interpreter beat the same training without one (code-helps families)?',
    arms: [
      { name: 'interpreter', describe: 'code blocks run, output fed back', apply: (config) => ({ ...clone(config), tools: true }) },
      { name: 'no-interpreter', describe: 'code is never run; the model continues its own text', apply: (config) => ({ ...clone(config), tools: false }) },
    ],
  },
  'clip-higher': {
    name: 'clip-higher',
    question: 'Does clip-higher (ratio clipped at 1 + 0.28 above, 1 − 0.2 below) beat the symmetric clip 0.2?',
    arms: [
      { name: 'clip-higher', describe: 'clip as configured (default 0.2 / 0.28, the paper)', apply: clone },
      lossArm('symmetric', 'clip 0.2 on both sides', (loss) => {
        loss.clipHigh = loss.clipLow;
      }),
    ],
  },
  kl: {
    name: 'kl',
    question: 'Does the paper\'s choice of no KL term beat a k3 KL penalty (coefficient 0.001) against the starting policy?',
    arms: [
      { name: 'no-kl', describe: 'KL as configured (default none, the paper)', apply: clone },
      lossArm('kl-k3', 'k3 KL penalty, coefficient 0.001, against the starting weights', (loss) => {
        loss.klCoef = 0.001;
        loss.klEstimator = 'k3';
      }),
    ],
  },
  entropy: {
    name: 'entropy',
    question: 'Does the paper\'s choice of no entropy bonus beat a bonus of 0.001?',
    arms: [
      { name: 'no-entropy', describe: 'entropy bonus as configured (default none, the paper)', apply: clone },
      lossArm('entropy-bonus', 'entropy bonus, coefficient 0.001', (loss) => {
        loss.entropyCoef = 0.001;
      }),
    ],
  },
  boundary: {
    name: 'boundary',
    question: 'Does the precise interaction boundary (the first complete python block) beat the stop strings "```output" / "```\\n\\n" the paper\'s code used before?',
    arms: [
      { name: 'precise', describe: 'a turn ends at the first complete python block, the rest discarded (paper)', apply: (config) => ({ ...clone(config), boundary: 'precise' }) },
      {
        name: 'stop-strings',
        describe: 'training turns end at "```output" or "```\\n\\n" (kept) and run the last block before it; evaluation stays precise',
        apply: (config) => ({ ...clone(config), boundary: 'stop-strings' }),
      },
    ],
  },
};

export function findAblation(name: string): Ablation {
  const ablation = ABLATIONS[name];
  if (!ablation) throw new InputError(`unknown ablation; known: ${Object.keys(ABLATIONS).join(', ')}`, name);
  return ablation;
}

export interface AblationRow {
  arm: string;
  describe: string;
  start: AccuracyFigure;
  end: AccuracyFigure;
  endCodeHelps: AccuracyFigure;
  endText: AccuracyFigure;
  lastReward: number;
  lastToolCallRate: number;
  minutes: number;
}

export function ablationRow(arm: AblationArm, summary: RunSummary): AblationRow {
  const figure = (f: AccuracyFigure): AccuracyFigure => ({ accuracy: f.accuracy, ci95: f.ci95, n: f.n });
  return {
    arm: arm.name,
    describe: arm.describe,
    start: figure(summary.start),
    end: figure(summary.end),
    endCodeHelps: figure(summary.end.codeHelps),
    endText: figure(summary.end.text),
    lastReward: summary.training.lastReward,
    lastToolCallRate: summary.training.lastToolCallRate,
    minutes: summary.minutes,
  };
}

/** A Markdown table of the arms (what `cir ablate` prints and docs/train.md quotes). */
export function ablationTable(rows: readonly AblationRow[]): string {
  const pct = (f: AccuracyFigure) => `${(f.accuracy * 100).toFixed(1)} [${(f.ci95[0] * 100).toFixed(1)}, ${(f.ci95[1] * 100).toFixed(1)}]`;
  const header = '| arm | start acc. | end acc. | end, code-helps families | end, text families | last reward | last tool-call rate | minutes |';
  const lines = rows.map(
    (row) =>
      `| ${row.arm} | ${pct(row.start)} | ${pct(row.end)} | ${pct(row.endCodeHelps)} | ${pct(row.endText)} | ${row.lastReward.toFixed(3)} | ${(row.lastToolCallRate * 100).toFixed(1)}% | ${row.minutes.toFixed(1)} |`,
  );
  return [header, '|---|---|---|---|---|---|---|---|', ...lines].join('\n');
}

/**
 * A finished run standing in for an ablation's first arm (`cir ablate --baseline DIR`): its
 * config.json must be exactly the arm's configuration (settings, seed and starting policy), and its
 * summary.json must exist (the run finished). Returns the run's summary.
 */
export function readBaseline(dir: string, expected: TrainConfig): RunSummary {
  const configFile = join(dir, 'config.json');
  const summaryFile = join(dir, 'summary.json');
  if (!existsSync(configFile)) throw new InputError('is not a training run (no config.json)', dir);
  if (!existsSync(summaryFile)) throw new InputError('has not finished (no summary.json): finish it with `cir train --resume`', dir);
  let config: unknown;
  let summary: RunSummary;
  try {
    config = storedTrainConfig(JSON.parse(readFileSync(configFile, 'utf8')) as unknown);
    summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as RunSummary;
  } catch (error) {
    throw new InputError(`cannot be read as a finished run: ${(error as Error).message}`, dir, { cause: error });
  }
  // Compared as JSON, as config.json holds it.
  const differences = configDifferences(JSON.parse(JSON.stringify(expected)), config);
  if (differences.length > 0) {
    throw new InputError(`was run with other settings than this arm, so it cannot stand in for it: ${differences.slice(0, 5).map(describeDifference).join('; ')}${differences.length > 5 ? ` (and ${differences.length - 5} more)` : ''}`, dir);
  }
  return summary;
}
