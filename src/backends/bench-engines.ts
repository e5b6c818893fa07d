/**
 * `cir bench engines`: the embedded engine and llama.cpp in process on the same model in the same run —
 * the checkpoint is exported to GGUF, both engines decode the same greedy prompts one at a time and then
 * all together, and the greedy tokens are compared.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SampledSequence, SamplingEngine } from '../core/sampling.js';
import { LlamaCppEngine } from '../engines/llamacpp.js';
import { loadCheckpoint } from '../model/checkpoint.js';
import { exportGguf } from '../model/export.js';
import { charTokenizer, DEFAULT_CHECKPOINT_PATH, loadEmbeddedPolicy } from '../model/index.js';
import { generateTasks, renderPrompt } from '../tasks/index.js';

export interface BenchEnginesOptions {
  checkpoint?: string;
  /** Prompts, decoded one at a time and then all concurrently (default 16). */
  prompts?: number;
  maxTokens?: number;
  seed?: number;
  onProgress?: (label: string) => void;
}

interface Throughput {
  tokens_per_s: number;
  batched_tokens_per_s: number;
  tokens: number;
  seconds: number;
  batched_seconds: number;
}

async function measure(engine: SamplingEngine, prompts: number[][], maxTokens: number): Promise<{ figures: Throughput; sequences: SampledSequence[] }> {
  const params = { temperature: 0, topP: 1, topK: 0, maxTokens };
  await engine.sample({ promptTokens: prompts[0]!, params: { ...params, maxTokens: 4 } }); // warm-up
  const sequences: SampledSequence[] = [];
  let start = performance.now();
  for (const promptTokens of prompts) sequences.push((await engine.sample({ promptTokens, params }))[0]!);
  const seconds = (performance.now() - start) / 1000;
  start = performance.now();
  const batched = await Promise.all(prompts.map((promptTokens) => engine.sample({ promptTokens, params })));
  const batchedSeconds = (performance.now() - start) / 1000;
  const tokens = sequences.reduce((n, s) => n + s.tokens.length, 0);
  const batchedTokens = batched.reduce((n, [s]) => n + s!.tokens.length, 0);
  const round = (x: number, places: number) => Math.round(x * 10 ** places) / 10 ** places;
  return {
    figures: { tokens_per_s: round(tokens / seconds, 1), batched_tokens_per_s: round(batchedTokens / batchedSeconds, 1), tokens, seconds: round(seconds, 2), batched_seconds: round(batchedSeconds, 2) },
    sequences,
  };
}

export async function benchEngines(options: BenchEnginesOptions = {}) {
  const checkpoint = options.checkpoint ?? DEFAULT_CHECKPOINT_PATH;
  const count = options.prompts ?? 16;
  const maxTokens = options.maxTokens ?? 64;
  const progress = options.onProgress ?? (() => {});
  const prompts = generateTasks({ split: 'test', count, seed: options.seed ?? 1 }).map((task) => charTokenizer.encode(renderPrompt(task)));
  const dir = mkdtempSync(join(tmpdir(), 'cir-bench-engines-'));
  try {
    progress('exporting the checkpoint to GGUF');
    const file = exportGguf(loadCheckpoint(checkpoint), join(dir, 'model.gguf'), { promptTemplate: renderPrompt({ problem: '{problem}' }) });
    progress('embedded engine');
    const policy = await loadEmbeddedPolicy(checkpoint, { maxConcurrentSequences: Math.max(count, 8) });
    let embedded;
    try {
      embedded = await measure(policy, prompts, maxTokens);
    } finally {
      await policy.close();
    }
    progress('llama.cpp in process');
    const llama = await LlamaCppEngine.load({ modelPath: file, sequences: count });
    let llamacpp;
    try {
      llamacpp = await measure(llama, prompts, maxTokens);
    } finally {
      await llama.close();
    }
    let maxLogprobDiff = 0;
    const same = embedded.sequences.every((s, i) => {
      const other = llamacpp.sequences[i]!;
      if (s.tokens.join() !== other.tokens.join()) return false;
      s.logprobs!.forEach((lp, j) => (maxLogprobDiff = Math.max(maxLogprobDiff, Math.abs(lp - other.logprobs![j]!))));
      return true;
    });
    return {
      embedded: embedded.figures,
      llamacpp: llamacpp.figures,
      same_greedy_tokens: same,
      max_logprob_diff: maxLogprobDiff,
      prompts: count,
      max_tokens: maxTokens,
      checkpoint,
      threads: { embedded: 2, llamacpp: 1 },
      load_average_1m: Math.round(loadavg()[0]! * 100) / 100,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
