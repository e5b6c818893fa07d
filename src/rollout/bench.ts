/**
 * `cir bench rollout`: this engine (async, streaming stop at the fence) against the paper's
 * round-synchronous scheduler (generate all to EOS, cut, execute all, continue all), in one run, on
 * the same simulated model server (ScriptedEngine's latency model) and the same real interpreter.
 * The workload is deterministic, so both schedulers must produce identical trajectories.
 */
import type { CodeExecutor, ExecutionOutcome } from '../core/execution.js';
import type { Tokenizer } from '../core/tokenizer.js';
import { seededRandom } from '../core/rng.js';
import { RolloutEngine } from './engine.js';
import { roundSyncRollout } from './round-sync.js';
import { ScriptedEngine, type LatencyModel } from './scripted-engine.js';

export interface RolloutBenchOptions {
  tokenizer: Tokenizer;
  executor: CodeExecutor;
  formatFeedback: (outcome: ExecutionOutcome) => string;
  prompts?: number;
  samplesPerPrompt?: number;
  maxToolCalls?: number;
  latency?: LatencyModel;
  executorConcurrency?: number;
  chunkTokens?: number;
  onPhase?: (phase: string) => void;
}

export interface RolloutBenchReport {
  async_per_s: number;
  round_sync_per_s: number;
  ratio: number;
  overhead_pct: number;
  trajectories: number;
  tool_calls: number;
  identical_trajectories: boolean;
  async_wall_s: number;
  round_sync_wall_s: number;
  async_generated_tokens: number;
  round_sync_generated_tokens: number;
  kept_policy_tokens: number;
  engine_work_ms: number;
  latency_model: LatencyModel;
  chunk_tokens: number;
  executor_concurrency: number;
  max_tool_calls: number;
}

const WORDS = 'we compute the value of each term then check the sum carefully so that every case is counted once and the result follows from the identity above'.split(' ');
const SNIPPETS = [
  'print(sum(i * i for i in range(1000)))',
  'import math\nprint(math.comb(30, 12))',
  'from fractions import Fraction\nprint(Fraction(3, 7) + Fraction(2, 9))',
  'primes = [p for p in range(2, 3000) if all(p % d for d in range(2, int(p ** 0.5) + 1))]\nprint(len(primes))',
  'import itertools\nprint(sum(1 for c in itertools.combinations(range(12), 4) if sum(c) % 3 == 0))',
  'x = 1\nfor k in range(1, 60):\n    x = (x * 7 + k) % 1000003\nprint(x)',
];

function prose(rng: () => number, min: number, max: number): string {
  const count = min + Math.floor(rng() * (max - min));
  return Array.from({ length: count }, () => WORDS[Math.floor(rng() * WORDS.length)]).join(' ');
}

/**
 * The simulated model: trajectory (prompt tag, sample) uses `tools` ∈ [0, maxToolCalls] code turns of
 * 20–250 words of prose and a snippet, then — as a real model without a stop does — a hallucinated
 * output block and 40–300 more words that the paper's scheduler generates and throws away.
 */
export function benchScript(maxToolCalls: number) {
  return (promptText: string, seed: number | undefined): string => {
    const tag = Number(/\[problem (\d+)\]/.exec(promptText)?.[1] ?? 0);
    const sample = Math.floor((seed ?? 0) / 1000);
    const turn = promptText.split('```output').length - 1;
    const plan = seededRandom(tag * 7919 + sample * 104729 + 1);
    const tools = Math.floor(plan() * (maxToolCalls + 1));
    const rng = seededRandom(tag * 7919 + sample * 104729 + turn * 15485863 + 7);
    if (turn >= tools) return `${prose(rng, 20, 250)}. The answer is \\boxed{${Math.floor(rng() * 1000)}}.`;
    const code = SNIPPETS[Math.floor(rng() * SNIPPETS.length)] as string;
    return `${prose(rng, 20, 250)}:\n\`\`\`python\n${code}\n\`\`\`\n\`\`\`output\n${Math.floor(rng() * 100)}\n\`\`\`\n${prose(rng, 40, 300)}.`;
  };
}

export async function benchRollout(options: RolloutBenchOptions): Promise<RolloutBenchReport> {
  const { tokenizer, executor } = options;
  const maxToolCalls = options.maxToolCalls ?? 3;
  // A memory-bound 7B decode on one GPU (≈12 ms/step alone, +~1 % per extra sequence), time-scaled
  // ≈12× so that generation still dominates execution, as on real hardware (a turn takes seconds).
  const latency = options.latency ?? { prefillMsPerToken: 0.02, decodeMsPerToken: 1, batchMsPerSequence: 0.01, slots: 64 };
  const chunkTokens = options.chunkTokens ?? 8;
  const executorConcurrency = options.executorConcurrency ?? 2;
  const prompts = Array.from({ length: options.prompts ?? 16 }, (_, i) => tokenizer.encode(`[problem ${i}] Please solve problem ${i} step by step.`));
  const n = options.samplesPerPrompt ?? 4;
  const sampling = { temperature: 1, topP: 1, topK: 0, seed: 0 };
  const script = benchScript(maxToolCalls);
  const maxTokensPerCall = 4096;

  // Warm the interpreter so neither scheduler pays its start-up.
  await Promise.all(SNIPPETS.map((code) => executor.execute(code)));

  options.onPhase?.('async');
  const asyncEngine = new ScriptedEngine({ tokenizer, script, latency, chunkTokens });
  const rollout = new RolloutEngine({
    engine: asyncEngine,
    tokenizer,
    executor,
    formatFeedback: options.formatFeedback,
    sampling,
    maxToolCalls,
    maxTokensPerCall,
    maxTotalTokens: 32768,
    engineConcurrency: latency.slots,
    executorConcurrency,
  });
  let started = performance.now();
  const asyncGroups = await rollout.rolloutMany(prompts, n);
  const asyncWall = (performance.now() - started) / 1000;

  options.onPhase?.('round-sync');
  const syncEngine = new ScriptedEngine({ tokenizer, script, latency, chunkTokens });
  started = performance.now();
  const syncTrajectories = await roundSyncRollout(
    { engine: syncEngine, tokenizer, executor, formatFeedback: options.formatFeedback, sampling, maxToolCalls, maxTokensPerCall },
    prompts,
    n,
  );
  const syncWall = (performance.now() - started) / 1000;

  const asyncFlat = asyncGroups.flat();
  const identical =
    asyncFlat.every((t) => t.status !== 'error') &&
    syncTrajectories.every((s) => {
      const a = asyncFlat.find((t) => t.promptIndex === s.promptIndex && t.sampleIndex === s.sampleIndex);
      return a !== undefined && JSON.stringify(a.segments.map((x) => x.tokens)) === JSON.stringify(s.segments.map((x) => x.tokens));
    });
  const trajectories = asyncFlat.length;
  const round = (x: number, digits = 3) => Number(x.toFixed(digits));
  return {
    async_per_s: round(trajectories / asyncWall),
    round_sync_per_s: round(trajectories / syncWall),
    ratio: round(syncWall / asyncWall),
    overhead_pct: round((100 * rollout.stats.engineWorkMs) / (asyncWall * 1000)),
    trajectories,
    tool_calls: asyncFlat.reduce((sum, t) => sum + t.toolCalls.length, 0),
    identical_trajectories: identical,
    async_wall_s: round(asyncWall),
    round_sync_wall_s: round(syncWall),
    async_generated_tokens: asyncEngine.generatedTokens,
    round_sync_generated_tokens: syncEngine.generatedTokens,
    kept_policy_tokens: asyncFlat.reduce((sum, t) => sum + t.segments.filter((s) => s.origin === 'policy').reduce((k, s) => k + s.tokens.length, 0), 0),
    engine_work_ms: round(rollout.stats.engineWorkMs, 1),
    latency_model: latency,
    chunk_tokens: chunkTokens,
    executor_concurrency: executorConcurrency,
    max_tool_calls: maxToolCalls,
  };
}
