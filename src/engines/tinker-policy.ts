/**
 * `TinkerPolicy implements PolicyBackend` over the Tinker REST API, so the trainer can drive a
 * remote LoRA (hosted Tinker, SkyRL's server, or `cir serve`) exactly as it drives the embedded
 * model.
 *
 * - Losses: the core BuiltinLoss kinds map to Tinker's built-ins (token sums; masks become zero
 *   weights/advantages). A TokenLossFunction (e.g. the paper's dual-clip token-mean loss) runs as
 *   Tinker's "forward_backward_custom": a forward pass for the learner log-probs, the function's
 *   gradient g = dL/dlogp computed here, then a cross-entropy forward_backward with weights −g.
 *   The gradient is exact (same weights in both passes); the cost is one extra forward pass.
 * - Sampling: a sampler snapshot is saved after every weight change, then sampled through a
 *   sampling session; before any change the base model is sampled directly.
 * - Training requests carry consecutive `seq_id`s; a refused submission does not consume one.
 */
import { InputError, UnsupportedError } from '../core/errors.js';
import type { AdamParams, BuiltinLoss, ForwardBackwardResult, PolicyBackend, TargetLogprobs, TokenLossFunction, TrainingDatum } from '../core/policy.js';
import type { SampledSequence, SampleRequest, SamplingParams } from '../core/sampling.js';
import type { Tokenizer } from '../core/tokenizer.js';
import { TinkerApiError, TinkerClient, TinkerSessionExpiredError, type Clock, type FetchFunction } from './tinker-client.js';
import {
  adamToWire,
  encodeDatum,
  finishReasonFromWire,
  isRecord,
  modelInput,
  tensorValues,
  type ForwardBackwardInputWire,
  type SampleRequestWire,
  type TinkerLossName,
} from './tinker-wire.js';

export interface TinkerPolicyOptions {
  /** `http://127.0.0.1:8000` for SkyRL or `cir serve`, or the hosted URL. */
  baseUrl: string;
  /** Hosted: from TINKER_API_KEY. SkyRL and loopback `cir serve` need none. */
  apiKey?: string;
  /** e.g. `Qwen/Qwen2.5-Math-7B`; must be one the server lists. */
  baseModel: string;
  /** LoRA rank; default 32. */
  loraRank?: number;
  /** LoRA init seed. */
  loraSeed?: number;
  /** Prompt + completion limit; default: the server's max_context_length for the model, else 32768. */
  contextWindow?: number;
  /** A `tinker://…/weights/<name>` checkpoint to resume from (weights and optimizer state). */
  resumeFrom?: string;
  /** Needed only to honour stop strings together with stop token ids (Tinker accepts one kind per call). */
  tokenizer?: Tokenizer;
  /** Datums per forward_backward request (hosted limit 1024); larger batches are split, gradients accumulate. */
  maxDatumsPerRequest?: number;
  /** Heartbeat period; 0 disables (tests). Default 10 s. */
  heartbeatMs?: number;
  tags?: string[];
  fetch?: FetchFunction;
  clock?: Clock;
  maxRetries?: number;
  pollTimeoutMs?: number;
  timeoutMs?: number;
}

/** Tinker's stop field: ids when any are given, else strings; the other kind is applied here. */
export function stopForWire(params: Pick<SamplingParams, 'stop' | 'stopTokenIds'>): { wire: string[] | number[] | null; clientStrings: string[] } {
  const ids = params.stopTokenIds ?? [];
  const strings = params.stop ?? [];
  if (ids.length > 0) return { wire: [...ids], clientStrings: [...strings] };
  if (strings.length > 0) return { wire: [...strings], clientStrings: [] };
  return { wire: null, clientStrings: [] };
}

/**
 * Cuts a sequence after the token that completes the first client-side stop string (the string
 * is kept, as SamplingParams specifies). Returns the sequence unchanged when none occurs.
 */
export function applyStopStrings(sequence: SampledSequence, stops: readonly string[], tokenizer: Tokenizer): SampledSequence {
  if (stops.length === 0) return sequence;
  for (let end = 1; end <= sequence.tokens.length; end++) {
    const text = tokenizer.decode(sequence.tokens.slice(0, end));
    const hit = stops.find((stop) => text.includes(stop));
    if (hit !== undefined) {
      return { tokens: sequence.tokens.slice(0, end), logprobs: sequence.logprobs?.slice(0, end) ?? null, finishReason: 'stop', stopReason: hit };
    }
  }
  return sequence;
}

/** Core BuiltinLoss → Tinker loss name, per-datum inputs and config. PPO's clipLow/clipHigh are ratio bounds (0.8, 1.28), as Tinker and the embedded model read them. */
export function builtinToWire(loss: BuiltinLoss, data: readonly TrainingDatum[]): { name: TinkerLossName; inputs: Array<Record<string, Float32Array>>; config?: Record<string, number> } {
  const masked = (values: readonly Float32Array[], d: number, what: string) => {
    const datum = data[d] as TrainingDatum;
    const row = values[d];
    if (!row || row.length !== datum.tokens.length - 1) throw new InputError(`needs ${datum.tokens.length - 1} values for datum ${d}, got ${row?.length ?? 0}`, what);
    return row.map((x, t) => x * (datum.lossMask[t] ?? 0));
  };
  const sampling = (d: number) => {
    const row = (loss as { samplingLogprobs: Float32Array[] }).samplingLogprobs[d];
    const expected = (data[d] as TrainingDatum).tokens.length - 1;
    if (!row || row.length !== expected) throw new InputError(`needs ${expected} values for datum ${d}, got ${row?.length ?? 0}`, 'loss.samplingLogprobs');
    return row;
  };
  switch (loss.kind) {
    case 'cross_entropy':
      return { name: 'cross_entropy', inputs: data.map((_, d) => ({ weights: masked(loss.weights, d, 'loss.weights') })) };
    case 'importance_sampling':
      return { name: 'importance_sampling', inputs: data.map((_, d) => ({ advantages: masked(loss.advantages, d, 'loss.advantages'), logprobs: sampling(d) })) };
    case 'ppo':
      return {
        name: 'ppo',
        inputs: data.map((_, d) => ({ advantages: masked(loss.advantages, d, 'loss.advantages'), logprobs: sampling(d) })),
        config: { clip_low_threshold: loss.clipLow, clip_high_threshold: loss.clipHigh },
      };
  }
}

function parseLogprobs(output: unknown, count: number, endpoint: string): TargetLogprobs {
  const outputs = isRecord(output) ? output['loss_fn_outputs'] : undefined;
  if (!Array.isArray(outputs) || outputs.length !== count) {
    throw new TinkerApiError(`Tinker ${endpoint} returned ${Array.isArray(outputs) ? outputs.length : 'no'} loss_fn_outputs for ${count} datums`, 200, endpoint, 'malformed result', false);
  }
  return outputs.map((entry: unknown, index) => Float32Array.from(tensorValues(isRecord(entry) ? entry['logprobs'] : undefined, `${endpoint}.loss_fn_outputs[${index}].logprobs`)));
}

function metricsOf(output: unknown): Record<string, number> {
  const metrics = isRecord(output) ? output['metrics'] : undefined;
  const result: Record<string, number> = {};
  if (isRecord(metrics)) for (const [key, value] of Object.entries(metrics)) if (typeof value === 'number') result[key] = value;
  return result;
}

export class TinkerPolicy implements PolicyBackend {
  readonly name: string;
  readonly client: TinkerClient;
  private sessionId = '';
  private modelId = '';
  private nextSeq = 1;
  private modelSeq = 0;
  private samplingSessionSeq = 0;
  private samplerSaveCount = 0;
  /** Sampling session of the current weights, or a promise of one being made. */
  private sampler: Promise<{ id: string | null }> | null = null;
  private weightsChanged = false;
  private samplingSeq = new Map<string, number>();
  private heartbeat: NodeJS.Timeout | null = null;
  /** Last heartbeat failure, for logs. */
  lastHeartbeatError: Error | null = null;
  contextWindow: number;

  private constructor(private readonly options: TinkerPolicyOptions) {
    this.name = `tinker:${options.baseModel}`;
    this.contextWindow = options.contextWindow ?? 32768;
    this.client = new TinkerClient({
      baseUrl: options.baseUrl,
      ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
      ...(options.pollTimeoutMs !== undefined ? { pollTimeoutMs: options.pollTimeoutMs } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
  }

  /** Opens a session, creates the training client (LoRA on `baseModel`), and resumes when asked. */
  static async create(options: TinkerPolicyOptions): Promise<TinkerPolicy> {
    const policy = new TinkerPolicy(options);
    await policy.start();
    return policy;
  }

  private async start(): Promise<void> {
    const capabilities = await this.client.get('/get_server_capabilities');
    const models = isRecord(capabilities) && Array.isArray(capabilities['supported_models']) ? (capabilities['supported_models'] as unknown[]) : [];
    const listed = models.find((entry) => isRecord(entry) && entry['model_name'] === this.options.baseModel);
    const names = models.map((entry) => (isRecord(entry) ? String(entry['model_name']) : '?'));
    if (models.length > 0 && !listed) throw new InputError(`${JSON.stringify(this.options.baseModel)} is not served at ${this.options.baseUrl} (it serves: ${names.join(', ')})`, 'baseModel');
    if (this.options.contextWindow === undefined && isRecord(listed) && typeof listed['max_context_length'] === 'number') this.contextWindow = listed['max_context_length'];
    const session = await this.client.post('/create_session', { tags: this.options.tags ?? ['cir'], user_metadata: null, sdk_version: 'cir-0.1.0', type: 'create_session' });
    if (!isRecord(session) || typeof session['session_id'] !== 'string') throw new TinkerApiError('Tinker create_session answered without a session_id', 200, 'POST /create_session', 'malformed', false);
    this.sessionId = session['session_id'];
    const period = this.options.heartbeatMs ?? 10_000;
    if (period > 0) {
      this.heartbeat = setInterval(() => {
        this.client.post('/session_heartbeat', { session_id: this.sessionId, type: 'session_heartbeat' }).then(
          () => (this.lastHeartbeatError = null),
          (error: unknown) => (this.lastHeartbeatError = error instanceof Error ? error : new Error(String(error))),
        );
      }, period);
      this.heartbeat.unref();
    }
    await this.createModel();
    if (this.options.resumeFrom) await this.load(this.options.resumeFrom);
  }

  private async createModel(): Promise<void> {
    const lora: Record<string, unknown> = { rank: this.options.loraRank ?? 32, train_unembed: true, train_mlp: true, train_attn: true };
    if (this.options.loraSeed !== undefined) lora['seed'] = this.options.loraSeed;
    const result = await this.guard(() =>
      this.client.submit('/create_model', { session_id: this.sessionId, model_seq_id: this.modelSeq++, base_model: this.options.baseModel, lora_config: lora, type: 'create_model' }),
    );
    if (!isRecord(result) || typeof result['model_id'] !== 'string') throw new TinkerApiError('Tinker create_model returned no model_id', 200, 'POST /create_model', 'malformed', false);
    this.modelId = result['model_id'];
    this.nextSeq = 1;
    this.sampler = null;
    this.weightsChanged = false;
  }

  get currentModelId(): string {
    return this.modelId;
  }

  get currentSessionId(): string {
    return this.sessionId;
  }

  /** Turns "session/model not found" into a clear TinkerSessionExpiredError. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof TinkerApiError && error.status === 404 && /session|model/i.test(error.detail) && !/future/i.test(error.detail)) {
        throw new TinkerSessionExpiredError(
          `the Tinker session ${this.sessionId} (model ${this.modelId}) is gone: ${error.detail}. Heartbeats keep it alive; resume from the last checkpoint with resumeFrom.`,
          this.sessionId,
        );
      }
      throw error;
    }
  }

  /** Submits one training request with the next seq_id; a refused submission gives its seq_id back. */
  private async training(path: string, body: Record<string, unknown>): Promise<unknown> {
    const seqId = this.nextSeq++;
    const payload = { model_id: this.modelId, seq_id: seqId, ...body };
    let future: unknown;
    try {
      future = await this.guard(() => this.client.post(path, payload));
    } catch (error) {
      if (error instanceof TinkerApiError && this.nextSeq === seqId + 1) this.nextSeq = seqId;
      throw error;
    }
    if (!isRecord(future) || typeof future['request_id'] !== 'string') throw new TinkerApiError(`Tinker ${path} answered without a request_id`, 200, `POST ${path}`, 'malformed', false);
    return this.guard(() => this.client.retrieve(future['request_id'] as string));
  }

  private async lossRequests(path: '/forward' | '/forward_backward', data: readonly TrainingDatum[], name: TinkerLossName, inputs: Array<Record<string, ArrayLike<number>>>, config?: Record<string, number>): Promise<{ logprobs: TargetLogprobs; metrics: Record<string, number> }> {
    const chunk = this.options.maxDatumsPerRequest ?? 1024;
    const logprobs: TargetLogprobs = [];
    const metrics: Record<string, number> = {};
    for (let start = 0; start < data.length; start += chunk) {
      const slice = data.slice(start, start + chunk);
      const input: ForwardBackwardInputWire = { data: slice.map((datum, i) => encodeDatum(datum.tokens, inputs[start + i] ?? {})), loss_fn: name };
      if (config) input.loss_fn_config = config;
      const key = path === '/forward' ? 'forward_input' : 'forward_backward_input';
      const output = await this.training(path, { [key]: input });
      logprobs.push(...parseLogprobs(output, slice.length, path));
      // Sums (loss:sum etc.) add up across chunks; other metrics keep the last chunk's value.
      for (const [metric, value] of Object.entries(metricsOf(output))) metrics[metric] = metric.endsWith(':sum') ? (metrics[metric] ?? 0) + value : value;
    }
    return { logprobs, metrics };
  }

  async forward(data: readonly TrainingDatum[]): Promise<TargetLogprobs> {
    const zero = data.map((datum) => ({ weights: new Float32Array(Math.max(0, datum.tokens.length - 1)) }));
    return (await this.lossRequests('/forward', data, 'cross_entropy', zero)).logprobs;
  }

  async forwardBackward(data: readonly TrainingDatum[], loss: TokenLossFunction | BuiltinLoss): Promise<ForwardBackwardResult> {
    if (typeof loss !== 'function') {
      const wire = builtinToWire(loss, data);
      const { logprobs, metrics } = await this.lossRequests('/forward_backward', data, wire.name, wire.inputs, wire.config);
      return { loss: metrics['loss:sum'] ?? Number.NaN, logprobs, metrics };
    }
    // forward_backward_custom: exact gradient of any loss of the log-probs via weighted cross-entropy.
    const logprobs = await this.forward(data);
    const result = loss(logprobs);
    const weights = data.map((datum, d) => {
      const gradient_T = result.gradients[d];
      if (!gradient_T || gradient_T.length !== datum.tokens.length - 1) throw new InputError(`the loss returned ${gradient_T?.length ?? 0} gradients for datum ${d} of ${datum.tokens.length - 1} targets`, 'loss');
      return { weights: gradient_T.map((g, t) => -g * (datum.lossMask[t] ?? 0)) };
    });
    const backward = await this.lossRequests('/forward_backward', data, 'cross_entropy', weights);
    return { loss: result.loss, logprobs, metrics: { ...result.metrics, 'surrogate_loss:sum': backward.metrics['loss:sum'] ?? Number.NaN } };
  }

  async optimStep(params: AdamParams): Promise<{ gradNorm: number }> {
    const output = await this.training('/optim_step', { adam_params: adamToWire(params), type: 'optim_step' });
    this.weightsChanged = true;
    this.sampler = null;
    const metrics = isRecord(output) && isRecord(output['metrics']) ? output['metrics'] : {};
    // The hosted service may not report the norm; NaN says "unknown" rather than inventing 0.
    const gradNorm = metrics['grad_norm'] ?? metrics['grad_norm:mean'] ?? metrics['optim/grad_norm'];
    return { gradNorm: typeof gradNorm === 'number' ? gradNorm : Number.NaN };
  }

  /** Saves weights and optimizer state; returns the `tinker://…/weights/<name>` path to resume from. */
  async save(name: string): Promise<string> {
    const output = await this.training('/save_weights', { path: name, overwrite: true, type: 'save_weights' });
    if (!isRecord(output) || typeof output['path'] !== 'string') throw new TinkerApiError('Tinker save_weights returned no path', 200, 'POST /save_weights', 'malformed', false);
    return output['path'];
  }

  /**
   * Loads weights and optimizer state. Tinker allows load only as a model's first request, so a
   * model that has already trained is replaced by a fresh one first.
   */
  async load(path: string): Promise<void> {
    if (this.nextSeq > 1) {
      await this.guard(() => this.client.submit('/unload_model', { model_id: this.modelId, type: 'unload_model' }));
      await this.createModel();
    }
    await this.training('/load_weights', { path, optimizer: true, type: 'load_weights' });
    this.weightsChanged = true;
    this.sampler = null;
  }

  private samplerSession(): Promise<{ id: string | null }> {
    if (!this.weightsChanged) return Promise.resolve({ id: null });
    this.sampler ??= (async () => {
      const saved = await this.training('/save_weights_for_sampler', { path: `cir-sampler-${this.samplerSaveCount++}`, type: 'save_weights_for_sampler' });
      if (!isRecord(saved) || typeof saved['path'] !== 'string') throw new TinkerApiError('Tinker save_weights_for_sampler returned no path', 200, 'POST /save_weights_for_sampler', 'malformed', false);
      const session = await this.guard(() => this.client.post('/create_sampling_session', { session_id: this.sessionId, sampling_session_seq_id: this.samplingSessionSeq++, model_path: saved['path'], type: 'create_sampling_session' }));
      if (!isRecord(session) || typeof session['sampling_session_id'] !== 'string') throw new TinkerApiError('Tinker create_sampling_session returned no id', 200, 'POST /create_sampling_session', 'malformed', false);
      return { id: session['sampling_session_id'] };
    })();
    const pending = this.sampler;
    pending.catch(() => {
      if (this.sampler === pending) this.sampler = null;
    });
    return pending;
  }

  async sample(request: SampleRequest): Promise<SampledSequence[]> {
    const { params } = request;
    const stop = stopForWire(params);
    if (stop.clientStrings.length > 0 && !this.options.tokenizer) {
      throw new UnsupportedError('Tinker takes stop strings or stop token ids per request, not both; pass a tokenizer to TinkerPolicy to apply the strings client-side');
    }
    const sampler = await this.samplerSession();
    const body: Partial<SampleRequestWire> & Record<string, unknown> = {
      num_samples: request.n ?? 1,
      prompt: modelInput(request.promptTokens),
      sampling_params: { max_tokens: params.maxTokens, temperature: params.temperature, top_p: params.topP, top_k: params.topK > 0 ? params.topK : -1, seed: params.seed ?? null, stop: stop.wire },
      prompt_logprobs: false,
      topk_prompt_logprobs: 0,
      type: 'sample',
    };
    if (sampler.id === null) body['base_model'] = this.options.baseModel;
    else {
      const seq = this.samplingSeq.get(sampler.id) ?? 0;
      this.samplingSeq.set(sampler.id, seq + 1);
      body['sampling_session_id'] = sampler.id;
      body['seq_id'] = seq;
    }
    const output = await this.guard(() => this.client.submit('/asample', body, request.signal));
    const sequences = isRecord(output) && Array.isArray(output['sequences']) ? (output['sequences'] as unknown[]) : null;
    if (!sequences) throw new TinkerApiError('Tinker asample returned no sequences', 200, 'POST /asample', 'malformed', false);
    const stopIds = new Set(params.stopTokenIds ?? []);
    return sequences.map((entry) => {
      const wire = isRecord(entry) ? entry : {};
      const tokens = Array.isArray(wire['tokens']) ? (wire['tokens'] as number[]) : [];
      const logprobs = Array.isArray(wire['logprobs']) ? (wire['logprobs'] as number[]) : null;
      const finishReason = finishReasonFromWire(wire['stop_reason']);
      const last = tokens[tokens.length - 1];
      let stopReason: string | number | null = null;
      if (finishReason === 'stop' && last !== undefined && stopIds.has(last)) stopReason = last;
      else if (finishReason === 'stop' && stop.wire && typeof stop.wire[0] === 'string' && this.options.tokenizer) {
        const text = this.options.tokenizer.decode(tokens);
        stopReason = (stop.wire as string[]).find((s) => text.includes(s)) ?? null;
      }
      const sequence: SampledSequence = { tokens, logprobs, finishReason, stopReason };
      return this.options.tokenizer ? applyStopStrings(sequence, stop.clientStrings, this.options.tokenizer) : sequence;
    });
  }

  /** Stops heartbeats and unloads the model (best effort). */
  async close(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    try {
      await this.client.submit('/unload_model', { model_id: this.modelId, type: 'unload_model' });
    } catch {
      // The server may already have dropped it (expired session); nothing to undo.
    }
  }
}

/** The factory the trainer calls for `cir train --backend tinker --base-url URL`. */
export function createTinkerPolicy(options: TinkerPolicyOptions): Promise<TinkerPolicy> {
  return TinkerPolicy.create(options);
}
