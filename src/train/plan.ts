/**
 * The plan of a run, without any backend (`cir train --dry-run`): the resolved settings, the data with
 * its overlaps, prompt lengths in the policy's tokens, and one rendered prompt as the policy will see it.
 */
import { budgetAt } from '../rl/index.js';
import type { TrainConfig } from './config.js';
import { encodePrompt, type PromptEncoder, type TrainingData } from './data.js';

export interface RunPlan {
  recipe: TrainConfig['recipe'];
  settings: {
    steps: number;
    promptsPerStep: number;
    groupSize: number;
    trajectoriesPerStep: number;
    miniBatches: number;
    epochs: number;
    maxPromptTokens: number;
    maxResponseTokens: number;
    optimizer: TrainConfig['rl']['optimizer'];
    sampling: { temperature: number; topP: number; topK: number };
    loss: TrainConfig['rl']['loss'];
    oldLogprobs: TrainConfig['rl']['oldLogprobs'];
    microBatchTokens: number | null;
    budget: TrainConfig['rl']['budget'];
    /** Steps (1-based) at which the tool budget changes, with the new budget. */
    budgetSwitches: { step: number; budget: number }[];
    validation: TrainConfig['validation'];
    interpreter: TrainConfig['interpreter'];
    tools: boolean;
    prompt: TrainConfig['prompt'];
    seed: number;
  };
  data?: {
    problems: number;
    counts: TrainingData['counts'];
    overlap: { set: string; problems: number; examples: string[] }[];
    droppedForOverlap: number;
    validation: { name: string; problems: number; samples: number }[];
    /** Prompt lengths in the policy's tokens before truncation, over every training problem. */
    promptTokens: { p50: number; p90: number; p99: number; max: number; overLimit: number };
    stepsPerEpoch: number;
  };
  /** One training prompt decoded from the tokens the policy gets (after truncation). */
  examplePrompt?: { id: string; tokens: number; text: string };
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Where a schedule's budget changes within the first `steps` steps or at its listed stages. */
function budgetSwitches(config: TrainConfig): { step: number; budget: number }[] {
  const schedule = config.rl.budget;
  if (schedule.kind === 'fixed') return [];
  return schedule.stages.slice(1).map((stage) => ({ step: stage.fromStep + 1, budget: budgetAt(stage.fromStep, schedule) }));
}

export function planRun(config: TrainConfig, data?: TrainingData, encoder?: PromptEncoder & { decode(ids: readonly number[]): string }): RunPlan {
  const rl = config.rl;
  const plan: RunPlan = {
    recipe: config.recipe,
    settings: {
      steps: rl.totalSteps,
      promptsPerStep: rl.promptsPerStep,
      groupSize: rl.groupSize,
      trajectoriesPerStep: rl.promptsPerStep * rl.groupSize,
      miniBatches: rl.miniBatchesPerStep,
      epochs: rl.epochsPerStep,
      maxPromptTokens: rl.rollout.maxPromptTokens,
      maxResponseTokens: rl.rollout.maxResponseTokens,
      optimizer: rl.optimizer,
      sampling: { temperature: rl.rollout.temperature, topP: rl.rollout.topP, topK: rl.rollout.topK },
      loss: rl.loss,
      oldLogprobs: rl.oldLogprobs,
      microBatchTokens: rl.microBatchTokens,
      budget: rl.budget,
      budgetSwitches: budgetSwitches(config),
      validation: config.validation,
      interpreter: config.interpreter,
      tools: config.tools,
      prompt: config.prompt,
      seed: rl.seed,
    },
  };
  if (data && encoder) {
    const lengths = data.problems.map((p) => encodePrompt(p, config.prompt, encoder, Number.MAX_SAFE_INTEGER).tokens.length).sort((a, b) => a - b);
    plan.data = {
      problems: data.problems.length,
      counts: data.counts,
      overlap: data.overlap.map((o) => ({ set: o.set, problems: o.problems, examples: o.ids.slice(0, 5) })),
      droppedForOverlap: data.droppedForOverlap,
      validation: data.validation.map((v) => ({ name: v.name, problems: v.problems.length, samples: v.samples })),
      promptTokens: {
        p50: percentile(lengths, 0.5),
        p90: percentile(lengths, 0.9),
        p99: percentile(lengths, 0.99),
        max: lengths.at(-1) ?? 0,
        overLimit: lengths.filter((n) => n > rl.rollout.maxPromptTokens).length,
      },
      stepsPerEpoch: Math.floor(data.problems.length / rl.promptsPerStep),
    };
    const first = data.problems[0];
    if (first) {
      const { tokens } = encodePrompt(first, config.prompt, encoder, rl.rollout.maxPromptTokens);
      plan.examplePrompt = { id: first.id, tokens: tokens.length, text: encoder.decode(tokens) };
    }
  }
  return plan;
}
