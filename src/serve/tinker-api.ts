/**
 * The subset of the Tinker REST API the trainer and the SDK use, over PolicyBackends: sessions with
 * heartbeats and expiry, up to `maxModels` trainable models (one backend each), training requests
 * executed in `seq_id` order with replay de-duplication (as SkyRL does), futures with long-poll
 * `retrieve_future` (408 while running; failures in the hosted shape, HTTP 200
 * `{"error","category"}`), forward_backward as JSON or protobuf (zstd-compressed or not), results
 * as protobuf when the SDK asks for them, temporary per-sampling-session sampler snapshots, and
 * checkpoints confined to one folder. Checked against thinking-machines-lab/tinker @ d595dc2 and
 * 6b02536 and NovaSky-AI/SkyRL @ a956457 (skyrl/tinker/api.py); docs/serve.md has the table.
 *
 * Differences from the hosted service, by design: each model trains a full backend (LoRA settings
 * are accepted and recorded, not applied), so a sampler snapshot is served only while its model's
 * weights are unchanged (a stale one is refused rather than silently served); sampling a
 * `base_model` samples the first backend's current weights; targets must be the input shifted by
 * one; checkpoints are files `<model_id>.<name>` in one folder (a name the model has taken is 409 "already exists").
 * Every map this service owns (sessions, models, futures, sampling sessions) has a size cap.
 */
import { createHash, randomBytes } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import { join, relative, isAbsolute, resolve } from 'node:path';
import { decompress as zstdDecompress } from 'fzstd';
import type { PolicyBackend, TrainingDatum } from '../core/policy.js';
import type { SamplingParams } from '../core/sampling.js';
import type { Tokenizer } from '../core/tokenizer.js';
import { TINKER_LOSS_NAMES, tinkerLoss, type LossInputs, type TinkerLossName } from '../core/builtin-losses.js';
import { PROTOBUF_CONTENT_TYPE, decodeForwardBackwardRequest, encodeForwardBackwardOutput, encodeSampleResponse } from '../engines/tinker-proto.js';
import {
  CHECKPOINT_NAME_PATTERN,
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
} from '../engines/tinker-wire.js';
import { HttpError, toHttpError, type ReadWriteLock } from './http.js';

export interface TinkerLimits {
  maxDatums: number;
  maxSamples: number;
  maxTokens: number;
  maxPromptTokens: number;
}

/** Size caps of the maps the service owns; past a cap the oldest finished entry goes, or the request is refused (429). */
export interface TinkerCaps {
  maxSessions: number;
  maxFutures: number;
  maxSamplingSessions: number;
  /** Training requests of one model parked ahead of the next seq_id (each holds its parsed body). */
  maxParkedRequests: number;
}

/** seq_ids per model remembered for replay de-duplication. */
const ACCEPTED_SEQ_IDS_KEPT = 1024;

export const DEFAULT_TINKER_CAPS: TinkerCaps = { maxSessions: 256, maxFutures: 10_000, maxSamplingSessions: 4096, maxParkedRequests: 64 };

export interface TinkerServiceOptions {
  /** The first model's backend (also the one the completions API samples). */
  backend: PolicyBackend;
  /** Makes the backend of each further model (same starting weights, same checkpoint folder); without it one model at a time. */
  createBackend?: () => Promise<PolicyBackend>;
  /** Models loaded at once (default 2: a policy and its KL reference). */
  maxModels?: number;
  tokenizer: Tokenizer;
  modelName: string;
  /** Folder every checkpoint path over the API resolves into. */
  checkpointDir: string;
  lock: ReadWriteLock;
  limits: TinkerLimits;
  caps?: Partial<TinkerCaps>;
  /** Largest forward_backward body once decompressed. */
  maxBodyBytes?: number;
  /** A session with no request for this long expires and its model is unloaded (SkyRL: 300 s). */
  sessionTimeoutMs: number;
  /** How long `retrieve_future` holds the call before answering 408 (SkyRL: 300 s; the SDK waits 45 s). */
  futureHoldMs: number;
  /** How long finished futures are kept. */
  futureTtlMs: number;
  now: () => number;
}

/** Results the SDK asks for in protobuf (`Accept: application/x-protobuf`). */
type FutureKind = 'forward_backward' | 'sample' | 'other';

interface Future {
  kind: FutureKind;
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

/** A backend that one model at a time trains. */
interface Slot {
  backend: PolicyBackend;
  /** Bumped on every weight change, so sampler snapshots know when they went stale. */
  weightsVersion: number;
  modelId: string | null;
  /** Trained before: reset to the starting weights when the next model takes it. */
  used: boolean;
}

interface Model {
  id: string;
  sessionId: string;
  loraRank: number;
  slot: Slot;
  /** Settles when create_model has finished (its backend made or reset); training waits for it. */
  ready: Promise<unknown>;
  nextSeq: number;
  pending: Map<number, TrainingRequest>;
  /** seq_id → request already accepted (for replay de-duplication): a digest of the body, not the body. */
  accepted: Map<number, { bodyKey: string; requestId: string }>;
  draining: boolean;
}

interface SamplingSession {
  sessionId: string;
  /** The weights sampled: a slot at a version, or null for the base model ("whatever is current" on the first backend). */
  slot: Slot | null;
  weightsVersion: number;
  modelPath: string | null;
}

/** A request as the HTTP layer hands it over: the body undecoded, so forward_backward can be protobuf. */
export interface TinkerHttpRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}

/** An answer: JSON, or protobuf bytes. */
export interface TinkerHttpAnswer {
  status: number;
  body?: unknown;
  bytes?: Uint8Array;
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

const header = (headers: TinkerHttpRequest['headers'], name: string): string => {
  const value = headers[name];
  return (Array.isArray(value) ? value.join(',') : (value ?? '')).toLowerCase();
};

/** Routes this server implements, for the error that names what it does not. */
const IMPLEMENTED = 'healthz, get_server_capabilities, client/config, create_session, session_heartbeat, create_model, get_info, unload_model, forward, forward_backward, optim_step, save_weights, save_weights_for_sampler, load_weights, weights_info, create_sampling_session, samplers/{id}, asample, retrieve_future, telemetry';

export class TinkerService {
  private readonly sessions = new Map<string, Session>();
  private readonly models = new Map<string, Model>();
  private readonly futures = new Map<string, Future>();
  private readonly samplingSessions = new Map<string, SamplingSession>();
  /** Persistent sampler saves: name → the weights they captured. */
  private readonly samplerWeights = new Map<string, { slot: Slot; weightsVersion: number }>();
  /** Training checkpoints this server wrote: name → the LoRA rank of the model that saved it. */
  private readonly checkpointRanks = new Map<string, number>();
  /** Checkpoint names being written (a second save of the same name is 409 at once). */
  private readonly savesInFlight = new Set<string>();
  private readonly slots: Slot[];
  private readonly caps: TinkerCaps;
  private baseSnapshot: string | null = null;

  constructor(private readonly options: TinkerServiceOptions) {
    this.slots = [{ backend: options.backend, weightsVersion: 0, modelId: null, used: false }];
    this.caps = { ...DEFAULT_TINKER_CAPS, ...options.caps };
  }

  private get maxModels(): number {
    return this.options.createBackend ? Math.max(1, this.options.maxModels ?? 2) : 1;
  }

  /** Saves the starting weights so a later create_model starts from them, as a fresh LoRA would. */
  async init(): Promise<void> {
    this.baseSnapshot = await this.savedInside(this.options.backend, '.base');
  }

  /** Closes the backends this service made (the first one belongs to the caller). */
  async close(): Promise<void> {
    await Promise.all(this.slots.slice(1).map(async (slot) => (slot.backend as PolicyBackend & { close?: () => Promise<void> }).close?.()));
  }

  /** Decodes one HTTP request (JSON, or a protobuf forward_backward, zstd-compressed or not) and answers it. */
  async handleHttp(request: TinkerHttpRequest): Promise<TinkerHttpAnswer> {
    let body = request.body;
    const encoding = header(request.headers, 'content-encoding').trim();
    if (encoding === 'zstd') {
      try {
        body = zstdDecompress(body);
      } catch (error) {
        throw new HttpError(422, `failed to zstd-decompress the request body: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (this.options.maxBodyBytes !== undefined && body.byteLength > this.options.maxBodyBytes) throw new HttpError(413, `the decompressed body of ${body.byteLength} bytes exceeds the limit of ${this.options.maxBodyBytes} bytes`);
    } else if (encoding !== '' && encoding !== 'identity') {
      throw new HttpError(415, `Content-Encoding ${JSON.stringify(encoding)} is not supported (zstd or none)`);
    }
    const wantsProtobuf = header(request.headers, 'accept').includes(PROTOBUF_CONTENT_TYPE);
    if (header(request.headers, 'content-type').includes(PROTOBUF_CONTENT_TYPE)) {
      if (request.method !== 'POST' || request.path !== '/forward_backward') throw new HttpError(415, `only POST /forward_backward takes ${PROTOBUF_CONTENT_TYPE}; ${request.path} takes JSON`);
      let decoded: ReturnType<typeof decodeForwardBackwardRequest>;
      try {
        decoded = decodeForwardBackwardRequest(body);
      } catch (error) {
        throw new HttpError(422, `invalid protobuf forward_backward body: ${error instanceof Error ? error.message : String(error)}`);
      }
      const { request: fb, forwardOnly } = decoded;
      const json: Record<string, unknown> = { model_id: fb.model_id, seq_id: fb.seq_id };
      if (forwardOnly) json['forward_input'] = fb.forward_backward_input;
      else json['forward_backward_input'] = fb.forward_backward_input;
      return this.handle('POST', forwardOnly ? '/forward' : '/forward_backward', json, wantsProtobuf);
    }
    let json: unknown = {};
    if (body.byteLength > 0) {
      try {
        json = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')) as unknown;
      } catch (error) {
        throw new HttpError(400, `request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (!isRecord(json)) throw new HttpError(422, 'request body must be a JSON object');
    return this.handle(request.method, request.path, json, wantsProtobuf);
  }

  /** Routes one POST/GET under /api/v1; returns the answer and its status. */
  async handle(method: string, path: string, body: Record<string, unknown>, wantsProtobuf = false): Promise<TinkerHttpAnswer> {
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
        // ClientConfigResponse @ d595dc2: what this server takes. Bodies are accepted compressed or not.
        return ok({
          pjwt_auth_enabled: false,
          credential_default_source: 'api_key',
          proto_write_fwdbwd: true,
          proto_compress_fwdbwd: false,
          fwd_via_fwdbwd: true,
          fwdbwd_max_chunk_len: this.options.limits.maxDatums,
          fwdbwd_max_chunk_bytes_count: Math.min(5_000_000, this.options.maxBodyBytes ?? 5_000_000),
          parallel_fwdbwd_chunks: true,
          sample_no_retries: false,
        });
      case '/create_session': {
        this.makeRoom(this.sessions, this.caps.maxSessions, 'sessions', () => this.oldestSession());
        const sessionId = id('session_');
        this.sessions.set(sessionId, { lastSeen: this.options.now() });
        return ok({ type: 'create_session', session_id: sessionId });
      }
      case '/session_heartbeat':
        this.touchSession(field(body, 'session_id', isString, 'a session id'));
        return ok({ type: 'session_heartbeat' });
      case '/telemetry':
        return ok({ status: 'accepted' });
      case '/create_model':
        return ok(this.createModel(body));
      case '/get_info': {
        const model = this.model(field(body, 'model_id', isString, 'a model id'));
        return ok({ model_id: model.id, status: 'ready', model_data: { base_model: this.options.modelName, arch: model.slot.backend.name, model_name: this.options.modelName, tokenizer_id: this.options.tokenizer.name, lora_config: { rank: model.loraRank } }, is_lora: false, lora_rank: model.loraRank, model_name: this.options.modelName });
      }
      case '/unload_model': {
        const model = this.model(field(body, 'model_id', isString, 'a model id'));
        this.unload(model);
        return ok(this.resolved({ model_id: model.id, type: 'unload_model' }, model.id));
      }
      case '/forward':
      case '/forward_backward':
      case '/optim_step':
      case '/save_weights':
      case '/save_weights_for_sampler':
      case '/load_weights':
        return ok(await this.training(path.slice(1), body));
      case '/weights_info':
        return ok(await this.weightsInfo(body));
      case '/create_sampling_session':
        return ok({ type: 'create_sampling_session', sampling_session_id: this.createSamplingSession(body) });
      case '/asample':
        return ok(this.sample(body));
      case '/retrieve_future':
        return this.retrieve(field(body, 'request_id', isString, 'a request id'), wantsProtobuf);
      default:
        throw new HttpError(404, `${path} is not implemented by cir serve (it implements: ${IMPLEMENTED})`);
    }
  }

  /** Expires idle sessions (unloading their models) and forgets old futures. */
  private sweep(): void {
    const now = this.options.now();
    for (const [sessionId, session] of this.sessions) {
      if (now - session.lastSeen <= this.options.sessionTimeoutMs) continue;
      this.dropSession(sessionId);
    }
    for (const [requestId, future] of this.futures) {
      if (future.finishedAt !== undefined && now - future.finishedAt > this.options.futureTtlMs) this.futures.delete(requestId);
    }
  }

  private dropSession(sessionId: string): void {
    this.sessions.delete(sessionId);
    for (const model of [...this.models.values()]) if (model.sessionId === sessionId) this.unload(model);
    for (const [samplerId, sampler] of this.samplingSessions) if (sampler.sessionId === sessionId) this.samplingSessions.delete(samplerId);
  }

  private oldestSession(): string | null {
    let oldest: [string, number] | null = null;
    for (const [sessionId, session] of this.sessions) if (!oldest || session.lastSeen < oldest[1]) oldest = [sessionId, session.lastSeen];
    return oldest?.[0] ?? null;
  }

  /** Keeps a map under its cap: drops what `evictable` names, or refuses with 429 when nothing may go. */
  private makeRoom(map: Map<string, unknown>, cap: number, what: string, evictable: () => string | null): void {
    while (map.size >= cap) {
      const victim = evictable();
      if (victim === null) throw new HttpError(429, `this server holds at most ${cap} ${what}; try again later`);
      if (map === this.sessions) this.dropSession(victim);
      else map.delete(victim);
    }
  }

  private unload(model: Model): void {
    this.models.delete(model.id);
    if (model.slot.modelId === model.id) model.slot.modelId = null;
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

  private newFuture(kind: FutureKind): { requestId: string; future: Future } {
    this.makeRoom(this.futures, this.caps.maxFutures, 'futures', () => {
      for (const [requestId, future] of this.futures) if (future.state !== 'pending') return requestId;
      return null;
    });
    const requestId = id('req_');
    const future: Future = { kind, state: 'pending', waiters: new Set() };
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

  private run(kind: FutureKind, work: () => Promise<unknown>, modelId?: string): { request_id: string; model_id?: string } {
    const { requestId, future } = this.newFuture(kind);
    work().then(
      (result) => this.settle(future, { result }),
      (error: unknown) => this.settle(future, { error }),
    );
    return modelId === undefined ? { request_id: requestId } : { request_id: requestId, model_id: modelId };
  }

  private resolved(result: unknown, modelId: string): { request_id: string; model_id: string } {
    return this.run('other', async () => result, modelId) as { request_id: string; model_id: string };
  }

  /**
   * Long-polls a future. Failures answer in the hosted shape, HTTP 200 `{"error","category"}` (a 5xx
   * here would send the SDK into an immediate endless re-poll, api_future_impl.py @ d595dc2).
   */
  private async retrieve(requestId: string, wantsProtobuf: boolean): Promise<TinkerHttpAnswer> {
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
    if (future.state === 'pending') return { status: 408, body: { type: 'try_again', request_id: requestId, queue_state: 'active', detail: 'Timeout waiting for result' } };
    if (future.state === 'failed') {
      const error = future.error as HttpError;
      return { status: 200, body: { error: error.message, category: error.status >= 500 ? 'server' : 'user' } };
    }
    if (wantsProtobuf && future.kind === 'forward_backward') return { status: 200, bytes: encodeForwardBackwardOutput(future.result as ForwardBackwardOutputWire) };
    if (wantsProtobuf && future.kind === 'sample') return { status: 200, bytes: encodeSampleResponse(future.result as SampleResponseWire) };
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
    if (this.models.size >= this.maxModels) {
      const live = [...this.models.keys()].join(', ');
      throw new HttpError(409, `this server holds at most ${this.maxModels} model${this.maxModels === 1 ? '' : 's'} at a time (${live} loaded); unload one, let its session expire, or start cir serve with a larger --max-models`);
    }
    const modelId = id('model_');
    const free = this.slots.find((slot) => slot.modelId === null);
    // A slot is claimed now (so concurrent create_models cannot share one); a new backend is made in the future.
    const slot: Slot = free ?? { backend: this.options.backend, weightsVersion: 0, modelId: null, used: false };
    slot.modelId = modelId;
    const model: Model = { id: modelId, sessionId, loraRank: rank, slot, ready: Promise.resolve(), nextSeq: 1, pending: new Map(), accepted: new Map(), draining: false };
    this.models.set(modelId, model);
    const answer = this.run('other', async () => {
      if (!free) {
        try {
          slot.backend = await (this.options.createBackend as () => Promise<PolicyBackend>)();
        } catch (error) {
          this.unload(model);
          throw error;
        }
        this.slots.push(slot);
      } else if (slot.used && this.baseSnapshot) {
        // A new training client starts from the starting weights, as a fresh adapter would.
        const snapshot = this.baseSnapshot;
        await this.options.lock.write(() => slot.backend.load(snapshot));
      }
      slot.used = true;
      slot.weightsVersion++;
      return { model_id: modelId, type: 'create_model' };
    }, modelId) as { request_id: string; model_id: string };
    model.ready = this.whenSettled(answer.request_id);
    return answer;
  }

  /** Resolves once the future has finished, whatever its outcome. */
  private whenSettled(requestId: string): Promise<void> {
    const future = this.futures.get(requestId);
    if (!future || future.state !== 'pending') return Promise.resolve();
    return new Promise((resolve) => future.waiters.add(resolve));
  }

  /** Queues a training request in seq_id order; a replay with the same body returns the same future. */
  private async training(kind: string, body: Record<string, unknown>): Promise<{ request_id: string; model_id: string }> {
    const model = this.model(field(body, 'model_id', isString, 'a model id'));
    const seqId = field(body, 'seq_id', (v): v is number => isCount(v) && v >= 1, 'an integer >= 1');
    // A digest: the bodies of the last 1024 requests (up to the body limit each) are not kept for the life of the model.
    const bodyKey = createHash('sha256').update(JSON.stringify(body)).digest('base64');
    const previous = model.accepted.get(seqId);
    if (previous) {
      if (previous.bodyKey === bodyKey) return { request_id: previous.requestId, model_id: model.id };
      throw new HttpError(409, `Training request sequence number was reused: seq_id ${seqId} of ${model.id} already names another request`, 'seq_id');
    }
    if (seqId < model.nextSeq) throw new HttpError(409, `Training request sequence number was reused: seq_id ${seqId} is behind the next expected ${model.nextSeq}`, 'seq_id');
    // Requests wait for the seq_ids before them; only a bounded window of them is parked.
    if (seqId >= model.nextSeq + this.caps.maxParkedRequests || model.pending.size >= this.caps.maxParkedRequests) {
      throw new HttpError(429, `seq_id ${seqId} is too far ahead of the next expected ${model.nextSeq} (at most ${this.caps.maxParkedRequests} requests wait; --max-parked-requests)`, 'seq_id');
    }
    const work = await this.trainingWork(kind, body, model, seqId);
    const { requestId, future } = this.newFuture(kind === 'forward' || kind === 'forward_backward' ? 'forward_backward' : 'other');
    model.accepted.set(seqId, { bodyKey, requestId });
    model.pending.set(seqId, {
      seqId,
      bodyKey,
      requestId,
      run: () =>
        model.ready
          .then(() => {
            if (this.models.get(model.id) !== model) throw new HttpError(404, `model ${model.id} not found (its creation failed, it was unloaded, or its session expired)`);
            return work();
          })
          .then(
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
        // Replays only ever repeat recent requests: older seq_ids are forgotten (a replay of one is then 409 "behind").
        model.accepted.delete(model.nextSeq - 1 - ACCEPTED_SEQ_IDS_KEPT);
        await next.run();
      }
    } finally {
      model.draining = false;
    }
  }

  /** Validates now (so a malformed request is refused with the field named) and returns the work. */
  private async trainingWork(kind: string, body: Record<string, unknown>, model: Model, seqId: number): Promise<() => Promise<unknown>> {
    const { lock } = this.options;
    const slot = model.slot;
    switch (kind) {
      case 'forward':
      case 'forward_backward': {
        const key = kind === 'forward' ? 'forward_input' : 'forward_backward_input';
        const { data, inputs, lossName, config } = this.parseLossInput(body[key], key);
        let loss: ReturnType<typeof tinkerLoss>;
        try {
          loss = tinkerLoss(lossName, inputs, config);
        } catch (error) {
          throw toHttpError(error);
        }
        return () =>
          lock.write(async () => {
            if (kind === 'forward') {
              const logprobs = await slot.backend.forward(data);
              return lossOutput(logprobs, loss(logprobs).metrics);
            }
            const result = await slot.backend.forwardBackward(data, loss);
            return lossOutput(result.logprobs, result.metrics);
          });
      }
      case 'optim_step': {
        const adam = adamFromWire(body['adam_params'], 'adam_params');
        return () =>
          lock.write(async () => {
            const { gradNorm } = await slot.backend.optimStep(adam);
            slot.weightsVersion++;
            return { metrics: { grad_norm: gradNorm }, type: 'optim_step' };
          });
      }
      case 'save_weights': {
        const name = checkpointName(body['path']);
        // Names are the model's own, as in tinker://<model_id>/weights/<name>: two runs may both save "step-00010".
        const file = checkpointFile(model.id, name);
        const target = join(this.options.checkpointDir, file);
        // As SkyRL (create_checkpoint, api.py @ a956457): a taken name is 409 at once; the hosted API's `overwrite: true` replaces it.
        if (body['overwrite'] !== true && (this.savesInFlight.has(file) || (await exists(target)))) {
          throw new HttpError(409, `Checkpoint '${name}' already exists; pass overwrite: true to replace it`, 'path');
        }
        this.savesInFlight.add(file);
        return async () => {
          try {
            await lock.write(() => this.savedInside(slot.backend, file));
            this.checkpointRanks.set(file, model.loraRank);
            return { path: formatTinkerPath({ modelId: model.id, kind: 'weights', name }), type: 'save_weights' };
          } finally {
            this.savesInFlight.delete(file);
          }
        };
      }
      case 'save_weights_for_sampler': {
        if (body['path'] === undefined || body['path'] === null) {
          // The SDK's temporary snapshot: a sampling session on the current weights, nothing written.
          const sessionSeq = field(body, 'sampling_session_seq_id', isCount, 'an integer >= 0 (or give a path)');
          this.roomForSamplingSession();
          return async () => {
            const samplerId = `sampling_${id('')}_${sessionSeq}`;
            this.samplingSessions.set(samplerId, { sessionId: model.sessionId, slot, weightsVersion: slot.weightsVersion, modelPath: null });
            return { path: null, sampling_session_id: samplerId, type: 'save_weights_for_sampler' };
          };
        }
        const name = checkpointName(body['path']);
        return async () => {
          this.samplerWeights.set(name, { slot, weightsVersion: slot.weightsVersion });
          return { path: formatTinkerPath({ modelId: model.id, kind: 'sampler_weights', name }), type: 'save_weights_for_sampler' };
        };
      }
      case 'load_weights': {
        if (seqId !== 1) throw new HttpError(400, `LoadWeights is not permitted with seq_id ${seqId}: load must be a model's first request`, 'seq_id');
        const path = parseTinkerPath(body['path'], 'path');
        if (path.kind !== 'weights') throw new HttpError(400, 'load_weights needs a tinker://…/weights/<name> path, not sampler weights', 'path');
        return async () => {
          const { real: target } = await this.savedCheckpoint(path.modelId, path.name);
          await lock.write(() => slot.backend.load(target));
          slot.weightsVersion++;
          return { path: formatTinkerPath(path), model_id: model.id, type: 'load_weights' };
        };
      }
      default:
        throw new HttpError(404, `unknown training request ${kind}`);
    }
  }

  /** `POST /weights_info` (rest_client.py @ d595dc2): what the SDK needs to create a model from a checkpoint. */
  private async weightsInfo(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    let path: ReturnType<typeof parseTinkerPath>;
    try {
      path = parseTinkerPath(body['tinker_path'], 'tinker_path');
    } catch (error) {
      throw toHttpError(error);
    }
    if (path.kind !== 'weights') throw new HttpError(400, 'Invalid tinker path format. Expected: tinker://model_id/weights/checkpoint_id', 'tinker_path');
    const { file } = await this.savedCheckpoint(path.modelId, path.name);
    // The SDK asserts is_lora with a rank; the rank is the saving model's (32, the create_model default, when saved before a restart).
    const rank = this.checkpointRanks.get(file) ?? 32;
    return { base_model: this.options.modelName, is_lora: true, lora_rank: rank, train_unembed: true, train_mlp: true, train_attn: true };
  }

  private parseLossInput(value: unknown, where: string): { data: TrainingDatum[]; inputs: LossInputs[]; lossName: TinkerLossName; config: Record<string, number> } {
    if (!isRecord(value)) throw new HttpError(422, `${where} must be an object`, where);
    const lossName = value['loss_fn'];
    if (typeof lossName !== 'string' || !(TINKER_LOSS_NAMES as readonly string[]).includes(lossName)) {
      throw new HttpError(400, `${where}.loss_fn ${JSON.stringify(lossName)} is not implemented by cir serve (it implements: ${TINKER_LOSS_NAMES.join(', ')})`, `${where}.loss_fn`);
    }
    const rawData = value['data'];
    if (!Array.isArray(rawData) || rawData.length === 0) throw new HttpError(422, `${where}.data must be a non-empty array`, `${where}.data`);
    if (rawData.length > this.options.limits.maxDatums) throw new HttpError(400, `${where}.data has ${rawData.length} datums; the limit per request is ${this.options.limits.maxDatums}`, `${where}.data`);
    let decoded: ReturnType<typeof decodeDatum>[];
    try {
      decoded = rawData.map((datum: unknown, index) => decodeDatum(datum, `${where}.data[${index}]`));
    } catch (error) {
      throw toHttpError(error);
    }
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
   * Saves through a backend (which writes `name` in its own checkpoint folder) and insists that
   * folder is this server's, so load can find what save wrote.
   */
  private async savedInside(backend: PolicyBackend, name: string): Promise<string> {
    const written = await backend.save(name);
    const inside = relative(resolve(this.options.checkpointDir), resolve(written));
    if (inside !== name) throw new HttpError(500, `the backend saved ${name} to ${written}, outside the server's checkpoint folder ${this.options.checkpointDir}; start the backend with the same checkpoint folder`);
    return written;
  }

  /**
   * The checkpoint tinker://<modelId>/weights/<name>: the model's own file, or (saved before names were per model)
   * the bare name.
   */
  private async savedCheckpoint(modelId: string, name: string): Promise<{ file: string; real: string }> {
    const file = checkpointFile(modelId, name);
    try {
      return { file, real: await this.confinedCheckpoint(file) };
    } catch (error) {
      if (!(error instanceof HttpError) || error.status !== 404) throw error;
      return { file: name, real: await this.confinedCheckpoint(name) };
    }
  }

  /** The file for checkpoint `name`, refusing anything that resolves outside the checkpoint folder (symlinks included). */
  private async confinedCheckpoint(name: string): Promise<string> {
    if (!CHECKPOINT_FILE_PATTERN.test(name)) throw new HttpError(400, `checkpoint ${JSON.stringify(name)} is not a checkpoint name`, 'path');
    const root = resolve(this.options.checkpointDir);
    const target = join(root, name);
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

  private roomForSamplingSession(): void {
    this.makeRoom(this.samplingSessions, this.caps.maxSamplingSessions, 'sampling sessions', () => this.samplingSessions.keys().next().value ?? null);
  }

  private createSamplingSession(body: Record<string, unknown>): string {
    const sessionId = field(body, 'session_id', isString, 'a session id');
    this.touchSession(sessionId);
    field(body, 'sampling_session_seq_id', isCount, 'an integer >= 0');
    const sampler = this.samplerFor(body, sessionId);
    this.roomForSamplingSession();
    const samplerId = `sampling_${id('')}`;
    this.samplingSessions.set(samplerId, sampler);
    return samplerId;
  }

  private samplerFor(body: Record<string, unknown>, sessionId = typeof body['session_id'] === 'string' ? body['session_id'] : ''): SamplingSession {
    const hasPath = body['model_path'] !== undefined && body['model_path'] !== null;
    const hasBase = body['base_model'] !== undefined && body['base_model'] !== null;
    if (hasPath === hasBase) throw new HttpError(400, 'Exactly one of base_model or model_path must be provided', 'model_path');
    if (hasBase) {
      if (body['base_model'] !== this.options.modelName) throw new HttpError(400, `base_model ${JSON.stringify(body['base_model'])} is not served here; this server serves ${JSON.stringify(this.options.modelName)}`, 'base_model');
      return { sessionId, slot: null, weightsVersion: 0, modelPath: null };
    }
    let path: ReturnType<typeof parseTinkerPath>;
    try {
      path = parseTinkerPath(body['model_path'], 'model_path');
    } catch (error) {
      throw toHttpError(error);
    }
    const saved = path.kind === 'sampler_weights' ? this.samplerWeights.get(path.name) : undefined;
    if (saved === undefined) throw new HttpError(404, `sampler weights ${formatTinkerPath(path)} not found on this server`, 'model_path');
    return { sessionId, slot: saved.slot, weightsVersion: saved.weightsVersion, modelPath: formatTinkerPath(path) };
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
    const { limits, tokenizer } = this.options;
    const backend = sampler.slot?.backend ?? this.options.backend;
    const numSamples = body['num_samples'] ?? 1;
    if (!isCount(numSamples) || numSamples < 1 || numSamples > limits.maxSamples) throw new HttpError(400, `num_samples must be an integer in [1, ${limits.maxSamples}]`, 'num_samples');
    const topk = body['topk_prompt_logprobs'] ?? 0;
    if (!isCount(topk)) throw new HttpError(400, 'topk_prompt_logprobs must be an integer >= 0', 'topk_prompt_logprobs');
    if (topk > 0) throw new HttpError(400, 'topk_prompt_logprobs is not implemented by cir serve (prompt_logprobs is)', 'topk_prompt_logprobs');
    const wantsPromptLogprobs = body['prompt_logprobs'] === true;
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
    if (sampler.slot !== null && sampler.weightsVersion !== sampler.slot.weightsVersion) {
      throw new HttpError(409, `sampler weights ${sampler.modelPath ?? '(temporary snapshot)'} are stale: the weights changed after they were saved, and this server keeps only each model's current weights; save weights for the sampler again`, 'sampling_session_id');
    }
    return this.run('sample', () =>
      this.options.lock.read(async () => {
        const sequences = await backend.sample({ promptTokens: prompt, params, n: numSamples });
        // Prompt log-probs: one per prompt token, undefined (null) for the first.
        const promptLogprobs = wantsPromptLogprobs ? (prompt.length > 1 ? [null, ...Array.from((await backend.forward([{ tokens: prompt, lossMask: new Float32Array(prompt.length - 1) }]))[0] ?? [])] : [null]) : null;
        const response: SampleResponseWire = {
          type: 'sample',
          sequences: sequences.map((sequence) => ({ stop_reason: sequence.finishReason === 'stop' ? 'stop' : 'length', tokens: sequence.tokens, logprobs: sequence.logprobs })),
          prompt_logprobs: promptLogprobs,
          topk_prompt_logprobs: null,
        };
        return response;
      }),
    );
  }
}

/** A checkpoint's file: `<model_id>.<name>`, or a bare name (saved before names were per model). */
const CHECKPOINT_FILE_PATTERN = /^[A-Za-z0-9_-]{1,255}(\.[A-Za-z0-9_-]{1,255})?$/;

/** The file of a model's checkpoint: `<model_id>.<name>`. Neither part may hold a ".", so no two pairs share a file. */
function checkpointFile(modelId: string, name: string): string {
  if (!CHECKPOINT_NAME_PATTERN.test(modelId)) throw new HttpError(400, `model id ${JSON.stringify(modelId)} may only use letters, digits, "_" and "-"`, 'path');
  return `${modelId}.${checkpointName(name)}`;
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
