/**
 * The sampling-engine contract: token ids in, token ids (and log-probabilities) out.
 * Implemented by the embedded model, OpenAI-compatible servers and the Tinker backend;
 * consumed by the rollout engine. An engine knows nothing of tools.
 */

export interface SamplingParams {
  /** 0 means greedy. */
  temperature: number;
  /** 1 disables nucleus sampling. */
  topP: number;
  /** 0 or negative disables top-k. */
  topK: number;
  /** Maximum new tokens for this call. */
  maxTokens: number;
  /** Generation stops after any of these strings appears in the new text (the string is kept). */
  stop?: readonly string[];
  /** Generation stops after any of these tokens (the token is kept). */
  stopTokenIds?: readonly number[];
  seed?: number;
}

export type FinishReason = 'stop' | 'length' | 'abort';

export interface SampledSequence {
  /** New tokens only, exactly as sampled. */
  tokens: number[];
  /** Log-probability of each sampled token under the sampling distribution, when the engine reports it. */
  logprobs: number[] | null;
  finishReason: FinishReason;
  /** Which stop string or stop token ended generation, when `finishReason` is `stop`. */
  stopReason?: string | number | null;
  /** The engine's own text for `tokens`, when it returns one (text-mode engines). */
  text?: string;
}

export interface SampleRequest {
  promptTokens: readonly number[];
  params: SamplingParams;
  /** Number of independent continuations; default 1. */
  n?: number;
  signal?: AbortSignal;
}

/** A piece of a streamed continuation. */
export interface SampleChunk {
  tokens: number[];
  logprobs: number[] | null;
  /** Set on the last chunk. */
  finishReason?: FinishReason;
  stopReason?: string | number | null;
  text?: string;
}

export interface StreamRequest {
  promptTokens: readonly number[];
  params: SamplingParams;
  signal?: AbortSignal;
}

export interface SamplingEngine {
  readonly name: string;
  /**
   * Whether `tokens` are the exact ids the model sampled (token mode; the default when absent). False
   * for text-mode engines, whose ids are the tokenizer's re-encoding of the text they return: their
   * trajectories are marked not token-exact and never reach a gradient as if they were.
   */
  readonly tokenExact?: boolean;
  /** Largest prompt + completion the model accepts, in tokens. */
  readonly contextWindow: number;
  sample(request: SampleRequest): Promise<SampledSequence[]>;
  /** Streams one continuation; breaking out of the loop (or aborting) stops generation. */
  stream?(request: StreamRequest): AsyncIterable<SampleChunk>;
}
