/**
 * Where prompts come from: a fixed pool of training-split problems drawn once from the run seed,
 * a seeded draw of each step's prompts from it, and the held-out test-split tasks. The draw for
 * step s depends only on (seed, s), so a resumed run sees the same prompts.
 */
import { InputError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { generateTasks, type Task } from '../tasks/index.js';
import type { TrainConfig } from './config.js';
import { deriveSeed, SEED_PURPOSE } from './seeds.js';

export type { Task } from '../tasks/index.js';

export function trainingPool(config: Pick<TrainConfig, 'trainPoolSize' | 'families' | 'rl'>): Task[] {
  return generateTasks({ split: 'train', count: config.trainPoolSize, seed: config.rl.seed, ...(config.families ? { families: config.families } : {}) });
}

/**
 * The held-out tasks: `eval.tasks` drawn evenly over families and levels from the test split, then
 * duplicates dropped. Small families (one-digit addition has 100 problems, about a fifth in the test
 * split) would otherwise repeat problems, and repeats would narrow the intervals without adding
 * evidence; such families end up with fewer tasks than the others.
 */
export function heldOutTasks(config: Pick<TrainConfig, 'eval' | 'evalFamilies'>): Task[] {
  const tasks = generateTasks({ split: 'test', count: config.eval.tasks, seed: config.eval.seed, ...(config.evalFamilies ? { families: config.evalFamilies } : {}) });
  const seen = new Set<string>();
  return tasks.filter((task) => !seen.has(task.problem) && seen.add(task.problem));
}

/** `count` distinct problems of the pool for step `step` (a partial Fisher-Yates shuffle seeded by (seed, step)). */
export function promptsForStep<T>(pool: readonly T[], seed: number, step: number, count: number): T[] {
  if (count > pool.length) throw new InputError(`cannot draw ${count} prompts from a pool of ${pool.length}`, 'promptsPerStep');
  const rng = new Rng(deriveSeed(seed, SEED_PURPOSE.prompts, step));
  const indices = pool.map((_, i) => i);
  const drawn: T[] = [];
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rng.next() * (indices.length - i));
    [indices[i], indices[j]] = [indices[j]!, indices[i]!];
    drawn.push(pool[indices[i]!]!);
  }
  return drawn;
}
