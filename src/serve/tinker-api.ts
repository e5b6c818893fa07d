/**
 * The subset of the Tinker REST API the trainer uses (protocols.md §1), over one PolicyBackend:
 * sessions with heartbeats and expiry, one trainable model at a time, training requests executed
 * in `seq_id` order with replay de-duplication (as SkyRL does), futures with long-poll
 * `retrieve_future` (408 while running, 400 `{"detail"}` on failure, 404 unknown), sampling
 * sessions, and checkpoints confined to one folder.
 *
 * Differences from the hosted service, by design: the server holds ONE set of weights, so
 * sampling always uses the current weights (a sampler saved before a later optim_step is refused
 * as stale rather than silently served), LoRA settings are accepted and recorded but training
 * updates the full model, and targets must be the input shifted by one.
 */
import { randomBytes } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import { join, relative, isAbsolute, resolve } from 'node:path';
import { InputError } from '../core/errors.js';
import type { PolicyBackend, TrainingDatum } from '../core/policy.js';
import type { SamplingParams } from '../core/sampling.js';
import type { Tokenizer } from '../core/tokenizer.js';
import { tinkerLoss, type LossInputs } from '../engines/tinker-losses.js';
import {
  CHECKPOINT_NAME_PATTERN,
  TINKER_LOSS_NAMES,
  adamFromWire,
  decodeDatum,
  formatTinkerPath,
  intArray,
  isRecord,
  modelInputTokens,
  parseTinkerPath,
  tensor,
  type ForwardBackwardOutputWire,
  type SampleResponseWire,
  type TinkerLossName,
} from '../engines/tinker-wire.js';
import { HttpError, toHttpError, type ReadWriteLock } from './http.js';

export interface TinkerLimits {
  maxDatums: number;
  maxSamples: number;
  maxTokens: number;
  maxPromptTokens: number;
}

export interface TinkerServiceOptions {
  backend: PolicyBackend;
  tokenizer: Tokenizer;
  modelName: string;
  /** Folder every checkpoint path over the API resolves into. */
  checkpointDir: string;
  lock: ReadWriteLock;
  limits: TinkerLimits;
  /** A session with no request for this long expires and its model is unloaded (SkyRL: 300 s). */
  sessionTimeoutMs: number;
  /** How long `retrieve_future` holds the call before answering 408 (SkyRL: 300 s). */
  futureHoldMs: number;
  /** How long finished futures are kept. */
  futureTtlMs: number;
  now: () => number;
}

interface Future {
  state: 'pending' | 'done' | 'failed';
  result?: unknown;
  error?: HttpError;
  finishedAt?: number;
  waiters: Set<() => void>;
}

interface Session {
  lastSeen: number;
}

interface TrainingRequest {
  seqId: number;
  bodyKey: string;
  requestId: string;
  run: () => Promise<unknown>;
}

interface Model {
  id: string;
  sessionId: string;
  loraRank: number;
  nextSeq: number;
  pending: Map<number, TrainingRequest>;
  /** seq_id → request already accepted (for replay de-duplication). */
  accepted: Map<number, { bodyKey: string; requestId: string }>;
  draining: boolean;
}

interface SamplingSession {
  sessionId: string;
  /** Weights version the session samples, or null for "whatever is current" (base_model sessions). */
  weightsVersion: number | null;
  modelPath: string | null;
}

function id(prefix: string): string {
  return `${prefix}${randomBytes(6).toString('hex')}`;
}

function field<T>(body: Record<string, unknown>, key: string, check: (value: unknown) => value is T, rule: string): T {
  const value = body[key];
  if (!check(value)) throw new HttpError(422, `${key} must be ${rule}, got ${JSON.stringify(value)}`, key);
  return value;
}
const isString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0;

export class TinkerService {
  private readonly sessions = new Map<string, Session>();
  private readonly models = new Map<string, Model>();
  private readonly futures = new Map<string, Future>();
  private readonly samplingSessions = new Map<string, SamplingSession>();
  /** Persistent sampler saves: name → weights version at save time. */
  private readonly samplerWeights = new Map<string, number>();
  private weightsVersion = 0;
  private baseSnapshot: string | null = null;
  private modelsCreated = 0;

  constructor(private readonly options: TinkerServiceOptions) {}

  /** Saves the starting weights so a later create_model starts from them, as a fresh LoRA would. */
  async init(): Promise<void> {
    this.baseSnapshot = await this.savedInside('.base');
  }

  /** Routes one POST/GET under /api/v1; returns the JSON answer and its status. */
  async handle(method: string, path: string, body: Record<string, unknown>): Promise<{ status: number; body: unknown }> {
    this.sweep();
    const ok = (value: unknown) => ({ status: 200, body: value });
    if (method === 'GET' && path === '/healthz') return ok({ status: 'ok' });
    if (method === 'GET' && path === '/get_server_capabilities') {
      return ok({ supported_models: [{ model_name: this.options.modelName, max_context_length: this.options.backend.contextWindow }] });
    }
    if (method === 'GET' && path.startsWith('/samplers/')) {
      const sessionId = decodeURIComponent(path.slice('/samplers/'.length));
      const sampler = this.samplingSessions.get(sessionId);
      if (!sampler) throw new HttpError(404, `sampling session ${sessionId} not found`);
      return ok({ sampler_id: sessionId, base_model: this.options.modelName, model_path: sampler.modelPath });
    }
    if (method !== 'POST') throw new HttpError(405, `${method} ${path} is not supported`);
    switch (path) {
      case '/client/config':
        return ok({ pjwt_auth_enabled: false });
      case '/create_session': {
        const sessionId = id('session_');
        this.sessions.set(sessionId, { lastSeen: this.options.now() });
        return ok({ session_id: sessionId });
      }
      case '/session_heartbeat':
        this.touchSession(field(body, 'session_id', isString, 'a session id'));
        return ok({ type: 'session_heartbeat' });
      case '/create_model':
        return ok(this.createModel(body));
      case '/get_info': {
        const model = this.model(field(body, 'model_id', isString, 'a model id'));
        return ok({ model_id: model.id, status: 'ready', model_data: { base_model: this.options.modelName, arch: this.options.backend.name, model_name: this.options.modelName, tokenizer_id: this.options.tokenizer.name, lora_config: { rank: model.loraRank } }, is_lora: false, lora_rank: model.loraRank, model_name: this.options.modelName });
      }
      case '/unload_model': {
        const model = this.model(field(body, 'model_id', isString, 'a model id'));
        this.models.delete(model.id);
        return ok(this.resolved({ model_id: model.id, type: 'unload_model' }, model.id));
      }
      case '/forward':
      case '/forward_backward':
      case '/optim_step':
      case '/save_weights':
      case '/save_weights_for_sampler':
      case '/load_weights':
        return ok(this.training(path.slice(1), body));
      case '/create_sampling_session':
        return ok({ sampling_session_id: this.createSamplingSession(body) });
      case '/asample':
        return ok(this.sample(body));
      case '/retrieve_future':
        return this.retrieve(field(body, 'request_id', isString, 'a request id'));
      default:
        throw new HttpError(404, `${path} is not part of the Tinker subset this server speaks`);
    }
  }

  /** Expires idle sessions (unloading their models) and forgets old futures. */
  private sweep(): void {
    const now = this.options.now();
    for (const [sessionId, session] of this.sessions) {
      if (now - session.lastSeen <= this.options.sessionTimeoutMs) continue;
      this.sessions.delete(sessionId);
      for (const [modelId, model] of this.models) if (model.sessionId === sessionId) this.models.delete(modelId);
      for (const [samplerId, sampler] of this.samplingSessions) if (sampler.sessionId === sessionId) this.samplingSessions.delete(samplerId);
    }
    for (const [requestId, future] of this.futures) {
      if (future.finishedAt !== undefined && now - future.finishedAt > this.options.futureTtlMs) this.futures.delete(requestId);
    }
  }

  private touchSession(sessionId: string): void {
    const session = this.sessions.get(sessionId);
    if (!session) throw new HttpError(404, `session ${sessionId} not found (expired after ${this.options.sessionTimeoutMs / 1000} s without requests, or never created)`);
    session.lastSeen = this.options.now();
  }

  private model(modelId: string): Model {
    const model = this.models.get(modelId);
    if (!model) throw new HttpError(404, `model ${modelId} not found (unloaded, or its session expired)`);
    this.touchSession(model.sessionId);
    return model;
  }

  private newFuture(): { requestId: string; future: Future } {
    const requestId = id('req_');
    const future: Future = { state: 'pending', waiters: new Set() };
    this.futures.set(requestId, future);
    return { requestId, future };
  }

  private settle(future: Future, outcome: { result: unknown } | { error: unknown }): void {
    if ('result' in outcome) {
      future.state = 'done';
      future.result = outcome.result;
    } else {
      future.state = 'failed';
      future.error = toHttpError(outcome.error);
    }
    future.finishedAt = this.options.now();
    for (const wake of future.waiters) wake();
    future.waiters.clear();
  }

  private run(work: () => Promise<unknown>, modelId?: string): { request_id: string; model_id?: string } {
    const { requestId, future } = this.newFuture();
    work().then(
      (result) => this.settle(future, { result }),
      (error: unknown) => this.settle(future, { error }),
    );
    return modelId === undefined ? { request_id: requestId } : { request_id: requestId, model_id: modelId };
  }

  private resolved(result: unknown, modelId: string): { request_id: string; model_id: string } {
    return this.run(async () => result, modelId) as { request_id: string; model_id: string };
  }

  private async retrieve(requestId: string): Promise<{ status: number; body: unknown }> {
    const future = this.futures.get(requestId);
    if (!future) throw new HttpError(404, 'Future not found');
    if (future.state === 'pending') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          future.waiters.delete(wake);
          resolve();
        }, this.options.futureHoldMs);
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        future.waiters.add(wake);
      });
    }
    if (future.state === 'pending') return { status: 408, body: { detail: 'Timeout waiting for result' } };
    if (future.state === 'failed') {
      const error = future.error as HttpError;
      return { status: error.status >= 500 ? 500 : 400, body: { detail: error.message } };
    }
    return { status: 200, body: future.result };
  }

  private createModel(body: Record<string, unknown>): { request_id: string; model_id: string } {
    const sessionId = field(body, 'session_id', isString, 'a session id');
    this.touchSession(sessionId);
    const baseModel = field(body, 'base_model', isString, 'a model name');
    if (baseModel !== this.options.modelName) throw new HttpError(400, `base_model ${JSON.stringify(baseModel)} is not served here; this server serves ${JSON.stringify(this.options.modelName)}`, 'base_model');
    const lora = body['lora_config'];
    const rank = isRecord(lora) && lora['rank'] !== undefined ? lora['rank'] : 32;
    if (!isCount(rank) || rank < 1) throw new HttpError(422, `lora_config.rank must be a positive integer, got ${JSON.stringify(rank)}`, 'lora_config.rank');
    const live = [...this.models.values()][0];
    if (live) throw new HttpError(409, `this server trains one model at a time and ${live.id} is loaded; unload it or let its session expire`);
    const modelId = id('model_');
    this.models.set(modelId, { id: modelId, sessionId, loraRank: rank, nextSeq: 1, pending: new Map(), accepted: new Map(), draining: false });
    const fresh = this.modelsCreated++ > 0;
    return this.run(async () => {
      // A new training client starts from the starting weights, as a fresh adapter would.
      if (fresh && this.baseSnapshot) {
        const snapshot = this.baseSnapshot;
        await this.options.lock.write(() => this.options.backend.load(snapshot));
        this.weightsVersion++;
      }
      return { model_id: modelId, type: 'create_model' };
    }, modelId) as { request_id: string; model_id: string };
  }

  /** Queues a training request in seq_id order; a replay with the same body returns the same future. */
  private training(kind: string, body: Record<string, unknown>): { request_id: string; model_id: string } {
    const model = this.model(field(body, 'model_id', isString, 'a model id'));
    const seqId = field(body, 'seq_id', (v): v is number => isCount(v) && v >= 1, 'an integer >= 1');
    const bodyKey = JSON.stringify(body);
    const previous = model.accepted.get(seqId);
    if (previous) {
      if (previous.bodyKey === bodyKey) return { request_id: previous.requestId, model_id: model.id };
      throw new HttpError(409, `Training request sequence number was reused: seq_id ${seqId} of ${model.id} already names another request`, 'seq_id');
    }
    if (seqId < model.nextSeq) throw new HttpError(409, `seq_id ${seqId} is behind the next expected ${model.nextSeq}`, 'seq_id');
    const work = this.trainingWork(kind, body, model, seqId);
    const { requestId, future } = this.newFuture();
    model.accepted.set(seqId, { bodyKey, requestId });
    model.pending.set(seqId, {
      seqId,
      bodyKey,
      requestId,
      run: () =>
        work().then(
          (result) => this.settle(future, { result }),
          (error: unknown) => this.settle(future, { error }),
        ),
    });
    void this.drain(model);
    return { request_id: requestId, model_id: model.id };
  }

  private async drain(model: Model): Promise<void> {
    if (model.draining) return;
    model.draining = true;
    try {
      for (let next = model.pending.get(model.nextSeq); next; next = model.pending.get(model.nextSeq)) {
        model.pending.delete(model.nextSeq);
        model.nextSeq++;
        await next.run();
      }
    } finally {
      model.draining = false;
    }
  }

  /** Validates now (so a malformed request fails its future with the field named) and returns the work. */
  private trainingWork(kind: string, body: Record<string, unknown>, model: Model, seqId: number): () => Promise<unknown> {
    const { backend, lock } = this.options;
    switch (kind) {
      case 'forward':
      case 'forward_backward': {
        const key = kind === 'forward' ? 'forward_input' : 'forward_backward_input';
        const { data, inputs, lossName, config } = this.parseLossInput(body[key], key);
        const loss = tinkerLoss(lossName, inputs, config);
        return () =>
          lock.write(async () => {
            if (kind === 'forward') {
              const logprobs = await backend.forward(data);
              return lossOutput(logprobs, loss(logprobs).metrics);
            }
            const result = await backend.forwardBackward(data, loss);
            return lossOutput(result.logprobs, result.metrics);
          });
      }
      case 'optim_step': {
        const adam = adamFromWire(body['adam_params'], 'adam_params');
        return () =>
          lock.write(async () => {
            const { gradNorm } = await backend.optimStep(adam);
            this.weightsVersion++;
            return { metrics: { grad_norm: gradNorm }, type: 'optim_step' };
          });
      }
      case 'save_weights': {
        const name = checkpointName(body['path']);
        const target = join(this.options.checkpointDir, name);
        const overwrite = body['overwrite'] === true;
        return async () => {
          if (!overwrite && (await exists(target))) throw new InputError(`checkpoint ${name} exists; pass overwrite:true to replace it`, 'path');
          await lock.write(() => this.savedInside(name));
          return { path: formatTinkerPath({ modelId: model.id, kind: 'weights', name }), type: 'save_weights' };
        };
      }
      case 'save_weights_for_sampler': {
        if (body['path'] === undefined || body['path'] === null) {
          const sessionSeq = field(body, 'sampling_session_seq_id', isCount, 'an integer >= 0');
          return async () => {
            const samplerId = `${model.sessionId}:sample:${sessionSeq}:${id('')}`;
            this.samplingSessions.set(samplerId, { sessionId: model.sessionId, weightsVersion: this.weightsVersion, modelPath: null });
            return { path: null, sampling_session_id: samplerId };
          };
        }
        const name = checkpointName(body['path']);
        return async () => {
          this.samplerWeights.set(name, this.weightsVersion);
          return { path: formatTinkerPath({ modelId: model.id, kind: 'sampler_weights', name }), type: 'save_weights_for_sampler' };
        };
      }
      case 'load_weights': {
        if (seqId !== 1) throw new HttpError(400, `LoadWeights is not permitted with seq_id ${seqId}: load must be a model's first request`, 'seq_id');
        const path = parseTinkerPath(body['path'], 'path');
        if (path.kind !== 'weights') throw new HttpError(400, 'load_weights needs a tinker://…/weights/<name> path, not sampler weights', 'path');
        return async () => {
          const target = await this.confinedCheckpoint(path.name);
          await lock.write(() => backend.load(target));
          this.weightsVersion++;
          return { path: formatTinkerPath(path), model_id: model.id, type: 'load_weights' };
        };
      }
      default:
        throw new HttpError(404, `unknown training request ${kind}`);
    }
  }

  private parseLossInput(value: unknown, where: string): { data: TrainingDatum[]; inputs: LossInputs[]; lossName: TinkerLossName; config: Record<string, number> } {
    if (!isRecord(value)) throw new HttpError(422, `${where} must be an object`, where);
    const lossName = value['loss_fn'];
    if (typeof lossName !== 'string' || !(TINKER_LOSS_NAMES as readonly string[]).includes(lossName)) {
      throw new HttpError(400, `${where}.loss_fn ${JSON.stringify(lossName)} is not supported (supported: ${TINKER_LOSS_NAMES.join(', ')})`, `${where}.loss_fn`);
    }
    const rawData = value['data'];
    if (!Array.isArray(rawData) || rawData.length === 0) throw new HttpError(422, `${where}.data must be a non-empty array`, `${where}.data`);
    if (rawData.length > this.options.limits.maxDatums) throw new HttpError(400, `${where}.data has ${rawData.length} datums; the limit per request is ${this.options.limits.maxDatums}`, `${where}.data`);
    const decoded = rawData.map((datum: unknown, index) => decodeDatum(datum, `${where}.data[${index}]`));
    for (const [index, { datum }] of decoded.entries()) {
      if (datum.tokens.length > this.options.backend.contextWindow) throw new HttpError(400, `${where}.data[${index}] has ${datum.tokens.length} tokens; the context window is ${this.options.backend.contextWindow}`, `${where}.data`);
      const outside = datum.tokens.find((token) => token >= this.options.tokenizer.vocabSize);
      if (outside !== undefined) throw new HttpError(400, `${where}.data[${index}] has token id ${outside} outside the vocabulary of ${this.options.tokenizer.vocabSize}`, `${where}.data`);
    }
    const rawConfig = value['loss_fn_config'];
    const config: Record<string, number> = {};
    if (isRecord(rawConfig)) {
      for (const [key, entry] of Object.entries(rawConfig)) {
        if (typeof entry !== 'number' || !Number.isFinite(entry)) throw new HttpError(422, `${where}.loss_fn_config.${key} must be a number`, `${where}.loss_fn_config`);
        config[key] = entry;
      }
    }
    return { data: decoded.map((d) => d.datum), inputs: decoded.map((d) => d.inputs), lossName: lossName as TinkerLossName, config };
  }

  /**
   * Saves through the backend (which writes `name` in its own checkpoint folder) and insists that
   * folder is this server's, so load can find what save wrote.
   */
  private async savedInside(name: string): Promise<string> {
    const written = await this.options.backend.save(name);
    const inside = relative(resolve(this.options.checkpointDir), resolve(written));
    if (inside !== name) throw new HttpError(500, `the backend saved ${name} to ${written}, outside the server's checkpoint folder ${this.options.checkpointDir}; start the backend with the same checkpoint folder`);
    return written;
  }

  /** The file for checkpoint `name`, refusing anything that resolves outside the checkpoint folder (symlinks included). */
  private async confinedCheckpoint(name: string): Promise<string> {
    const root = resolve(this.options.checkpointDir);
    const target = join(root, checkpointName(name));
    let real: string;
    let realRoot: string;
    try {
      [real, realRoot] = await Promise.all([realpath(target), realpath(root)]);
    } catch {
      throw new HttpError(404, `checkpoint ${name} not found`, 'path');
    }
    const inside = relative(realRoot, real);
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) throw new HttpError(403, `checkpoint ${name} resolves outside the checkpoint folder`, 'path');
    return real;
  }

  private createSamplingSession(body: Record<string, unknown>): string {
    const sessionId = field(body, 'session_id', isString, 'a session id');
    this.touchSession(sessionId);
    field(body, 'sampling_session_seq_id', isCount, 'an integer >= 0');
    const samplerId = `${sessionId}:sample:${id('')}`;
    this.samplingSessions.set(samplerId, this.samplerFor(body));
    return samplerId;
  }

  private samplerFor(body: Record<string, unknown>, sessionId = typeof body['session_id'] === 'string' ? body['session_id'] : ''): SamplingSession {
    const hasPath = body['model_path'] !== undefined && body['model_path'] !== null;
    const hasBase = body['base_model'] !== undefined && body['base_model'] !== null;
    if (hasPath === hasBase) throw new HttpError(400, 'give exactly one of model_path and base_model', 'model_path');
    if (hasBase) {
      if (body['base_model'] !== this.options.modelName) throw new HttpError(400, `base_model ${JSON.stringify(body['base_model'])} is not served here; this server serves ${JSON.stringify(this.options.modelName)}`, 'base_model');
      return { sessionId, weightsVersion: null, modelPath: null };
    }
    const path = parseTinkerPath(body['model_path'], 'model_path');
    const version = path.kind === 'sampler_weights' ? this.samplerWeights.get(path.name) : undefined;
    if (version === undefined) throw new HttpError(404, `sampler weights ${formatTinkerPath(path)} not found on this server`, 'model_path');
    return { sessionId, weightsVersion: version, modelPath: formatTinkerPath(path) };
  }

  private sample(body: Record<string, unknown>): { request_id: string } {
    let sampler: SamplingSession;
    if (typeof body['sampling_session_id'] === 'string') {
      const found = this.samplingSessions.get(body['sampling_session_id']);
      if (!found) throw new HttpError(404, `sampling session ${body['sampling_session_id']} not found (its session may have expired)`, 'sampling_session_id');
      if (found.sessionId) this.touchSession(found.sessionId);
      sampler = found;
    } else {
      sampler = this.samplerFor(body);
    }
    const { limits, tokenizer, backend } = this.options;
    const numSamples = body['num_samples'] ?? 1;
    if (!isCount(numSamples) || numSamples < 1 || numSamples > limits.maxSamples) throw new HttpError(400, `num_samples must be an integer in [1, ${limits.maxSamples}]`, 'num_samples');
    let prompt: number[];
    try {
      prompt = modelInputTokens(body['prompt'], 'prompt');
    } catch (error) {
      throw toHttpError(error);
    }
    if (prompt.length === 0 || prompt.length > limits.maxPromptTokens) throw new HttpError(400, `prompt has ${prompt.length} tokens; it must have 1 to ${limits.maxPromptTokens}`, 'prompt');
    const outside = prompt.find((token) => token >= tokenizer.vocabSize);
    if (outside !== undefined) throw new HttpError(400, `prompt token ${outside} is outside the vocabulary of ${tokenizer.vocabSize}`, 'prompt');
    const params = samplingParamsFromWire(body['sampling_params'], limits.maxTokens);
    if (prompt.length + params.maxTokens > backend.contextWindow) throw new HttpError(400, `prompt (${prompt.length}) + max_tokens (${params.maxTokens}) exceeds the context window of ${backend.contextWindow}`, 'sampling_params.max_tokens');
    if (sampler.weightsVersion !== null && sampler.weightsVersion !== this.weightsVersion) {
      throw new HttpError(409, `sampler weights ${sampler.modelPath ?? ''} are stale: the weights changed after they were saved, and this server keeps only the current weights; save weights for the sampler again`, 'sampling_session_id');
    }
    return this.run(async () => {
      const sequences = await this.options.lock.read(() => backend.sample({ promptTokens: prompt, params, n: numSamples }));
      const response: SampleResponseWire = {
        type: 'sample',
        sequences: sequences.map((sequence) => ({ stop_reason: sequence.finishReason === 'stop' ? 'stop' : 'length', tokens: sequence.tokens, logprobs: sequence.logprobs })),
        prompt_logprobs: null,
        topk_prompt_logprobs: null,
      };
      return response;
    });
  }
}

function checkpointName(value: unknown): string {
  if (typeof value !== 'string' || !CHECKPOINT_NAME_PATTERN.test(value)) {
    throw new HttpError(400, `checkpoint name ${JSON.stringify(value)} may only use letters, digits, "_" and "-" (at most 255)`, 'path');
  }
  return value;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function lossOutput(logprobs: Float32Array[], metrics: Record<string, number>): ForwardBackwardOutputWire {
  return { loss_fn_output_type: 'TensorData', loss_fn_outputs: logprobs.map((logprobs_T) => ({ logprobs: tensor(logprobs_T, 'float32') })), metrics };
}

/** Tinker sampling params; `stop` is all strings or all token ids, never mixed (as SkyRL requires). */
export function samplingParamsFromWire(value: unknown, maxTokensLimit: number): SamplingParams {
  if (!isRecord(value)) throw new HttpError(422, 'sampling_params must be an object', 'sampling_params');
  const maxTokens = value['max_tokens'];
  if (!isCount(maxTokens) || maxTokens < 1 || maxTokens > maxTokensLimit) throw new HttpError(400, `sampling_params.max_tokens must be an integer in [1, ${maxTokensLimit}]`, 'sampling_params.max_tokens');
  const number = (key: string, fallback: number, ok: (x: number) => boolean, rule: string) => {
    const raw = value[key];
    if (raw === undefined || raw === null) return fallback;
    if (typeof raw !== 'number' || !Number.isFinite(raw) || !ok(raw)) throw new HttpError(400, `sampling_params.${key} must be ${rule}`, `sampling_params.${key}`);
    return raw;
  };
  const params: SamplingParams = {
    maxTokens,
    temperature: number('temperature', 1, (x) => x >= 0, '>= 0'),
    topP: number('top_p', 1, (x) => x > 0 && x <= 1, 'in (0, 1]'),
    topK: Math.max(0, number('top_k', -1, (x) => Number.isInteger(x) && x >= -1, 'an integer >= -1')),
  };
  const seed = value['seed'];
  if (seed !== undefined && seed !== null) {
    if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new HttpError(400, 'sampling_params.seed must be an integer or null', 'sampling_params.seed');
    params.seed = seed;
  }
  const stop = value['stop'];
  if (typeof stop === 'string') params.stop = [stop];
  else if (Array.isArray(stop) && stop.length > 0) {
    if (stop.every((x) => typeof x === 'string')) params.stop = stop as string[];
    else if (stop.every((x) => typeof x === 'number')) params.stopTokenIds = intArray(stop, 'sampling_params.stop');
    else throw new HttpError(400, 'sampling_params.stop must be all strings or all token ids, not mixed', 'sampling_params.stop');
  } else if (stop !== undefined && stop !== null && !(Array.isArray(stop) && stop.length === 0)) {
    throw new HttpError(400, 'sampling_params.stop must be a string, strings or token ids', 'sampling_params.stop');
  }
  return params;
}
