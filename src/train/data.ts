/**
 * Training data from problem files (src/datasets: benchmark-style JSONL, verl Parquet, the Hub): the
 * filters, the validation sets, the overlap between them, a seeded per-epoch shuffle, and the prompt
 * of a problem in the policy's tokens (the chat template, left-truncated as the paper's loader does).
 */
import { InputError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { loadBenchmark, type LoadOptions } from '../datasets/index.js';
import { instructedQuestion, leftTruncate } from '../prompts/index.js';
import { renderPrompt as renderPlainPrompt } from '../tasks/index.js';
import type { PromptSettings, TrainConfig } from './config.js';
import { deriveSeed, SEED_PURPOSE } from './seeds.js';

/** What a rollout needs of a problem, generated or from a file. */
export interface TrainingProblem {
  id: string;
  problem: string;
  /** Reference final answer (no `\boxed{}`). */
  answer: string;
}

export interface DatasetProblem extends TrainingProblem {
  /** The dataset spec it came from. */
  source: string;
  subject?: string;
  level?: string;
}

export interface ValidationSet {
  name: string;
  spec: string;
  samples: number;
  problems: DatasetProblem[];
}

export interface TrainingData {
  problems: DatasetProblem[];
  /** Per dataset spec: rows loaded, rows kept by the filters. */
  counts: { spec: string; name: string; loaded: number; kept: number }[];
  /** Training problems whose text also appears in a validation set. */
  overlap: { set: string; problems: number; ids: string[] }[];
  /** Overlapping problems dropped (`data.dropOverlap`). */
  droppedForOverlap: number;
  validation: ValidationSet[];
}

/** Problem text as compared for overlap: case, whitespace and `$` signs do not count. */
export function overlapKey(text: string): string {
  return text.toLowerCase().replace(/\$/g, '').replace(/\s+/g, ' ').trim();
}

/** Loads the training files and the validation sets of a dataset run. */
export async function loadTrainingData(config: Pick<TrainConfig, 'data' | 'validation'>, options: LoadOptions = {}): Promise<TrainingData> {
  if (config.data.kind !== 'dataset') throw new InputError('this run trains on generated tasks, not on a dataset', 'data');
  const data = config.data;
  const problems: DatasetProblem[] = [];
  const counts: TrainingData['counts'] = [];
  for (const spec of data.specs) {
    const benchmark = await loadBenchmark(spec, options);
    if (benchmark.preset) throw new InputError('benchmarks graded by their own rules cannot be training data; give a math problem file', spec);
    const kept = benchmark.problems.filter(
      (p) => (data.levels === null || (p.level !== undefined && data.levels.includes(p.level))) && (data.subjects === null || (p.subject !== undefined && data.subjects.includes(p.subject))),
    );
    counts.push({ spec, name: benchmark.name, loaded: benchmark.problems.length, kept: kept.length });
    for (const p of kept) {
      problems.push({ id: `${benchmark.name}/${p.id}`, problem: p.problem, answer: p.answer, source: spec, ...(p.subject !== undefined ? { subject: p.subject } : {}), ...(p.level !== undefined ? { level: p.level } : {}) });
    }
  }
  const validation: ValidationSet[] = [];
  if (config.validation.every > 0) {
    for (const set of config.validation.sets) {
      const benchmark = await loadBenchmark(set.spec, options);
      if (benchmark.preset) throw new InputError('validation sets are math problem files graded by the training reward', set.spec);
      validation.push({ name: benchmark.name, spec: set.spec, samples: set.samples, problems: benchmark.problems.map((p) => ({ id: p.id, problem: p.problem, answer: p.answer, source: set.spec })) });
    }
  }
  const overlap = validation.map((set) => {
    const keys = new Set(set.problems.map((p) => overlapKey(p.problem)));
    const ids = problems.filter((p) => keys.has(overlapKey(p.problem))).map((p) => p.id);
    return { set: set.name, problems: ids.length, ids };
  });
  const overlapping = new Set(overlap.flatMap((o) => o.ids));
  const kept = data.dropOverlap ? problems.filter((p) => !overlapping.has(p.id)) : problems;
  if (kept.length === 0) throw new InputError('no training problems left after the filters', data.specs.join(','));
  return { problems: kept, counts, overlap, droppedForOverlap: problems.length - kept.length, validation };
}

/**
 * The problems of step `step`, as verl's loader draws them (RUCAIBox/CIR @ 6d27817,
 * verl/trainer/ppo/ray_trainer.py: a seeded RandomSampler, `drop_last=True`): each epoch is a fresh
 * seeded permutation of the pool cut into ⌊N / count⌋ batches; the tail that does not fill a batch waits
 * for a later epoch.
 */
export function epochBatch<T>(pool: readonly T[], seed: number, step: number, count: number): T[] {
  if (count > pool.length) throw new InputError(`cannot draw ${count} prompts per step from ${pool.length} problems`, 'promptsPerStep');
  const perEpoch = Math.floor(pool.length / count);
  const epoch = Math.floor(step / perEpoch);
  const offset = (step % perEpoch) * count;
  const rng = new Rng(deriveSeed(seed, SEED_PURPOSE.prompts, epoch));
  const order = pool.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.slice(offset, offset + count).map((i) => pool[i]!);
}

/** What rendering a prompt needs of the policy's tokenizer. */
export interface PromptEncoder {
  encode(text: string): number[];
  /** The chat template (Hugging Face tokenizers); absent for tokenizers without one. */
  encodeChat?(messages: { role: string; content: string }[], options: { enableThinking?: boolean }): number[];
}

/**
 * A problem's prompt in the policy's tokens: the plain `Q: … A: ` format, or the instruction and the
 * problem as one user message through the chat template. Over `maxTokens`, `left` truncation keeps the
 * last tokens (the paper's `data.truncation='left'`) and `error` refuses.
 */
export function encodePrompt(problem: Pick<TrainingProblem, 'id' | 'problem'>, settings: PromptSettings, encoder: PromptEncoder, maxTokens: number): { tokens: number[]; truncated: number } {
  let tokens: number[];
  if (settings.format === 'plain') tokens = encoder.encode(renderPlainPrompt(problem));
  else {
    if (!encoder.encodeChat) throw new InputError('chat prompts need a tokenizer with a chat template (give --tokenizer DIR of the policy)', 'prompt.format');
    tokens = encoder.encodeChat([{ role: 'user', content: instructedQuestion(problem.problem, settings.mode) }], { enableThinking: settings.thinking });
  }
  if (tokens.length <= maxTokens) return { tokens, truncated: 0 };
  if (settings.truncation === 'error') {
    throw new InputError(`prompt has ${tokens.length} tokens, more than rollout.maxPromptTokens (${maxTokens})`, `problem ${problem.id}`);
  }
  const { tokens: kept, dropped } = leftTruncate(tokens, maxTokens);
  return { tokens: kept, truncated: dropped };
}
