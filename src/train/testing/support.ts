/**
 * Test doubles for the trainer's tests: a scripted policy (a PolicyBackend whose continuations are
 * chosen by a function of the context, with recorded training calls) and an in-process executor.
 * Not used by the product.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeExecutor, ExecutionOutcome, ExecutionSession } from '../../core/execution.js';
import type { AdamParams, BuiltinLoss, ForwardBackwardResult, PolicyBackend, TargetLogprobs, TokenLossFunction, TrainingDatum } from '../../core/policy.js';
import type { SampleChunk, SampledSequence, SampleRequest, StreamRequest } from '../../core/sampling.js';
import { charTokenizer } from '../../model/index.js';
import type { TrainConfig } from '../config.js';
import { defaultTrainConfig } from '../config.js';

/** The continuation's text for a context (prompt + everything so far) and the call's seed. */
export type Script = (context: string, seed: number | undefined) => string;

/** Writes one code block per turn, then answers once the budget is spent: tool calls = K exactly. */
export const ALWAYS_CODE: Script = () => '```python\nprint(7)\n```\n\\boxed{7}';

export class ScriptedPolicy implements PolicyBackend {
  readonly name = 'scripted';
  readonly contextWindow: number;
  readonly trained: { data: TrainingDatum[]; loss: number }[] = [];
  optimizerSteps = 0;
  /** A scalar "weight" moved by each update, so checkpoints differ by step. */
  weight = 0;

  constructor(
    private readonly script: Script,
    private readonly checkpointDir: string,
    contextWindow = 512,
    private readonly logprob = -0.5,
  ) {
    this.contextWindow = contextWindow;
  }

  private continuation(promptTokens: readonly number[], seed: number | undefined, maxTokens: number): number[] {
    const text = this.script(charTokenizer.decode(promptTokens, { skipSpecialTokens: true }), seed);
    return [...charTokenizer.encode(text), charTokenizer.eosTokenId].slice(0, maxTokens);
  }

  async sample(request: SampleRequest): Promise<SampledSequence[]> {
    return Array.from({ length: request.n ?? 1 }, () => {
      const tokens = this.continuation(request.promptTokens, request.params.seed, request.params.maxTokens);
      const stopped = tokens.at(-1) === charTokenizer.eosTokenId;
      return { tokens, logprobs: tokens.map(() => this.logprob), finishReason: stopped ? 'stop' : 'length' };
    });
  }

  async *stream(request: StreamRequest): AsyncIterable<SampleChunk> {
    const tokens = this.continuation(request.promptTokens, request.params.seed, request.params.maxTokens);
    for (let i = 0; i < tokens.length; i++) {
      const last = i === tokens.length - 1;
      const chunk: SampleChunk = { tokens: [tokens[i]!], logprobs: [this.logprob], text: charTokenizer.tokenText(tokens[i]!) };
      if (last) chunk.finishReason = tokens[i] === charTokenizer.eosTokenId ? 'stop' : 'length';
      yield chunk;
    }
  }

  async forward(data: readonly TrainingDatum[]): Promise<TargetLogprobs> {
    return data.map((datum) => new Float32Array(datum.tokens.length - 1).fill(this.logprob));
  }

  async forwardBackward(data: readonly TrainingDatum[], loss: TokenLossFunction | BuiltinLoss): Promise<ForwardBackwardResult> {
    if (typeof loss !== 'function') throw new Error('the scripted policy takes token loss functions only');
    const logprobs = await this.forward(data);
    const result = loss(logprobs);
    let gradient = 0;
    for (const row of result.gradients) for (const value of row) gradient += value;
    this.weight += gradient;
    this.trained.push({ data: [...data], loss: result.loss });
    return { loss: result.loss, logprobs, metrics: result.metrics };
  }

  async optimStep(_params: AdamParams): Promise<{ gradNorm: number }> {
    this.optimizerSteps++;
    return { gradNorm: 1 };
  }

  async save(name: string): Promise<string> {
    const dir = join(this.checkpointDir, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'weight.json'), JSON.stringify({ weight: this.weight, optimizerSteps: this.optimizerSteps }));
    return dir;
  }

  async load(path: string): Promise<void> {
    const saved = JSON.parse(readFileSync(join(path, 'weight.json'), 'utf8')) as { weight: number; optimizerSteps: number };
    this.weight = saved.weight;
    this.optimizerSteps = saved.optimizerSteps;
  }
}

/** Runs nothing: prints what `outcomeOf` says (default: "7"). */
export class FakeExecutor implements CodeExecutor {
  readonly name = 'fake';
  executions = 0;

  constructor(private readonly outcomeOf: (code: string) => ExecutionOutcome = () => ({ kind: 'ok', stdout: '7\n', stderr: '', durationMs: 1 })) {}

  async execute(code: string): Promise<ExecutionOutcome> {
    this.executions++;
    return this.outcomeOf(code);
  }

  async openSession(): Promise<ExecutionSession> {
    throw new Error('no sessions');
  }

  async close(): Promise<void> {}
}

/** A small, fast configuration for tests: few prompts, small groups, a handful of held-out tasks. */
export function tinyConfig(steps: number, overrides: (config: TrainConfig) => void = () => {}): TrainConfig {
  const config = defaultTrainConfig(steps);
  config.rl.promptsPerStep = 3;
  config.rl.groupSize = 2;
  config.rl.rollout.maxResponseTokens = 48;
  config.trainPoolSize = 30;
  config.eval = { ...config.eval, tasks: 10, every: 0, withoutTools: false };
  config.checkpointEvery = 0;
  overrides(config);
  return config;
}
