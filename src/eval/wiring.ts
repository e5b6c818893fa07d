/**
 * Connects the runner's two narrow functions to the real modules: `solve` drives the rollout engine
 * (sampling engine + tokenizer + sandbox) for one sample, `grade` calls the grader.
 */
import { CirError, InputError } from '../core/errors.js';
import type { CodeExecutor } from '../core/execution.js';
import type { SamplingEngine } from '../core/sampling.js';
import type { Tokenizer } from '../core/tokenizer.js';
import type { Trajectory } from '../core/trajectory.js';
import { gradeResponse } from '../grader/index.js';
import { RolloutEngine, responseText, type BudgetPolicy, type RolloutTrajectory } from '../rollout/index.js';
import type { Problem } from '../datasets/index.js';
import type { ChatMessage, RenderedPrompt } from '../prompts/index.js';
import { gradeItem } from './presets.js';
import type { EvalSettings } from './protocol.js';
import type { StoredVerdict } from './run-store.js';
import type { GradeFunction, SolveFunction } from './runner.js';

export interface SolverOptions {
  engine: SamplingEngine;
  tokenizer: Tokenizer;
  /** Required in code mode. */
  executor?: CodeExecutor;
  /** Renders chat prompts (the tokenizer's template); required when the prompt format is `chat`. */
  encodeChat?: (messages: ChatMessage[]) => number[];
  budgetPolicy?: BudgetPolicy;
  /** Use streaming when the engine supports it (default true). */
  streaming?: boolean;
}

export function promptTokens(prompt: RenderedPrompt, options: Pick<SolverOptions, 'tokenizer' | 'encodeChat'>): number[] {
  if (prompt.format === 'raw') return options.tokenizer.encode(prompt.text);
  if (!options.encodeChat) throw new InputError('chat prompts need a tokenizer with a chat template', 'tokenizer');
  return options.encodeChat(prompt.messages);
}

/** The trajectory as stored: the rollout's record without the per-call sampled ids (the segments hold them). */
function storedTrajectory(trajectory: RolloutTrajectory): Trajectory & Record<string, unknown> {
  const { calls: _calls, ...rest } = trajectory;
  return rest;
}

/**
 * The response as graders read it: without the end-of-sequence marker the stored text shows after
 * the last policy token (`Answer: C<|im_end|>` would hide the letter from a line-anchored reader).
 */
export function gradingText(trajectory: Trajectory, tokenizer: Pick<Tokenizer, 'eosTokenId' | 'decode'>): string {
  const text = responseText(trajectory);
  const last = trajectory.segments[trajectory.segments.length - 1];
  if (last?.origin !== 'policy' || last.tokens[last.tokens.length - 1] !== tokenizer.eosTokenId) return text;
  const eos = tokenizer.decode([tokenizer.eosTokenId]);
  return eos !== '' && text.endsWith(eos) ? text.slice(0, -eos.length) : text;
}

export function createSolver(options: SolverOptions, settings: EvalSettings): SolveFunction {
  const code = settings.mode === 'code';
  if (code && !options.executor) throw new InputError('code mode needs a sandbox to run the code', 'sandbox');
  return async (task, signal) => {
    const rollout = new RolloutEngine({
      engine: options.engine,
      tokenizer: options.tokenizer,
      ...(code && options.executor ? { executor: options.executor } : {}),
      toolsEnabled: code,
      sampling: { temperature: task.benchmark.temperature, topP: task.benchmark.topP, topK: task.benchmark.topK, seed: task.seed },
      maxToolCalls: settings.maxToolCalls,
      budgetPolicy: options.budgetPolicy ?? 'finish',
      maxTokensPerCall: task.benchmark.maxTokensPerCall,
      // The paper's eval bounds each call, not the total: budget + 1 calls of up to maxTokensPerCall each.
      maxTotalTokens: task.benchmark.maxTokensPerCall * (settings.maxToolCalls + 1),
      executionTimeoutMs: settings.toolTimeoutMs,
      interpreterMode: 'stateless',
      boundary: settings.boundary ?? 'precise',
      streaming: options.streaming ?? true,
      engineConcurrency: 1,
      executorConcurrency: 1,
    });
    const [trajectory] = await rollout.rollout(promptTokens(task.prompt, options), 1, { signal });
    if (!trajectory) throw new CirError('the rollout engine returned no trajectory');
    return { trajectory: storedTrajectory(trajectory), responseText: gradingText(trajectory, options.tokenizer) };
  };
}

export interface GraderOptions {
  /** Runs the programs of benchmarks graded by tests (LiveCodeBench): the same pool as the rollouts. */
  executor?: CodeExecutor;
  /** Grading attempts when the sandbox fails (preset benchmarks); default 3. */
  gradeAttempts?: number;
}

export const DEFAULT_GRADE_ATTEMPTS = 3;

/**
 * Preset problems are graded by their item (the benchmark's own rules, in the run's mode); the others
 * by the math grader, with the paper's last-number fallback when the settings ask for it.
 */
export function createGrader(settings: Pick<EvalSettings, 'lenientGrading'> & Partial<Pick<EvalSettings, 'mode'>>, graderOptions: GraderOptions = {}): GradeFunction {
  return (problem: Problem, response: string, signal?: AbortSignal): StoredVerdict | Promise<StoredVerdict> => {
    if (problem.item) {
      return gradeItem(problem.item, response, {
        mode: settings.mode ?? 'code',
        attempts: graderOptions.gradeAttempts ?? DEFAULT_GRADE_ATTEMPTS,
        ...(graderOptions.executor ? { executor: graderOptions.executor } : {}),
        ...(signal ? { signal } : {}),
      });
    }
    const multipleChoice = problem.choices !== undefined && problem.choices.length > 0;
    // Evaluation reads answers in the grader's `answer` mode (box, answer tag, "final answer", Answer: line),
    // plus the paper's last-number fallback when lenient; `free-text` is for `cir grade --extract`.
    const options = { extraction: 'answer' as const, ...(multipleChoice ? { multipleChoice, choices: problem.choices } : {}) };
    const strict = gradeResponse(problem.answer, response, options);
    const result = settings.lenientGrading && !strict.correct ? gradeResponse(problem.answer, response, { ...options, lenient: true }) : strict;
    return {
      correct: result.correct,
      reason: result.verdict.reason,
      extracted: result.extraction.answer,
      via: result.via,
      strict_correct: strict.correct,
      ...(result.verdict.detail !== undefined ? { detail: result.verdict.detail } : {}),
      ...(result.extraction.lastNumber !== undefined ? { last_number: result.extraction.lastNumber } : {}),
    };
  };
}
