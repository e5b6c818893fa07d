/**
 * `/v1/completions`, `/v1/models` and `/health` behaving as vLLM does (vllm-project/vllm
 * vllm/entrypoints/openai/protocol.py and serving_completion.py): token ids
 * or text in, `token_ids`/`prompt_token_ids` out with `return_token_ids`, sampled-token log-probs,
 * `n`, stop strings (text cut before them unless `include_stop_str_in_output`) and stop token ids
 * (`stop_reason` names what fired, null for EOS), SSE streaming ending with `data: [DONE]`.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { PolicyBackend } from '../core/policy.js';
import type { FinishReason, SampleChunk, SampledSequence, SamplingParams } from '../core/sampling.js';
import type { Tokenizer } from '../core/tokenizer.js';
import { HttpError, type ReadWriteLock } from './http.js';

export interface CompletionLimits {
  /** Largest `n`. */
  maxN: number;
  /** Largest `max_tokens`. */
  maxTokens: number;
  /** Longest prompt in tokens. */
  maxPromptTokens: number;
  /** Most prompts in one request. */
  maxPrompts: number;
}

export interface CompletionContext {
  backend: PolicyBackend;
  tokenizer: Tokenizer;
  modelName: string;
  limits: CompletionLimits;
  lock: ReadWriteLock;
}

/** A validated `/v1/completions` request. */
export interface CompletionSpec {
  prompts: number[][];
  n: number;
  params: SamplingParams;
  /** Stop ids the user asked for (EOS is added to `params.stopTokenIds` unless `ignore_eos`). */
  userStopTokenIds: number[];
  stopStrings: string[];
  includeStopString: boolean;
  /** Top-log-prob count asked for, or null for none. */
  logprobs: number | null;
  returnTokenIds: boolean;
  tokensAsIds: boolean;
  skipSpecialTokens: boolean;
  stream: boolean;
  includeUsage: boolean;
}

type Body = Record<string, unknown>;

function bad(message: string, param: string): HttpError {
  return new HttpError(400, message, param);
}

function optionalNumber(body: Body, key: string, fallback: number, check: (x: number) => boolean, rule: string): number {
  const value = body[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || !check(value)) throw bad(`${key} must be ${rule}, got ${JSON.stringify(value)}`, key);
  return value;
}

function optionalBoolean(body: Body, key: string): boolean {
  const value = body[key];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw bad(`${key} must be a boolean`, key);
  return value;
}

function tokenIds(value: unknown, param: string, vocabSize: number): number[] {
  if (!Array.isArray(value)) throw bad(`${param} must be an array of token ids`, param);
  return value.map((id: unknown, index) => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw bad(`${param}[${index}] = ${JSON.stringify(id)} is not a token id in [0, ${vocabSize})`, param);
    }
    return id;
  });
}

/** Validates a request body against the model and the limits; every refusal names its field. */
export function parseCompletionRequest(value: unknown, context: Pick<CompletionContext, 'tokenizer' | 'modelName' | 'limits' | 'backend'>): CompletionSpec {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('request body must be a JSON object', 'body');
  const body = value as Body;
  const { tokenizer, limits } = context;
  if (body['model'] !== undefined && body['model'] !== null && body['model'] !== context.modelName) {
    throw new HttpError(404, `The model \`${String(body['model'])}\` does not exist. This server serves \`${context.modelName}\`.`, 'model');
  }
  if (body['echo'] === true) throw bad('echo is not supported', 'echo');
  if (body['prompt_logprobs'] !== undefined && body['prompt_logprobs'] !== null) throw bad('prompt_logprobs is not supported', 'prompt_logprobs');

  const encode = (text: string, param: string): number[] => {
    try {
      return tokenizer.encode(text);
    } catch (error) {
      throw bad(`cannot tokenize: ${error instanceof Error ? error.message : String(error)}`, param);
    }
  };
  const raw = body['prompt'];
  let prompts: number[][];
  if (typeof raw === 'string') prompts = [encode(raw, 'prompt')];
  else if (Array.isArray(raw) && raw.length > 0 && raw.every((x) => typeof x === 'number')) prompts = [tokenIds(raw, 'prompt', tokenizer.vocabSize)];
  else if (Array.isArray(raw) && raw.length > 0 && raw.every((x) => typeof x === 'string')) prompts = (raw as string[]).map((text, i) => encode(text, `prompt[${i}]`));
  else if (Array.isArray(raw) && raw.length > 0 && raw.every((x) => Array.isArray(x))) prompts = raw.map((ids, i) => tokenIds(ids, `prompt[${i}]`, tokenizer.vocabSize));
  else throw bad('prompt must be a string, an array of strings, an array of token ids or an array of such arrays', 'prompt');
  if (prompts.length > limits.maxPrompts) throw bad(`at most ${limits.maxPrompts} prompts per request, got ${prompts.length}`, 'prompt');

  const n = optionalNumber(body, 'n', 1, (x) => Number.isInteger(x) && x >= 1 && x <= limits.maxN, `an integer in [1, ${limits.maxN}]`);
  const maxTokens = optionalNumber(body, 'max_tokens', 16, (x) => Number.isInteger(x) && x >= 1 && x <= limits.maxTokens, `an integer in [1, ${limits.maxTokens}]`);
  for (const [index, prompt] of prompts.entries()) {
    if (prompt.length === 0) throw bad('prompt is empty', 'prompt');
    if (prompt.length > limits.maxPromptTokens) throw bad(`prompt ${index} has ${prompt.length} tokens; the limit is ${limits.maxPromptTokens}`, 'prompt');
    if (prompt.length + maxTokens > context.backend.contextWindow) {
      throw bad(
        `This model's maximum context length is ${context.backend.contextWindow} tokens. However, you requested ${prompt.length + maxTokens} tokens (${prompt.length} in the prompt, ${maxTokens} for the completion).`,
        'max_tokens',
      );
    }
  }
  const temperature = optionalNumber(body, 'temperature', 1, (x) => x >= 0, '>= 0');
  const topP = optionalNumber(body, 'top_p', 1, (x) => x > 0 && x <= 1, 'in (0, 1]');
  const topK = optionalNumber(body, 'top_k', 0, (x) => Number.isInteger(x) && x >= -1, 'an integer >= -1 (-1 or 0 = off)');
  const seedValue = body['seed'];
  if (seedValue !== undefined && seedValue !== null && (typeof seedValue !== 'number' || !Number.isInteger(seedValue))) throw bad('seed must be an integer', 'seed');

  const stopValue = body['stop'];
  let stopStrings: string[];
  if (stopValue === undefined || stopValue === null) stopStrings = [];
  else if (typeof stopValue === 'string') stopStrings = [stopValue];
  else if (Array.isArray(stopValue) && stopValue.every((x) => typeof x === 'string' && x.length > 0)) stopStrings = stopValue as string[];
  else throw bad('stop must be a string or an array of non-empty strings', 'stop');
  if (stopStrings.some((s) => s.length === 0)) throw bad('stop strings must not be empty', 'stop');
  const userStopTokenIds = body['stop_token_ids'] === undefined || body['stop_token_ids'] === null ? [] : tokenIds(body['stop_token_ids'], 'stop_token_ids', tokenizer.vocabSize);
  const ignoreEos = optionalBoolean(body, 'ignore_eos');
  const stopTokenIds = [...new Set([...userStopTokenIds, ...(ignoreEos ? [] : [tokenizer.eosTokenId])])];

  const logprobsValue = body['logprobs'];
  let logprobs: number | null = null;
  if (logprobsValue !== undefined && logprobsValue !== null) {
    if (typeof logprobsValue !== 'number' || !Number.isInteger(logprobsValue) || logprobsValue < 0 || logprobsValue > 20) throw bad('logprobs must be an integer in [0, 20]', 'logprobs');
    logprobs = logprobsValue;
  }
  const stream = optionalBoolean(body, 'stream');
  const streamOptions = body['stream_options'];
  if (streamOptions !== undefined && streamOptions !== null && !stream) throw bad('stream_options is only allowed with stream', 'stream_options');
  const includeUsage = typeof streamOptions === 'object' && streamOptions !== null && (streamOptions as Body)['include_usage'] === true;

  const params: SamplingParams = { temperature, topP, topK: topK <= 0 ? 0 : topK, maxTokens, stop: stopStrings, stopTokenIds };
  if (typeof seedValue === 'number') params.seed = seedValue;
  return {
    prompts,
    n,
    params,
    userStopTokenIds,
    stopStrings,
    includeStopString: optionalBoolean(body, 'include_stop_str_in_output'),
    logprobs,
    returnTokenIds: optionalBoolean(body, 'return_token_ids'),
    tokensAsIds: optionalBoolean(body, 'return_tokens_as_token_ids'),
    skipSpecialTokens: body['skip_special_tokens'] === undefined || body['skip_special_tokens'] === null ? true : optionalBoolean(body, 'skip_special_tokens'),
    stream,
    includeUsage,
  };
}

/** What ended a sequence, as vLLM reports it: a stop string, a requested stop id, or null (EOS, length). */
export function stopReasonOf(sequence: Pick<SampledSequence, 'tokens' | 'finishReason' | 'stopReason'>, spec: Pick<CompletionSpec, 'userStopTokenIds' | 'stopStrings'>, text: string): string | number | null {
  if (sequence.finishReason !== 'stop') return null;
  const reported = sequence.stopReason;
  if (typeof reported === 'string') return reported;
  const last = typeof reported === 'number' ? reported : sequence.tokens[sequence.tokens.length - 1];
  if (last !== undefined && spec.userStopTokenIds.includes(last)) return last;
  const hit = earliestStop(text, spec.stopStrings);
  return hit ? hit.stop : null;
}

function earliestStop(text: string, stops: readonly string[]): { index: number; stop: string } | null {
  let best: { index: number; stop: string } | null = null;
  for (const stop of stops) {
    const index = text.indexOf(stop);
    if (index >= 0 && (best === null || index < best.index)) best = { index, stop };
  }
  return best;
}

/**
 * The visible text of a (possibly unfinished) completion. A stop token's text is dropped; text is
 * cut before a stop string unless it is to be kept; while unfinished, a tail that could still grow
 * into a stop string (or an incomplete character) is held back so streamed deltas never retract.
 */
export function visibleText(tokens: readonly number[], finished: { stoppedByToken: boolean } | null, spec: Pick<CompletionSpec, 'stopStrings' | 'includeStopString' | 'skipSpecialTokens'>, tokenizer: Tokenizer): string {
  const kept = finished?.stoppedByToken ? tokens.slice(0, -1) : tokens;
  let text = tokenizer.decode(kept, { skipSpecialTokens: spec.skipSpecialTokens });
  const hit = earliestStop(text, spec.stopStrings);
  if (hit) return text.slice(0, spec.includeStopString ? hit.index + hit.stop.length : hit.index);
  if (finished) return text;
  while (text.endsWith('\uFFFD')) text = text.slice(0, -1);
  if (!spec.includeStopString) {
    let hold = 0;
    for (const stop of spec.stopStrings) {
      for (let length = Math.min(stop.length - 1, text.length); length > hold; length--) {
        if (text.endsWith(stop.slice(0, length))) {
          hold = length;
          break;
        }
      }
    }
    text = text.slice(0, text.length - hold);
  }
  return text;
}

interface LogprobsWire {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: Array<Record<string, number>>;
  text_offset: number[];
}

function logprobsWire(tokens: readonly number[], logprobs: readonly number[], spec: CompletionSpec, tokenizer: Tokenizer, startOffset: number): LogprobsWire {
  const wire: LogprobsWire = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  let offset = startOffset;
  tokens.forEach((token, i) => {
    const label = spec.tokensAsIds ? `token_id:${token}` : tokenizer.decode([token]);
    const logprob = logprobs[i] ?? Number.NaN;
    wire.tokens.push(label);
    wire.token_logprobs.push(logprob);
    // Only the sampled token: the SamplingEngine contract exposes no alternatives.
    wire.top_logprobs.push({ [label]: logprob });
    wire.text_offset.push(offset);
    offset += tokenizer.decode([token]).length;
  });
  return wire;
}

/** Sampled-token log-probs from the engine, or from a forward pass when the engine returned none. */
async function ensureLogprobs(context: CompletionContext, prompt: readonly number[], sequence: SampledSequence): Promise<number[]> {
  if (sequence.logprobs && sequence.logprobs.length === sequence.tokens.length) return sequence.logprobs;
  if (sequence.tokens.length === 0) return [];
  const [logprobs_T] = await context.backend.forward([{ tokens: [...prompt, ...sequence.tokens], lossMask: new Float32Array(prompt.length + sequence.tokens.length - 1) }]);
  return Array.from((logprobs_T ?? new Float32Array()).subarray(prompt.length - 1));
}

function finishWire(reason: FinishReason): string {
  return reason;
}

export async function handleCompletions(context: CompletionContext, spec: CompletionSpec, response: ServerResponse, signal: AbortSignal): Promise<void> {
  const id = `cmpl-${randomBytes(12).toString('hex')}`;
  const created = Math.floor(Date.now() / 1000);
  if (spec.stream) return streamCompletions(context, spec, response, signal, id, created);
  const choices: unknown[] = [];
  let completionTokens = 0;
  const results = await context.lock.read(() =>
    Promise.all(spec.prompts.map((prompt) => context.backend.sample({ promptTokens: prompt, params: spec.params, n: spec.n, signal }))),
  );
  for (const [p, sequences] of results.entries()) {
    const prompt = spec.prompts[p] as number[];
    for (const [i, sequence] of sequences.entries()) {
      completionTokens += sequence.tokens.length;
      const stoppedByToken = sequence.finishReason === 'stop' && typeof sequence.stopReason !== 'string' && spec.params.stopTokenIds?.includes(sequence.tokens[sequence.tokens.length - 1] ?? -1) === true;
      const text = visibleText(sequence.tokens, { stoppedByToken }, spec, context.tokenizer);
      const fullText = context.tokenizer.decode(sequence.tokens, { skipSpecialTokens: spec.skipSpecialTokens });
      const choice: Record<string, unknown> = {
        index: p * spec.n + i,
        text,
        logprobs: spec.logprobs === null ? null : logprobsWire(sequence.tokens, await ensureLogprobs(context, prompt, sequence), spec, context.tokenizer, 0),
        finish_reason: finishWire(sequence.finishReason),
        stop_reason: stopReasonOf(sequence, spec, fullText),
      };
      if (spec.returnTokenIds) {
        choice['token_ids'] = sequence.tokens;
        choice['prompt_token_ids'] = prompt;
      }
      choices.push(choice);
    }
  }
  const promptTokens = spec.prompts.reduce((sum, prompt) => sum + prompt.length * spec.n, 0);
  const body = {
    id,
    object: 'text_completion',
    created,
    model: context.modelName,
    choices,
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
  const text = JSON.stringify(body);
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

async function streamCompletions(context: CompletionContext, spec: CompletionSpec, response: ServerResponse, signal: AbortSignal, id: string, created: number): Promise<void> {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const send = (choices: unknown[], extra: Record<string, unknown> = {}) => {
    if (!response.writableEnded) response.write(`data: ${JSON.stringify({ id, object: 'text_completion', created, model: context.modelName, choices, ...extra })}\n\n`);
  };
  let completionTokens = 0;
  const runOne = async (prompt: number[], index: number, seedOffset: number) => {
    const params = spec.params.seed === undefined ? spec.params : { ...spec.params, seed: spec.params.seed + seedOffset };
    const tokens: number[] = [];
    let emitted = 0;
    let first = true;
    const source: AsyncIterable<SampleChunk> = context.backend.stream
      ? context.backend.stream({ promptTokens: prompt, params, signal })
      : (async function* () {
          const [sequence] = await context.backend.sample({ promptTokens: prompt, params, n: 1, signal });
          if (sequence) yield { tokens: sequence.tokens, logprobs: sequence.logprobs, finishReason: sequence.finishReason, stopReason: sequence.stopReason ?? null };
        })();
    for await (const chunk of source) {
      tokens.push(...chunk.tokens);
      completionTokens += chunk.tokens.length;
      const finishReason = chunk.finishReason;
      const stoppedByToken = finishReason === 'stop' && typeof chunk.stopReason !== 'string' && spec.params.stopTokenIds?.includes(tokens[tokens.length - 1] ?? -1) === true;
      const text = visibleText(tokens, finishReason ? { stoppedByToken } : null, spec, context.tokenizer);
      const delta = text.slice(emitted);
      emitted = Math.max(emitted, text.length);
      const choice: Record<string, unknown> = {
        index,
        text: delta,
        logprobs: spec.logprobs === null ? null : logprobsWire(chunk.tokens, chunk.logprobs ?? [], spec, context.tokenizer, emitted - delta.length),
        finish_reason: finishReason ? finishWire(finishReason) : null,
        stop_reason: finishReason
          ? stopReasonOf({ tokens, finishReason, stopReason: chunk.stopReason ?? null }, spec, context.tokenizer.decode(tokens, { skipSpecialTokens: spec.skipSpecialTokens }))
          : null,
      };
      if (spec.returnTokenIds) {
        choice['token_ids'] = chunk.tokens;
        if (first) choice['prompt_token_ids'] = prompt;
      }
      first = false;
      send([choice]);
      if (finishReason) break;
    }
  };
  try {
    await context.lock.read(() => Promise.all(spec.prompts.flatMap((prompt, p) => Array.from({ length: spec.n }, (_, i) => runOne(prompt, p * spec.n + i, i)))));
    if (spec.includeUsage) {
      const promptTokens = spec.prompts.reduce((sum, prompt) => sum + prompt.length * spec.n, 0);
      send([], { usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens } });
    }
  } catch (error) {
    // Errors after the stream started arrive as an event, as vLLM sends them.
    if (!response.writableEnded) response.write(`data: ${JSON.stringify({ error: { message: error instanceof Error ? error.message : String(error), type: 'InternalServerError', param: null, code: 500 } })}\n\n`);
  }
  if (!response.writableEnded) response.end('data: [DONE]\n\n');
}

export function modelsResponse(context: Pick<CompletionContext, 'modelName' | 'backend'>, created: number): unknown {
  return {
    object: 'list',
    data: [{ id: context.modelName, object: 'model', created, owned_by: 'cir', root: context.modelName, parent: null, max_model_len: context.backend.contextWindow, permission: [] }],
  };
}
