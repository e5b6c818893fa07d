/**
 * `TinkerPolicy implements PolicyBackend` over the Tinker REST API, so the trainer can drive a
 * remote LoRA (hosted Tinker, SkyRL's server, or `cir serve`) exactly as it drives the embedded
 * model. Checked against thinking-machines-lab/tinker @ d595dc2 (v0.25.0) and NovaSky-AI/SkyRL
 * @ a956457 (skyrl/tinker); docs/serve.md has the endpoint table.
 *
 * - Wire: `/client/config` first; forward_backward (and forward, as `forward_only`) as protobuf
 *   unless the server says `proto_write_fwdbwd: false` (then JSON, with `/forward`). Bodies go
 *   uncompressed: servers decompress only when `Content-Encoding: zstd` is set. Batches are split
 *   by count and by estimated bytes (the SDK's estimate and limits: 1024 datums, 5 MB).
 * - Losses: the core BuiltinLoss kinds map to Tinker's built-ins (token sums; masks become zero
 *   weights/advantages). A TokenLossFunction (e.g. the paper's dual-clip token-mean loss) runs as
 *   Tinker's "forward_backward_custom": a forward pass for the learner log-probs, the function's
 *   gradient g = dL/dlogp computed here, then a cross-entropy forward_backward with weights −g.
 *   That forward_backward and the next optim_step are submitted back to back (pipelined); their
 *   results are awaited together in `optimStep`.
 * - Sampling: after a weight change, a temporary sampler snapshot tied to a new sampling session
 *   (`save_weights_for_sampler` with `sampling_session_seq_id`, no name): nothing persists per step.
 * - seq_ids are consecutive; one is given back only when the server surely refused it (4xx).
 */
import { InputError, UnsupportedError } from '../core/errors.js';
import type { AdamParams, BuiltinLoss, ForwardBackwardResult, PolicyBackend, TargetLogprobs, TokenLossFunction, TrainingDatum } from '../core/policy.js';
import type { SampledSequence, SampleRequest, SamplingParams } from '../core/sampling.js';
import type { Tokenizer } from '../core/tokenizer.js';
import { tinkerLoss, type TinkerLossName } from '../core/builtin-losses.js';
import { TinkerApiError, TinkerClient, TinkerFutureError, TinkerSessionExpiredError, futureId, type Clock, type FetchFunction, type RequestBody, type ServerConfig } from './tinker-client.js';
import { PROTOBUF_CONTENT_TYPE, decodeForwardBackwardOutput, decodeSampleResponse, encodeForwardBackwardRequest, type ForwardBackwardRequestWire } from './tinker-proto.js';
import { adamToWire, encodeDatum, finishReasonFromWire, formatTinkerPath, isRecord, modelInput, tensorValues, type DatumWire, type SampleRequestWire } from './tinker-wire.js';

/** The SDK version whose wire this client speaks (sent to `/client/config` for flag resolution). */
export const TINKER_WIRE_SDK_VERSION = '0.25.0';

export interface TinkerPolicyOptions {
  /** `http://127.0.0.1:8000` for SkyRL or `cir serve`, or the hosted URL. */
  baseUrl: string;
  /** Hosted: from TINKER_API_KEY. SkyRL and loopback `cir serve` need none. */
  apiKey?: string;
  /** e.g. `Qwen/Qwen2.5-Math-7B`; must be one the server lists. */
  baseModel: string;
  /** LoRA rank sent in create_model; default 32. */
  loraRank?: number;
  /** LoRA init seed. */
  loraSeed?: number;
  /** Prompt + completion limit; default the server's max_context_length, required when the server reports none (SkyRL). */
  contextWindow?: number;
  /** A `tinker://…/weights/<name>` checkpoint to resume from (weights and optimizer state). */
  resumeFrom?: string;
  /** Needed only to honour stop strings together with stop token ids (Tinker accepts one kind per call). */
  tokenizer?: Tokenizer;
  /** Datums per forward_backward request; default and ceiling: the server's `fwdbwd_max_chunk_len` (1024). */
  maxDatumsPerRequest?: number;
  /** Estimated bytes per forward_backward request; default and ceiling: the server's `fwdbwd_max_chunk_bytes_count` (5 MB). */
  maxBytesPerRequest?: number;
  /** forward_backward encoding; `auto` (default) follows `/client/config`. */
  forwardEncoding?: 'auto' | 'protobuf' | 'json';
  /** `reference`: a second model kept frozen for a KL term (refusals then say so). */
  role?: 'policy' | 'reference';
  /** Heartbeat period; 0 disables (tests). Default 10 s. */
  heartbeatMs?: number;
  tags?: string[];
  fetch?: FetchFunction;
  clock?: Clock;
  maxRetries?: number;
  pollTimeoutMs?: number;
  timeoutMs?: number;
  /** Where warnings go (a metric the server does not report, …); default stderr, each once. */
  onWarning?: (message: string) => void;
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

/** The summed loss under the names servers use: hosted and cir serve `loss:sum`, SkyRL's FSDP backend `total_loss:sum` (skyrl_train_backend.py @ a956457); SkyRL's JAX backend reports none. */
export function reportedLoss(metrics: Record<string, number>): number | null {
  for (const key of ['loss:sum', 'total_loss:sum']) if (typeof metrics[key] === 'number' && Number.isFinite(metrics[key])) return metrics[key];
  return null;
}

/** The gradient norm under the names servers use: cir serve `grad_norm`, SkyRL `skyrl.ai/grad_norm` (jax.py, skyrl_train_backend.py @ a956457); the hosted service may report none. */
export function reportedGradNorm(metrics: Record<string, unknown>): number | null {
  for (const key of ['grad_norm', 'skyrl.ai/grad_norm', 'grad_norm:mean', 'optim/grad_norm']) if (typeof metrics[key] === 'number' && Number.isFinite(metrics[key])) return metrics[key];
  return null;
}

/** The SDK's request-size estimate (training_client.py @ d595dc2): 4 bytes per token plus each tensor's bytes. */
export function estimatedDatumBytes(datum: DatumWire): number {
  let bytes = 0;
  for (const chunk of datum.model_input.chunks) bytes += 4 * chunk.tokens.length;
  for (const tensor of Object.values(datum.loss_fn_inputs)) bytes += tensor.data.length * (tensor.dtype === 'int64' ? 8 : 4);
  return bytes;
}

/** Splits datums into requests of at most `maxCount` datums and `maxBytes` estimated bytes (a datum over the limit goes alone). */
export function chunkDatums(data: readonly DatumWire[], maxCount: number, maxBytes: number): Array<{ start: number; data: DatumWire[] }> {
  const chunks: Array<{ start: number; data: DatumWire[] }> = [];
  let current: DatumWire[] = [];
  let bytes = 0;
  let start = 0;
  data.forEach((datum, index) => {
    const size = estimatedDatumBytes(datum);
    if (current.length > 0 && (bytes + size > maxBytes || current.length >= maxCount)) {
      chunks.push({ start, data: current });
      current = [];
      bytes = 0;
      start = index;
    }
    current.push(datum);
    bytes += size;
  });
  if (current.length > 0) chunks.push({ start, data: current });
  return chunks;
}

/** "Model … not loaded": how SkyRL fails the futures of a model its stale-session cleanup unloaded (engine.py @ a956457). */
const MODEL_NOT_LOADED = /model \S+ not (loaded|found)/i;

interface PendingRequest {
  requestId: string;
  path: string;
  protobuf: boolean;
}

export class TinkerPolicy implements PolicyBackend {
  readonly name: string;
  readonly client: TinkerClient;
  private sessionId = '';
  private modelId = '';
  private nextSeq = 1;
  private modelSeq = 0;
  private samplingSessionSeq = 0;
  /** Sampling session of the current weights, or a promise of one being made. */
  private sampler: Promise<{ id: string | null }> | null = null;
  private weightsChanged = false;
  private samplingSeq = new Map<string, number>();
  private heartbeat: NodeJS.Timeout | null = null;
  /** Submitted training requests whose results nobody has awaited yet (pipelining). */
  private pending: PendingRequest[] = [];
  private readonly warned = new Set<string>();
  /** What the server's `/client/config` said. */
  serverConfig: ServerConfig | null = null;
  /** forward_backward encoding in use. */
  encoding: 'protobuf' | 'json' = 'protobuf';
  /** The last checkpoint this policy saved or loaded, which `recover` reloads. */
  lastCheckpoint: string | null = null;
  /** Last heartbeat failure, for logs. */
  lastHeartbeatError: Error | null = null;
  contextWindow: number;

  private constructor(private readonly options: TinkerPolicyOptions) {
    this.name = `tinker:${options.baseModel}`;
    this.contextWindow = options.contextWindow ?? 0;
    this.lastCheckpoint = options.resumeFrom ?? null;
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

  private warn(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    (this.options.onWarning ?? ((text: string) => process.stderr.write(`warning: ${text}\n`)))(message);
  }

  private async start(): Promise<void> {
    this.serverConfig = await this.client.serverConfig(TINKER_WIRE_SDK_VERSION);
    const wanted = this.options.forwardEncoding ?? 'auto';
    this.encoding = wanted === 'auto' ? (this.serverConfig.protoWriteFwdbwd === false ? 'json' : 'protobuf') : wanted;
    if (this.serverConfig.pjwtAuthEnabled || this.serverConfig.credentialDefaultSource !== 'api_key') {
      this.warn('auth', `the Tinker server at ${this.options.baseUrl} prefers ${this.serverConfig.pjwtAuthEnabled ? 'JWT auth (pjwt_auth_enabled)' : `credentials from ${this.serverConfig.credentialDefaultSource}`}, which cir does not implement; it sends the API key as X-API-Key`);
    }
    const capabilities = await this.client.get('/get_server_capabilities');
    const models = isRecord(capabilities) && Array.isArray(capabilities['supported_models']) ? (capabilities['supported_models'] as unknown[]) : [];
    const listed = models.find((entry) => isRecord(entry) && entry['model_name'] === this.options.baseModel);
    const names = models.map((entry) => (isRecord(entry) ? String(entry['model_name']) : '?'));
    if (models.length > 0 && !listed) throw new InputError(`${JSON.stringify(this.options.baseModel)} is not served at ${this.options.baseUrl} (it serves: ${names.join(', ')})`, 'baseModel');
    if (this.options.contextWindow === undefined) {
      const reported = isRecord(listed) ? listed['max_context_length'] : undefined;
      if (typeof reported !== 'number' || !Number.isInteger(reported) || reported < 2) {
        throw new InputError(`the server at ${this.options.baseUrl} reports no max_context_length for ${this.options.baseModel} (SkyRL does not): give the context window explicitly`, 'contextWindow');
      }
      this.contextWindow = reported;
    }
    await this.openSession();
    await this.createModel();
    if (this.options.resumeFrom) await this.load(this.options.resumeFrom);
  }

  private async openSession(): Promise<void> {
    const session = await this.client.post('/create_session', { tags: this.options.tags ?? ['cir'], user_metadata: null, sdk_version: TINKER_WIRE_SDK_VERSION, type: 'create_session' });
    if (!isRecord(session) || typeof session['session_id'] !== 'string') throw new TinkerApiError('Tinker create_session answered without a session_id', 200, 'POST /create_session', 'malformed', false);
    this.sessionId = session['session_id'];
    this.modelSeq = 0;
    this.samplingSessionSeq = 0;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    const period = this.options.heartbeatMs ?? 10_000;
    if (period > 0) {
      const sessionId = this.sessionId;
      this.heartbeat = setInterval(() => {
        this.client.post('/session_heartbeat', { session_id: sessionId, type: 'session_heartbeat' }).then(
          () => (this.lastHeartbeatError = null),
          (error: unknown) => (this.lastHeartbeatError = error instanceof Error ? error : new Error(String(error))),
        );
      }, period);
      this.heartbeat.unref();
    }
  }

  private async createModel(): Promise<void> {
    const lora: Record<string, unknown> = { rank: this.options.loraRank ?? 32, train_unembed: true, train_mlp: true, train_attn: true };
    if (this.options.loraSeed !== undefined) lora['seed'] = this.options.loraSeed;
    let result: unknown;
    try {
      result = await this.guard(() => this.client.submit('/create_model', { session_id: this.sessionId, model_seq_id: this.modelSeq++, base_model: this.options.baseModel, lora_config: lora, type: 'create_model' }));
    } catch (error) {
      if (this.options.role === 'reference' && (error instanceof TinkerApiError || error instanceof TinkerFutureError)) {
        throw new UnsupportedError(
          `the Tinker server at ${this.options.baseUrl} refused a second model for the KL reference (${error.message}); set the KL coefficient to 0, or use a server that holds several models (cir serve --max-models 2 or more; SkyRL only on its Megatron backend)`,
          { cause: error },
        );
      }
      throw error;
    }
    const modelId = isRecord(result) && typeof result['model_id'] === 'string' ? result['model_id'] : null;
    if (modelId === null) throw new TinkerApiError('Tinker create_model returned no model_id', 200, 'POST /create_model', 'malformed', false);
    this.modelId = modelId;
    this.nextSeq = 1;
    this.sampler = null;
    this.weightsChanged = false;
    this.pending = [];
  }

  get currentModelId(): string {
    return this.modelId;
  }

  get currentSessionId(): string {
    return this.sessionId;
  }

  /** Turns "session/model gone" (404, or SkyRL's "model not loaded" futures) into a clear TinkerSessionExpiredError. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const gone =
        (error instanceof TinkerApiError && error.status === 404 && /session|model/i.test(error.detail) && !/future/i.test(error.detail)) ||
        ((error instanceof TinkerFutureError || error instanceof TinkerApiError) && MODEL_NOT_LOADED.test(error.detail));
      if (gone) {
        throw new TinkerSessionExpiredError(
          `the Tinker session ${this.sessionId} (model ${this.modelId}) is gone: ${(error as TinkerApiError).detail}. Heartbeats keep it alive; call recover() to reopen it from the last checkpoint (${this.lastCheckpoint ?? 'none: training restarts from the base model'}).`,
          this.sessionId,
        );
      }
      throw error;
    }
  }

  /**
   * After a TinkerSessionExpiredError: a new session and model, loaded from the last checkpoint this
   * policy saved or loaded (weights and optimizer). Returns that path, or null when there was none.
   */
  async recover(): Promise<string | null> {
    this.pending = [];
    await this.openSession();
    await this.createModel();
    const checkpoint = this.lastCheckpoint;
    if (checkpoint !== null) await this.load(checkpoint);
    return checkpoint;
  }

  /**
   * Posts one training request with the next seq_id and returns its future without waiting for the
   * result. The seq_id is given back only when the server surely refused the request (4xx other
   * than 409): after a 5xx or a lost connection it may have been accepted.
   */
  private async submitTraining(path: string, body: Record<string, unknown> | ((seqId: number) => RequestBody), protobuf = false): Promise<PendingRequest> {
    const seqId = this.nextSeq++;
    const request: RequestBody = typeof body === 'function' ? body(seqId) : { json: { model_id: this.modelId, seq_id: seqId, ...body } };
    let future: unknown;
    try {
      future = (await this.guard(() => this.client.call('POST', path, request))).json;
    } catch (error) {
      const refused = error instanceof TinkerApiError && error.status >= 400 && error.status < 500 && error.status !== 409;
      if (refused && this.nextSeq === seqId + 1) this.nextSeq = seqId;
      throw error;
    }
    return { requestId: futureId(future, path), path, protobuf };
  }

  private async result(request: PendingRequest): Promise<unknown> {
    return this.guard(() => this.client.retrieve(request.requestId, undefined, request.protobuf));
  }

  /** Awaits every pipelined request, so their failures surface before anything else runs. */
  private async settlePending(): Promise<void> {
    const pending = this.pending;
    this.pending = [];
    await Promise.all(pending.map((request) => this.result(request)));
  }

  private async training(path: string, body: Record<string, unknown>): Promise<unknown> {
    await this.settlePending();
    return this.result(await this.submitTraining(path, body));
  }

  /** Posts the loss requests of a batch back to back (in seq_id order) and returns their futures. */
  private async submitLoss(forwardOnly: boolean, data: readonly TrainingDatum[], name: TinkerLossName, inputs: ReadonlyArray<Record<string, ArrayLike<number>>>, config?: Record<string, number>): Promise<Array<{ start: number; count: number; request: PendingRequest }>> {
    const wire = data.map((datum, i) => encodeDatum(datum.tokens, inputs[i] ?? {}));
    const server = this.serverConfig;
    const maxCount = Math.min(this.options.maxDatumsPerRequest ?? Infinity, server?.fwdbwdMaxChunkLen ?? 1024);
    const maxBytes = Math.min(this.options.maxBytesPerRequest ?? Infinity, server?.fwdbwdMaxChunkBytes ?? 5_000_000);
    const submitted: Array<{ start: number; count: number; request: PendingRequest }> = [];
    for (const chunk of chunkDatums(wire, maxCount, maxBytes)) {
      const input: ForwardBackwardRequestWire['forward_backward_input'] = { data: chunk.data, loss_fn: name };
      if (config) input.loss_fn_config = config;
      let request: PendingRequest;
      if (this.encoding === 'protobuf') {
        try {
          request = await this.submitTraining('/forward_backward', (seqId) => ({ bytes: encodeForwardBackwardRequest({ model_id: this.modelId, seq_id: seqId, forward_backward_input: input }, forwardOnly), contentType: PROTOBUF_CONTENT_TYPE }), true);
        } catch (error) {
          // A server from before SDK 0.25 that reads only JSON refuses the body itself.
          if (error instanceof TinkerApiError && [400, 415, 422].includes(error.status) && /json|proto|content.type|decode|parse/i.test(error.detail)) {
            throw new UnsupportedError(`the Tinker server at ${this.options.baseUrl} refused the protobuf forward_backward (HTTP ${error.status}: ${error.detail}); it may predate SDK 0.25: pass forwardEncoding: 'json'`, { cause: error });
          }
          throw error;
        }
      } else {
        request = await this.submitTraining(forwardOnly ? '/forward' : '/forward_backward', { [forwardOnly ? 'forward_input' : 'forward_backward_input']: input });
      }
      submitted.push({ start: chunk.start, count: chunk.data.length, request });
    }
    return submitted;
  }

  /** Awaits loss requests: log-probs in datum order, and metrics (sums add up across chunks; others keep the last value). */
  private async lossResults(submitted: Array<{ count: number; request: PendingRequest }>): Promise<{ logprobs: TargetLogprobs; metrics: Record<string, number> }> {
    const outputs = await Promise.all(submitted.map(async ({ request }) => {
      const answer = await this.result(request);
      return answer instanceof Uint8Array ? decodeForwardBackwardOutput(answer) : answer;
    }));
    const logprobs: TargetLogprobs = [];
    const metrics: Record<string, number> = {};
    outputs.forEach((output, i) => {
      const { count, request } = submitted[i] as { count: number; request: PendingRequest };
      logprobs.push(...parseLogprobs(output, count, request.path));
      for (const [metric, value] of Object.entries(metricsOf(output))) metrics[metric] = metric.endsWith(':sum') ? (metrics[metric] ?? 0) + value : value;
    });
    return { logprobs, metrics };
  }

  async forward(data: readonly TrainingDatum[]): Promise<TargetLogprobs> {
    await this.settlePending();
    const zero = data.map((datum) => ({ weights: new Float32Array(Math.max(0, datum.tokens.length - 1)) }));
    return (await this.lossResults(await this.submitLoss(true, data, 'cross_entropy', zero))).logprobs;
  }

  async forwardBackward(data: readonly TrainingDatum[], loss: TokenLossFunction | BuiltinLoss): Promise<ForwardBackwardResult> {
    await this.settlePending();
    if (typeof loss !== 'function') {
      const wire = builtinToWire(loss, data);
      const { logprobs, metrics } = await this.lossResults(await this.submitLoss(false, data, wire.name, wire.inputs, wire.config));
      let value = reportedLoss(metrics);
      if (value === null) {
        // SkyRL's JAX backend reports no loss: the same definition over the returned (pre-update) log-probs.
        value = tinkerLoss(wire.name, wire.inputs, wire.config)(logprobs).loss;
        metrics['loss:sum'] = value;
        this.warn('loss', `the Tinker server at ${this.options.baseUrl} reports no summed loss (loss:sum, total_loss:sum); cir computes it from the returned log-probs`);
      }
      return { loss: value, logprobs, metrics };
    }
    // forward_backward_custom: exact gradient of any loss of the log-probs via weighted cross-entropy.
    const logprobs = await this.forward(data);
    const result = loss(logprobs);
    const weights = data.map((datum, d) => {
      const gradient_T = result.gradients[d];
      if (!gradient_T || gradient_T.length !== datum.tokens.length - 1) throw new InputError(`the loss returned ${gradient_T?.length ?? 0} gradients for datum ${d} of ${datum.tokens.length - 1} targets`, 'loss');
      return { weights: gradient_T.map((g, t) => -g * (datum.lossMask[t] ?? 0)) };
    });
    // Submitted, not awaited: optimStep follows right behind it and awaits both.
    this.pending.push(...(await this.submitLoss(false, data, 'cross_entropy', weights)).map((entry) => entry.request));
    return { loss: result.loss, logprobs, metrics: result.metrics };
  }

  async optimStep(params: AdamParams): Promise<{ gradNorm: number }> {
    const pending = this.pending;
    this.pending = [];
    const step = await this.submitTraining('/optim_step', { adam_params: adamToWire(params), type: 'optim_step' });
    const [output] = await Promise.all([this.result(step), ...pending.map((request) => this.result(request))]);
    this.weightsChanged = true;
    this.sampler = null;
    const gradNorm = reportedGradNorm(isRecord(output) && isRecord(output['metrics']) ? output['metrics'] : {});
    if (gradNorm === null) this.warn('grad_norm', `the Tinker server at ${this.options.baseUrl} reports no gradient norm (grad_norm, skyrl.ai/grad_norm); it is logged as NaN ("unknown")`);
    return { gradNorm: gradNorm ?? Number.NaN };
  }

  /**
   * Saves weights and optimizer state; returns the `tinker://…/weights/<name>` path to resume from.
   * A 409 "already exists" after an attempt whose answer was lost is this client's own save having
   * succeeded (the SDK likewise returned the expected path, training_client.py @ 15cfa77); on a
   * first attempt it is a name taken by another run and stays an error.
   */
  async save(name: string): Promise<string> {
    await this.settlePending();
    let output: unknown;
    try {
      output = await this.result(await this.submitTraining('/save_weights', { path: name, type: 'save_weights' }));
    } catch (error) {
      if (error instanceof TinkerApiError && error.status === 409 && /already exists/i.test(error.detail)) {
        if (error.afterUncertainAttempt) {
          const path = formatTinkerPath({ modelId: this.modelId, kind: 'weights', name });
          this.lastCheckpoint = path;
          return path;
        }
        throw new TinkerApiError(`Tinker checkpoint name ${JSON.stringify(name)} is already taken (${error.detail}); choose another name`, 409, error.endpoint, error.detail, false, error.requestId);
      }
      throw error;
    }
    if (!isRecord(output) || typeof output['path'] !== 'string') throw new TinkerApiError('Tinker save_weights returned no path', 200, 'POST /save_weights', 'malformed', false);
    this.lastCheckpoint = output['path'];
    return output['path'];
  }

  /**
   * Loads weights and optimizer state. Tinker allows load only as a model's first request, so a
   * model that has already trained is replaced by a fresh one first.
   */
  async load(path: string): Promise<void> {
    await this.settlePending();
    if (this.nextSeq > 1) {
      await this.guard(() => this.client.submit('/unload_model', { model_id: this.modelId, type: 'unload_model' }));
      await this.createModel();
    }
    await this.training('/load_weights', { path, optimizer: true, type: 'load_weights' });
    this.lastCheckpoint = path;
    this.weightsChanged = true;
    this.sampler = null;
  }

  /** A sampling session on a temporary snapshot of the current weights (none is kept once the session ends). */
  private samplerSession(): Promise<{ id: string | null }> {
    if (!this.weightsChanged) return Promise.resolve({ id: null });
    this.sampler ??= (async () => {
      const saved = await this.training('/save_weights_for_sampler', { sampling_session_seq_id: this.samplingSessionSeq++, type: 'save_weights_for_sampler' });
      if (isRecord(saved) && typeof saved['sampling_session_id'] === 'string') return { id: saved['sampling_session_id'] };
      if (!isRecord(saved) || typeof saved['path'] !== 'string') throw new TinkerApiError('Tinker save_weights_for_sampler returned neither a sampling_session_id nor a path', 200, 'POST /save_weights_for_sampler', 'malformed', false);
      // A server that saved a snapshot but made no session: open one on it.
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
    await this.settlePending();
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
    const answer = await this.guard(() => this.client.submit('/asample', body, request.signal, true));
    const output = answer instanceof Uint8Array ? decodeSampleResponse(answer) : answer;
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
      await this.settlePending();
    } catch {
      // Closing anyway; the caller saw or will see nothing more from this model.
    }
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
