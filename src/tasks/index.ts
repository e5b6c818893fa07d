/**
 * Generated math tasks: families, levels, seeds, disjoint train/test splits, the compact prompt
 * format, and supervised traces for the warm start (direct answers, code-integrated solutions,
 * and solutions whose first program fails before a corrected one follows).
 */
import { InputError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { TASK_FAMILIES, type GeneratedProblem, type TaskFamily } from './families.js';

export { TASK_FAMILIES, type TaskFamily } from './families.js';

export interface Task {
  id: string;
  family: string;
  level: number;
  codeHelps: boolean;
  problem: string;
  /** The reference answer, as it goes inside \boxed{}. */
  answer: string;
}

export type Split = 'train' | 'test';

export interface TaskQuery {
  split: Split;
  count: number;
  seed?: number;
  /** Family names; default all. */
  families?: readonly string[];
  /** Levels (1-3); default all. */
  levels?: readonly number[];
}

/** FNV-1a: the split of a problem is a function of its text, so train and test never share one. */
function hashText(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** One problem in five goes to the test split. */
export function splitOf(problem: string): Split {
  return hashText(problem) % 5 === 0 ? 'test' : 'train';
}

export function findFamily(name: string): TaskFamily {
  const family = TASK_FAMILIES.find((f) => f.name === name);
  if (!family) throw new InputError(`unknown task family; known: ${TASK_FAMILIES.map((f) => f.name).join(', ')}`, name);
  return family;
}

interface GeneratedTask extends Task {
  generated: GeneratedProblem;
}

/**
 * `count` tasks of the split, cycling through families and levels in turn so every (family, level)
 * is equally represented. Problems are unique within the list while the family has enough of them.
 */
function generate(query: TaskQuery): GeneratedTask[] {
  const families = (query.families ?? TASK_FAMILIES.map((f) => f.name)).map(findFamily);
  const levels = query.levels ?? [1, 2, 3];
  for (const level of levels) if (![1, 2, 3].includes(level)) throw new InputError('levels are 1, 2 and 3', `level ${level}`);
  if (!Number.isInteger(query.count) || query.count < 0) throw new InputError('must be a non-negative integer', `count ${query.count}`);
  const rng = new Rng((query.seed ?? 1) * 2654435761 + (query.split === 'test' ? 97 : 13));
  const seen = new Set<string>();
  const tasks: GeneratedTask[] = [];
  for (let i = 0; tasks.length < query.count; i++) {
    const family = families[i % families.length]!;
    const level = levels[Math.floor(i / families.length) % levels.length]!;
    let generated: GeneratedProblem | undefined;
    for (let attempt = 0; attempt < 200; attempt++) {
      const candidate = family.generate(rng, level);
      if (splitOf(candidate.problem) !== query.split) continue;
      generated = candidate;
      if (!seen.has(candidate.problem)) break;
    }
    if (!generated) continue;
    seen.add(generated.problem);
    tasks.push({
      id: `${family.name}-L${level}-${hashText(generated.problem).toString(16).padStart(8, '0')}`,
      family: family.name,
      level,
      codeHelps: family.codeHelps,
      problem: generated.problem,
      answer: generated.answer,
      generated,
    });
  }
  return tasks;
}

export function generateTasks(query: TaskQuery): Task[] {
  return generate(query).map(({ generated: _generated, ...task }) => task);
}

/** The prompt the model sees. Compact for a character-level model: no long instruction. */
export function renderPrompt(task: Pick<Task, 'problem'>): string {
  return `Q: ${task.problem}\nA: `;
}

/** The feedback block after a code block, as the paper's rollout appends it (RUCAIBox/CIR@6d27817 verl/verl-main/verl/workers/rollout/vllm_rollout/vllm_rollout_spmd.py). */
export function toolOutputBlock(output: string): string {
  return `\n\`\`\`output\n${output}\n\`\`\`\n`;
}

export function codeBlock(code: string): string {
  return `\`\`\`python\n${code}\n\`\`\``;
}

export type TraceKind = 'direct' | 'code' | 'code-retry';

/** A supervised trace: policy segments are trained, tool segments (interpreter output) are not. */
export interface Trace {
  task: Task;
  kind: TraceKind;
  prompt: string;
  segments: { origin: 'policy' | 'tool'; text: string }[];
}

/**
 * Warm-start mixture. On code-helps families half the traces answer directly, so the starting
 * policy often skips the tool and is mostly wrong there; RL can then discover that code pays.
 */
export const DEFAULT_TRACE_MIX: Readonly<Record<'codeHelps' | 'codeDoesNotHelp', Record<TraceKind, number>>> = {
  codeHelps: { direct: 0.5, code: 0.4, 'code-retry': 0.1 },
  codeDoesNotHelp: { direct: 0.85, code: 0.15, 'code-retry': 0 },
};

export function buildTrace(task: Task, generated: GeneratedProblem, kind: TraceKind, rng: Rng): Trace {
  const boxed = `\\boxed{${task.answer}}`;
  const segments: Trace['segments'] = [];
  if (kind === 'direct') segments.push({ origin: 'policy', text: boxed });
  else {
    if (kind === 'code-retry') {
      const mistake = rng.pick(generated.mistakes);
      segments.push({ origin: 'policy', text: codeBlock(mistake.code) });
      segments.push({ origin: 'tool', text: toolOutputBlock(mistake.error) });
    }
    segments.push({ origin: 'policy', text: codeBlock(generated.code) });
    segments.push({ origin: 'tool', text: toolOutputBlock(generated.output) });
    segments.push({ origin: 'policy', text: boxed });
  }
  return { task, kind, prompt: renderPrompt(task), segments };
}

/** `count` training traces drawn from the train split with the given mixture. */
export function generateTraces(count: number, seed: number, mix = DEFAULT_TRACE_MIX, families?: readonly string[]): Trace[] {
  const rng = new Rng(seed * 7 + 1);
  return generate({ split: 'train', count, seed, ...(families ? { families } : {}) }).map(({ generated, ...task }) => {
    const weights = task.codeHelps ? mix.codeHelps : mix.codeDoesNotHelp;
    let u = rng.next();
    let kind: TraceKind = 'direct';
    for (const [name, weight] of Object.entries(weights) as [TraceKind, number][]) {
      if (u < weight) {
        kind = name;
        break;
      }
      u -= weight;
    }
    return buildTrace(task, generated, kind, rng);
  });
}

/**
 * Code traces (one program, its output, the boxed answer) of `count` held-out tasks of the code-helps
 * families: what the copy probe reads (`probeCopying`).
 */
export function heldOutCodeTraces(count: number, seed: number): Trace[] {
  const families = TASK_FAMILIES.filter((family) => family.codeHelps).map((family) => family.name);
  const unused = new Rng(seed); // buildTrace draws only for a failing first attempt
  return generate({ split: 'test', count, seed, families }).map(({ generated, ...task }) => buildTrace(task, generated, 'code', unused));
}

/**
 * The programs of `count` tasks of a split (each correct program and its broken first attempts) with
 * what Python prints for each, for checking the traces against a real Python and the sandbox.
 */
export function programsForCheck(
  count: number,
  seed: number,
  split: Split = 'train',
): { family: string; code: string; expected: string; kind: 'program' | 'mistake'; answer: string }[] {
  return generate({ split, count, seed }).flatMap(({ family, answer, generated }) => [
    { family, code: generated.code, expected: generated.output, kind: 'program' as const, answer },
    ...generated.mistakes.map((mistake) => ({ family, code: mistake.code, expected: mistake.error, kind: 'mistake' as const, answer })),
  ]);
}
