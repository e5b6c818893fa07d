/**
 * `cir bench serve`: completions throughput of the HTTP server with concurrent clients, and the
 * same workload against the in-process backend in the same run, so the HTTP path's overhead is
 * measured against a baseline on the same (noisy) machine.
 */
import type { PolicyBackend } from '../core/policy.js';
import type { SamplingParams } from '../core/sampling.js';
import type { Tokenizer } from '../core/tokenizer.js';
import { startServer } from './server.js';

export interface ServeBenchOptions {
  backend: PolicyBackend;
  tokenizer: Tokenizer;
  modelName: string;
  checkpointDir: string;
  /** Concurrent clients to measure, e.g. [1, 8, 32]. */
  concurrency: number[];
  /** Requests per measurement. */
  requests: number;
  maxTokens: number;
  prompts: string[];
  /** Called after each measurement (progress). */
  onProgress?: (done: number, total: number) => void;
}

export interface ThroughputFigure {
  clients: number;
  requests: number;
  completion_tokens: number;
  seconds: number;
  tokens_per_s: number;
  requests_per_s: number;
}

export interface ServeBenchReport {
  model: string;
  max_tokens: number;
  in_process: ThroughputFigure[];
  http: ThroughputFigure[];
  /** Per concurrency: (in-process tok/s − HTTP tok/s) / in-process tok/s, in percent. */
  overhead_pct: Array<{ clients: number; overhead_pct: number }>;
  /** Identical token ids on both paths (greedy decoding), checked on the first request. */
  same_tokens: boolean;
}

/** `requests` calls of `run` by `clients` concurrent workers; counts the tokens each call returns. */
export async function measure(clients: number, requests: number, run: (index: number) => Promise<number>): Promise<ThroughputFigure> {
  let next = 0;
  let tokens = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let index = next++; index < requests; index = next++) {
        // Await first: `tokens += await …` reads `tokens` before the await and loses the other workers' counts.
        const produced = await run(index);
        tokens += produced;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { clients, requests, completion_tokens: tokens, seconds: round(seconds, 3), tokens_per_s: round(tokens / seconds, 1), requests_per_s: round(requests / seconds, 2) };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export async function benchServe(options: ServeBenchOptions): Promise<ServeBenchReport> {
  const { backend, tokenizer } = options;
  const server = await startServer({ backend, tokenizer, modelName: options.modelName, checkpointDir: options.checkpointDir, limits: { maxN: 64 } });
  const prompts = options.prompts.map((text) => tokenizer.encode(text));
  const params: SamplingParams = { temperature: 0, topP: 1, topK: 0, maxTokens: options.maxTokens, stopTokenIds: [tokenizer.eosTokenId] };
  const promptFor = (index: number) => prompts[index % prompts.length] as number[];
  const inProcess = async (index: number) => {
    const [sequence] = await backend.sample({ promptTokens: promptFor(index), params });
    return sequence?.tokens.length ?? 0;
  };
  const overHttp = async (index: number) => {
    const response = await fetch(`${server.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: options.modelName, prompt: promptFor(index), max_tokens: options.maxTokens, temperature: 0, return_token_ids: true, logprobs: 0 }),
    });
    const body = (await response.json()) as { choices: Array<{ token_ids: number[] }> };
    return body.choices[0]?.token_ids.length ?? 0;
  };
  try {
    const [local] = await backend.sample({ promptTokens: promptFor(0), params });
    const remote = await fetch(`${server.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: promptFor(0), max_tokens: options.maxTokens, temperature: 0, return_token_ids: true }),
    });
    const remoteIds = ((await remote.json()) as { choices: Array<{ token_ids: number[] }> }).choices[0]?.token_ids;
    const report: ServeBenchReport = { model: options.modelName, max_tokens: options.maxTokens, in_process: [], http: [], overhead_pct: [], same_tokens: JSON.stringify(local?.tokens) === JSON.stringify(remoteIds) };
    const total = options.concurrency.length * 2;
    let done = 0;
    for (const clients of options.concurrency) {
      // Alternate the two paths per concurrency so drift in machine load hits both alike.
      const local = await measure(clients, options.requests, inProcess);
      options.onProgress?.(++done, total);
      const http = await measure(clients, options.requests, overHttp);
      options.onProgress?.(++done, total);
      report.in_process.push(local);
      report.http.push(http);
      report.overhead_pct.push({ clients, overhead_pct: round(((local.tokens_per_s - http.tokens_per_s) / local.tokens_per_s) * 100, 1) });
    }
    return report;
  } finally {
    await server.close();
  }
}
