/**
 * The paper's scheduler (the round loop of RUCAIBox/CIR@6d27817 verl/verl-main/verl/workers/rollout/vllm_rollout/vllm_rollout_spmd.py), kept as a baseline:
 * every round generates ALL active
 * trajectories to EOS (no stop: tokens after the fence are generated, then cut away), waits for the
 * slowest, executes ALL code blocks, waits again, and continues. Same cut, budget and injected text
 * as `RolloutEngine`, so the two produce identical trajectories from a deterministic model.
 */
import type { CodeExecutor, ExecutionOutcome } from '../core/execution.js';
import type { SamplingEngine } from '../core/sampling.js';
import type { Tokenizer } from '../core/tokenizer.js';
import type { Segment } from '../core/trajectory.js';
import { scanForCodeBlock, type CodeBlock, type FenceOptions } from './boundary.js';
import { encodeUntrusted, toolText, type RolloutSampling } from './engine.js';
import { IncrementalDecoder } from './incremental-decoder.js';

export interface RoundSyncConfig {
  engine: SamplingEngine;
  tokenizer: Tokenizer;
  executor: CodeExecutor;
  formatFeedback: (outcome: ExecutionOutcome) => string;
  sampling: RolloutSampling;
  maxToolCalls: number;
  maxTokensPerCall: number;
  fence?: FenceOptions;
  executionTimeoutMs?: number;
}

export interface RoundSyncTrajectory {
  promptIndex: number;
  sampleIndex: number;
  segments: Segment[];
  toolCalls: number;
  generatedTokens: number;
}

/** Cuts sampled ids after the token that completes the first block's closing fence. */
function cut(tokenizer: Tokenizer, tokens: readonly number[], fence: FenceOptions): { kept: number[]; block: CodeBlock | null } {
  const decoder = new IncrementalDecoder(tokenizer);
  for (const token of tokens) decoder.push(token);
  const scan = scanForCodeBlock(decoder.text, fence);
  if (scan.kind !== 'block') return { kept: [...tokens], block: null };
  return { kept: tokens.slice(0, decoder.tokenIndexCovering(scan.block.end) + 1), block: scan.block };
}

export async function roundSyncRollout(config: RoundSyncConfig, prompts: readonly (readonly number[])[], n: number): Promise<RoundSyncTrajectory[]> {
  const { tokenizer } = config;
  const all = prompts.flatMap((prompt, promptIndex) =>
    Array.from({ length: n }, (_, sampleIndex) => ({
      promptIndex,
      sampleIndex,
      context: [...prompt],
      segments: [{ origin: 'prompt', tokens: [...prompt], text: tokenizer.decode(prompt) }] as Segment[],
      toolCalls: 0,
      generatedTokens: 0,
    })),
  );
  let active = all;
  for (let round = 0; active.length > 0; round += 1) {
    // Generate all (barrier 1).
    const outputs = await Promise.all(
      active.map(async (t) => {
        const params = {
          temperature: config.sampling.temperature,
          topP: config.sampling.topP,
          topK: config.sampling.topK,
          maxTokens: config.maxTokensPerCall,
          ...(config.sampling.seed !== undefined ? { seed: config.sampling.seed + t.sampleIndex * 1000 + round } : {}),
        };
        const [sequence] = await config.engine.sample({ promptTokens: t.context, params, n: 1 });
        return sequence?.tokens ?? [];
      }),
    );
    const toExecute: Array<{ t: (typeof all)[number]; code: string; text: string; end: number }> = [];
    active.forEach((t, i) => {
      const tokens = outputs[i] as number[];
      t.generatedTokens += tokens.length;
      const detect = t.toolCalls < config.maxToolCalls;
      const { kept, block } = detect ? cut(tokenizer, tokens, config.fence ?? {}) : { kept: tokens, block: null };
      const text = tokenizer.decode(kept);
      t.segments.push({ origin: 'policy', tokens: kept, text });
      t.context.push(...kept);
      if (block) toExecute.push({ t, code: block.code, text, end: block.end });
    });
    // Execute all (barrier 2).
    const results = await Promise.all(toExecute.map((job) => config.executor.execute(job.code, { timeoutMs: config.executionTimeoutMs ?? 5000 })));
    toExecute.forEach((job, i) => {
      const injected = toolText(job.text, job.end, config.formatFeedback(results[i] as ExecutionOutcome));
      const tokens = encodeUntrusted(tokenizer, injected);
      job.t.segments.push({ origin: 'tool', tokens, text: injected });
      job.t.context.push(...tokens);
      job.t.toolCalls += 1;
    });
    active = toExecute.map((job) => job.t);
  }
  return all.map(({ promptIndex, sampleIndex, segments, toolCalls, generatedTokens }) => ({ promptIndex, sampleIndex, segments, toolCalls, generatedTokens }));
}
