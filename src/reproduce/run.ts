/**
 * `cir reproduce`: the paper's five findings on the embedded model at CPU scale, as one report. Four
 * training runs (the default recipe, which stands in as the first arm of the masking, budget and
 * interpreter comparisons through `readBaseline`; tool output trained; the final budget from step 0;
 * training without the interpreter, the text-only-trained policy), then pass@k of the starting, trained
 * and text-only-trained policies with and without the interpreter. Each run resumes where it stopped,
 * so an interrupted reproduction continues with `cir reproduce` on the same directory.
 */
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { writeFileSafely } from '../core/files.js';
import { errorFeedback, pairedBootstrap, trajectoryStats, type GradedSample } from '../eval/metrics.js';
import {
  ABLATIONS,
  evaluateHeldOut,
  heldOutTasks,
  readBaseline,
  RunStore,
  runTraining,
  type EvalResult,
  type EvaluationRecord,
  type TrainConfig,
  type TrainerDeps,
  type TrainEvent,
} from '../train/index.js';
import {
  combineVerdicts,
  curveKs,
  largestDropDifference,
  pairedPassAtKDifference,
  passAtKCurve,
  shareDifference,
  shareOf,
  verdictOf,
  type DifferenceInterval,
  type Share,
  type TaskCounts,
  type Verdict,
} from './findings.js';
import { estimateSeconds, type ReproducePlan } from './plan.js';
export type { ReproducePlan } from './plan.js';
import { renderReportHtml, renderReportMarkdown } from './report.js';

export interface OpenedPolicy {
  deps: TrainerDeps;
  close(): Promise<void>;
}

export interface ReproduceDeps {
  /** Opens `engine` (an `--engine` spec) as the policy, with the sandbox when `config.tools`; `out` is the run directory. */
  open(config: TrainConfig, out: string, engine: string): Promise<OpenedPolicy>;
}

export type ReproduceEvent =
  | { type: 'phase'; index: number; total: number; name: string; secondsLeft: number }
  | { type: 'train'; phase: string; event: TrainEvent }
  | { type: 'passk-progress'; phase: string; done: number; total: number };

export interface Finding {
  id: 'a' | 'b' | 'c' | 'd' | 'e';
  claim: string;
  measure: string;
  verdict: Verdict;
  /** The measured difference in the claimed comparison, with its 95% interval (for (d), the smaller of the two). */
  difference: DifferenceInterval;
  /** Every figure behind the verdict. */
  details: Record<string, unknown>;
}

export interface PassAtKCondition {
  policy: 'start' | 'trained' | 'text-only-trained';
  tools: boolean;
  tasks: number;
  curve: { k: number; estimate: number; low: number; high: number }[];
}

export interface Reproduction {
  findings: Finding[];
  plan: ReproducePlan;
  passAtK: PassAtKCondition[];
  /** Held-out accuracy per evaluation, per run, for the stability figures. */
  curves: Record<string, { step: number; accuracy: number }[]>;
  /** Held-out accuracy at the current budget per validation, per run (the paper's Figure 3). */
  currentBudgetCurves: Record<string, { step: number; budget: number; accuracy: number }[]>;
  minutes: number;
}

const ARMS = ['default', 'unmasked', 'fixed-budget', 'text-only'] as const;
type Arm = (typeof ARMS)[number];

function armConfigs(base: TrainConfig): Record<Arm, TrainConfig> {
  return {
    default: base,
    unmasked: ABLATIONS.masking!.arms[1].apply(base),
    'fixed-budget': ABLATIONS.budget!.arms[1].apply(base),
    'text-only': ABLATIONS.interpreter!.arms[1].apply(base),
  };
}

/** A run's held-out evaluations with the interpreter setting it trained with, in step order. */
function evaluationRecords(dir: string, tools: boolean): EvaluationRecord[] {
  const records = new RunStore(dir).readMetrics().filter((line): line is EvaluationRecord => line.kind === 'eval' && line.result.tools === tools);
  for (const record of records) if (!Array.isArray(record.result.perTask)) throw new InputError('has evaluations without per-task scores (run before cir reproduce existed); use a new --out', dir);
  return records.sort((a, b) => a.step - b.step);
}

/** Per-task score vectors over the tasks that every given evaluation counted, in one order. */
function alignedScores(evaluations: readonly EvalResult[]): number[][] {
  const maps = evaluations.map((result) => new Map(result.perTask.map((task) => [task.id, task.correct / task.samples])));
  const ids = [...(maps[0]?.keys() ?? [])].filter((id) => maps.every((map) => map.has(id)));
  return maps.map((map) => ids.map((id) => map.get(id)!));
}

function currentBudgetCurveOf(dir: string): { step: number; budget: number; accuracy: number }[] {
  return new RunStore(dir).readMetrics().flatMap((line) => (line.kind === 'validation' && line.sets['held-out'] ? [{ step: line.step, budget: line.budget, accuracy: line.sets['held-out'].accuracy }] : []));
}

const interval = (d: { estimate: number; low: number; high: number }): DifferenceInterval => ({ estimate: d.estimate, low: d.low, high: d.high });

/** Runs every phase (or resumes it) and writes DIR/report.md, DIR/report.html and DIR/findings.json. */
export async function reproduce(plan: ReproducePlan, deps: ReproduceDeps, options: { out: string; onEvent?: (event: ReproduceEvent) => void; signal?: AbortSignal }): Promise<Reproduction> {
  const started = performance.now();
  const emit = options.onEvent ?? (() => {});
  const configs = armConfigs(plan.base);
  const phases = [...ARMS.map((arm) => ({ name: `train ${arm}`, seconds: estimateSeconds.trainingRun(configs[arm]) })), ...PASSK_CONDITIONS.map((c) => ({ name: `pass@k ${c.policy}, interpreter ${c.tools ? 'on' : 'off'}`, seconds: estimateSeconds.passAtK(plan) }))];
  let phaseIndex = 0;
  let estimatedDone = 0;
  const beginPhase = () => {
    const phase = phases[phaseIndex]!;
    const remaining = phases.slice(phaseIndex).reduce((sum, p) => sum + p.seconds, 0);
    // Scale what is left by how the finished phases compared with their estimates on this machine.
    const elapsed = (performance.now() - started) / 1000;
    const pace = estimatedDone > 0 ? elapsed / estimatedDone : 1;
    emit({ type: 'phase', index: phaseIndex + 1, total: phases.length, name: phase.name, secondsLeft: remaining * pace });
  };
  const endPhase = () => {
    estimatedDone += phases[phaseIndex]!.seconds;
    phaseIndex++;
  };

  const dirs = Object.fromEntries(ARMS.map((arm) => [arm, join(options.out, 'runs', arm)])) as Record<Arm, string>;
  for (const arm of ARMS) {
    beginPhase();
    const config = configs[arm];
    const opened = await deps.open(config, dirs[arm], config.policy);
    try {
      await runTraining(config, opened.deps, { out: dirs[arm], resume: true, onEvent: (event) => emit({ type: 'train', phase: arm, event }), ...(options.signal ? { signal: options.signal } : {}) });
    } finally {
      await opened.close();
    }
    endPhase();
  }
  // The default run is the first arm of each comparison: the ablations' own check says it may stand in.
  for (const name of ['masking', 'budget', 'interpreter']) readBaseline(dirs.default, ABLATIONS[name]!.arms[0].apply(plan.base));

  const checkpointOf = (arm: Arm) => {
    const checkpoint = new RunStore(dirs[arm]).readState()?.checkpoint;
    if (!checkpoint) throw new InputError('has no checkpoint', dirs[arm]);
    return `embedded:${checkpoint}`;
  };
  const engines: Record<PassAtKCondition['policy'], string> = { start: plan.base.policy, trained: checkpointOf('default'), 'text-only-trained': checkpointOf('text-only') };
  const tasks = heldOutTasks({ eval: { ...plan.base.eval, tasks: Math.ceil(plan.passAtK.tasks * 1.25) }, evalFamilies: plan.base.evalFamilies }).slice(0, plan.passAtK.tasks);
  const counts = new Map<string, TaskCounts[]>();
  const feedback = new Map<string, { withFailure: Share; recovered: Share }>();
  const passAtK: PassAtKCondition[] = [];
  for (const condition of PASSK_CONDITIONS) {
    beginPhase();
    const key = `${condition.policy}/${condition.tools ? 'tools' : 'text'}`;
    const config: TrainConfig = { ...plan.base, tools: condition.tools };
    const opened = await deps.open(config, join(options.out, 'passk', condition.policy), engines[condition.policy]);
    try {
      const result = await evaluateHeldOut({ ...opened.deps, engine: opened.deps.backend }, tasks, {
        settings: { ...plan.base.eval, tasks: tasks.length, temperature: plan.passAtK.temperature, topP: 1, samples: plan.passAtK.samples, toolBudget: plan.passAtK.budget },
        tools: condition.tools,
        maxResponseTokens: plan.base.rl.rollout.maxResponseTokens,
        maxPromptTokens: plan.base.rl.rollout.maxPromptTokens,
        executionTimeoutMs: plan.base.executionTimeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
        onProgress: (done, total) => emit({ type: 'passk-progress', phase: key, done, total }),
        onGraded: (graded) => {
          const samples: GradedSample[] = graded
            .filter((item) => !item.trajectory.infraFailure)
            .map((item) => ({ benchmark: 'held-out', problemId: item.task.id, sample: 0, correct: item.correct, answer: null, stats: trajectoryStats(item.trajectory) }));
          const table = errorFeedback(samples);
          feedback.set(key, { withFailure: shareOf(table.withFailure.correct, table.withFailure.count), recovered: shareOf(table.recovered.count, table.withFailure.count) });
        },
      });
      counts.set(key, result.perTask);
      passAtK.push({ ...condition, tasks: result.perTask.length, curve: passAtKCurve(result.perTask, curveKs(result.perTask, plan.passAtK.samples)) });
    } finally {
      await opened.close();
    }
    endPhase();
  }

  const findings = buildFindings(plan, dirs, configs, counts, feedback);
  const reproduction: Reproduction = {
    findings,
    plan,
    passAtK,
    curves: Object.fromEntries(ARMS.map((arm) => [arm, evaluationRecords(dirs[arm], configs[arm].tools).map((record) => ({ step: record.step, accuracy: record.result.accuracy }))])),
    currentBudgetCurves: Object.fromEntries(ARMS.map((arm) => [arm, currentBudgetCurveOf(dirs[arm])])),
    minutes: (performance.now() - started) / 60000,
  };
  writeFileSafely(join(options.out, 'findings.json'), `${JSON.stringify({ findings, minutes: reproduction.minutes, plan }, null, 2)}\n`);
  writeFileSafely(join(options.out, 'report.md'), renderReportMarkdown(reproduction));
  writeFileSafely(join(options.out, 'report.html'), renderReportHtml(reproduction));
  return reproduction;
}

const PASSK_CONDITIONS: readonly Pick<PassAtKCondition, 'policy' | 'tools'>[] = [
  { policy: 'start', tools: true },
  { policy: 'start', tools: false },
  { policy: 'trained', tools: true },
  { policy: 'trained', tools: false },
  { policy: 'text-only-trained', tools: true },
  { policy: 'text-only-trained', tools: false },
];

function buildFindings(
  plan: ReproducePlan,
  dirs: Record<Arm, string>,
  configs: Record<Arm, TrainConfig>,
  counts: Map<string, TaskCounts[]>,
  feedback: Map<string, { withFailure: Share; recovered: Share }>,
): Finding[] {
  const series = (arm: Arm) => evaluationRecords(dirs[arm], configs[arm].tools).map((record) => record.result);
  // (a) the last evaluation of each run, paired over the held-out tasks.
  const [textEnd, codeEnd] = alignedScores([series('text-only').at(-1)!, series('default').at(-1)!]);
  const a = pairedBootstrap(textEnd!, codeEnd!);
  const stability = (steady: Arm, shaky: Arm) => {
    const both = alignedScores([...series(steady), ...series(shaky)]);
    const split = series(steady).length;
    return largestDropDifference(both.slice(0, split), both.slice(split));
  };
  const b = stability('default', 'fixed-budget');
  const c = stability('default', 'unmasked');
  const k = Math.max(...curveKs(counts.get('trained/tools')!, plan.passAtK.samples));
  const overStart = pairedPassAtKDifference(counts.get('start/tools')!, counts.get('trained/tools')!, k);
  const overText = pairedPassAtKDifference(counts.get('text-only-trained/text')!, counts.get('trained/tools')!, k);
  const dVerdict = combineVerdicts([verdictOf(overStart, 'greater'), verdictOf(overText, 'greater')]);
  const trainedFeedback = feedback.get('trained/tools')!;
  const startFeedback = feedback.get('start/tools')!;
  const e = shareDifference(startFeedback.withFailure, trainedFeedback.withFailure);
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return [
    {
      id: 'a',
      claim: 'RL with the interpreter beats the same RL without it',
      measure: `final held-out accuracy (greedy, budget ${plan.base.eval.toolBudget}) of the run trained with the interpreter minus the run trained without it (evaluated without), paired over ${a.pairs} tasks`,
      verdict: verdictOf(a, 'greater'),
      difference: interval(a),
      details: { pairs: a.pairs, withInterpreter: codeEnd!.reduce((s, x) => s + x, 0) / codeEnd!.length, withoutInterpreter: textEnd!.reduce((s, x) => s + x, 0) / textEnd!.length },
    },
    {
      id: 'b',
      claim: 'a progressive tool budget (2 → 3 → 4) trains more stably than the final budget from the start',
      measure: 'the largest drop of held-out accuracy between consecutive evaluations: fixed-budget run minus progressive run (positive = progressive more stable), paired bootstrap over tasks',
      verdict: verdictOf(b, 'greater'),
      difference: interval(b),
      details: { largestDropProgressive: b.dropA, largestDropFixed: b.dropB, evaluations: series('default').length, note: `largest drops ${pct(b.dropA)} (progressive) and ${pct(b.dropB)} (fixed)` },
    },
    {
      id: 'c',
      claim: 'masking the interpreter output out of the loss keeps training stable',
      measure: 'the largest drop of held-out accuracy between consecutive evaluations: unmasked run minus masked run (positive = masking more stable), paired bootstrap over tasks',
      verdict: verdictOf(c, 'greater'),
      difference: interval(c),
      details: { largestDropMasked: c.dropA, largestDropUnmasked: c.dropB },
    },
    {
      id: 'd',
      claim: 'code-integrated RL lifts the capability boundary: pass@k at large k above the starting policy and the text-only-trained policy',
      measure: `pass@${k} (unbiased estimator, ${plan.passAtK.samples} samples per task at T ${plan.passAtK.temperature}) of the trained policy with the interpreter minus the starting policy with it, and minus the text-only-trained policy without it; holds when both differences are above zero`,
      verdict: dVerdict,
      difference: interval(overStart.low <= overText.low ? overStart : overText),
      details: { k, overStartingPolicy: overStart, overTextOnlyTrained: overText },
    },
    {
      id: 'e',
      claim: 'the model recovers from failed executions',
      measure: 'share of trajectories with a failed execution that still end correct: the trained policy minus the starting policy (both with the interpreter, the pass@k samples), Newcombe interval',
      verdict: verdictOf(e, 'greater'),
      difference: e,
      details: { trained: trainedFeedback, start: startFeedback },
    },
  ];
}
