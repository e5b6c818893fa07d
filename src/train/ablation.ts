/**
 * The paper's comparisons at this scale, as pairs of arms that differ in one setting and share
 * everything else (seed included): tool output masked vs trained, progressive vs fixed tool budget,
 * training with vs without the interpreter.
 */
import { InputError } from '../core/errors.js';
import { fixedBudgetSchedule } from '../rl/index.js';
import type { TrainConfig } from './config.js';
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
