/**
 * A Tinker server double as a `fetch` function, in two flavours built from the upstream sources:
 * `hosted` (the SDK's response models, thinking-machines-lab/tinker @ d595dc2) and `skyrl`
 * (NovaSky-AI/SkyRL @ a956457, skyrl/tinker/api.py and engine.py). It keeps sessions, models,
 * futures and checkpoints, answers forward_backward in JSON or protobuf, and injects faults. Every
 * request is recorded so tests can validate it against the SDK's schemas.
 */
import { tinkerLoss, type TinkerLossName } from '../../core/builtin-losses.js';
import type { FetchFunction } from '../tinker-client.js';
import { PROTOBUF_CONTENT_TYPE, decodeForwardBackwardRequest, encodeForwardBackwardOutput, encodeSampleResponse, type ForwardBackwardRequestWire } from '../tinker-proto.js';
import { decodeDatum, modelInputTokens, type ForwardBackwardOutputWire, type SampleResponseWire } from '../tinker-wire.js';

export type Flavour = 'hosted' | 'skyrl';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Parsed JSON body, or null for protobuf. */
  json: Record<string, unknown> | null;
  /** Raw protobuf body. */
  bytes: Uint8Array | null;
}

/** A fault: answer `status` instead of (`before`) or after (`after`: the work is done, the answer lost) handling a request. */
export interface Fault {
  path: string;
  status: number;
  when?: 'before' | 'after';
  body?: unknown;
  /** How many matching requests it hits; default 1. */
  times?: number;
}

export interface FakeTinkerOptions {
  flavour: Flavour;
  modelName?: string;
  /** The hosted answer to /client/config, or null for 404. */
  clientConfig?: Record<string, unknown> | null;
  /** Which metric names forward_backward and optim_step report. */
  metrics?: 'hosted' | 'skyrl-fsdp' | 'skyrl-jax';
  /** The second create_model of one server is refused (SkyRL's FSDP backend, one model). */
  singleModel?: boolean;
}

interface FakeModel {
  id: string;
  sessionId: string;
  loraRank: number;
  requests: number;
  loaded: boolean;
  bySeq: Map<number, { key: string; requestId: string }>;
}

/** Log-probability the double assigns to a target token: deterministic, depends on the model's update count. */
export const fakeLogprob = (token: number, steps: number) => -((token % 5) + 1) / 4 - steps / 100;

export class FakeTinker {
  readonly requests: RecordedRequest[] = [];
  readonly faults: Fault[] = [];
  readonly sessions = new Map<string, { expired: boolean }>();
  readonly models = new Map<string, FakeModel>();
  readonly checkpoints = new Set<string>();
  private readonly futures = new Map<string, { result?: unknown; error?: string; polls: number; pollsBeforeDone: number }>();
  private counter = 0;
  /** optim_steps applied (the double's "weights"). */
  steps = 0;
  /** Polls a future answers "not yet" before its result (408 on SkyRL, try_again on hosted). */
  pollsBeforeDone = 0;

  constructor(readonly options: FakeTinkerOptions) {}

  get modelName(): string {
    return this.options.modelName ?? 'Qwen/Qwen3-8B';
  }

  /** Ends a session as each server does: SkyRL unloads its models but heartbeats keep passing; hosted forgets it. */
  expire(sessionId: string): void {
    const session = this.sessions.get(sessionId);
    if (session) session.expired = true;
    for (const model of this.models.values()) if (model.sessionId === sessionId) model.loaded = false;
    if (this.options.flavour === 'hosted') this.sessions.delete(sessionId);
  }

  /** Requests to one path, in order. */
  sent(path: string): RecordedRequest[] {
    return this.requests.filter((request) => request.path === path);
  }

  readonly fetch: FetchFunction = async (input, init) => {
    const path = new URL(input).pathname.replace(/^\/api\/v1/, '');
    const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
    const raw = init.body;
    const isProto = (headers['content-type'] ?? '').includes(PROTOBUF_CONTENT_TYPE);
    const bytes = isProto ? (raw as Uint8Array) : null;
    const json = !isProto && typeof raw === 'string' ? (JSON.parse(raw) as Record<string, unknown>) : null;
    this.requests.push({ method: init.method ?? 'GET', path, headers, json, bytes });
    const fault = this.faults.find((candidate) => candidate.path === path && (candidate.times ?? 1) > 0);
    if (fault) fault.times = (fault.times ?? 1) - 1;
    if (fault && (fault.when ?? 'before') === 'before') return reply(fault.status, 'body' in fault ? fault.body : { detail: `injected ${fault.status}` });
    const answer = this.route(path, json ?? {}, bytes, headers);
    if (fault) return reply(fault.status, 'body' in fault ? fault.body : { detail: `injected ${fault.status}` });
    return answer;
  };

  private id(prefix: string): string {
    return `${prefix}${++this.counter}`;
  }

  private future(result: unknown, error?: string): Record<string, unknown> {
    const requestId = String(++this.counter);
    this.futures.set(requestId, { ...(error === undefined ? { result } : { error }), polls: 0, pollsBeforeDone: this.pollsBeforeDone });
    // SkyRL's FutureResponse carries future_id and status too (api.py @ a956457).
    return this.options.flavour === 'skyrl' ? { future_id: requestId, status: 'pending', request_id: requestId } : { request_id: requestId };
  }

  private model(modelId: unknown): FakeModel | Response {
    const model = this.models.get(String(modelId));
    if (!model) return reply(404, { detail: 'Model not found' });
    return model;
  }

  /** SkyRL de-duplicates (model, seq_id): the same request again gets the same future, another one a 409. */
  private dedupe(model: FakeModel, seqId: unknown, key: string, make: () => Record<string, unknown>): Response {
    if (typeof seqId !== 'number') return reply(200, make());
    const previous = model.bySeq.get(seqId);
    if (previous) {
      if (previous.key !== key) return reply(409, { detail: 'Training request sequence number was reused' });
      return reply(200, { request_id: previous.requestId });
    }
    const future = make();
    model.bySeq.set(seqId, { key, requestId: future['request_id'] as string });
    return reply(200, future);
  }

  /** A request for an unloaded model fails as SkyRL's engine fails it (engine.py @ a956457). */
  private work(model: FakeModel, result: () => unknown): { result?: unknown; error?: string } {
    if (!model.loaded) return { error: `Model ${model.id} not loaded (likely stale request from previous server)` };
    try {
      return { result: result() };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  }

  private route(path: string, body: Record<string, unknown>, bytes: Uint8Array | null, headers: Record<string, string>): Response {
    const skyrl = this.options.flavour === 'skyrl';
    switch (path) {
      case '/client/config':
        if (skyrl) return reply(200, { pjwt_auth_enabled: false });
        if (this.options.clientConfig === null) return reply(404, { detail: 'Not Found' });
        return reply(200, this.options.clientConfig ?? { pjwt_auth_enabled: false, proto_compress_fwdbwd: false, fwdbwd_max_chunk_len: 1024, fwdbwd_max_chunk_bytes_count: 5_000_000 });
      case '/get_server_capabilities':
        return reply(200, { supported_models: [skyrl ? { model_name: this.modelName } : { model_name: this.modelName, max_context_length: 32768 }] });
      case '/create_session': {
        const sessionId = this.id('session_');
        this.sessions.set(sessionId, { expired: false });
        return reply(200, { type: 'create_session', session_id: sessionId });
      }
      case '/session_heartbeat':
        return this.sessions.has(String(body['session_id'])) ? reply(200, { type: 'session_heartbeat' }) : reply(404, { detail: 'Session not found' });
      case '/create_model': {
        const session = this.sessions.get(String(body['session_id']));
        if (!session) return reply(404, { detail: 'Session not found' });
        if (this.options.singleModel && [...this.models.values()].some((model) => model.loaded)) {
          return reply(200, this.future(undefined, 'this backend serves one model; a second (e.g. a KL reference) needs the Megatron backend'));
        }
        const modelId = this.id('model_');
        const lora = body['lora_config'] as { rank: number };
        this.models.set(modelId, { id: modelId, sessionId: String(body['session_id']), loraRank: lora.rank, requests: 0, loaded: true, bySeq: new Map() });
        return reply(200, { ...this.future({ model_id: modelId, type: 'create_model' }), model_id: modelId });
      }
      case '/unload_model': {
        const model = this.model(body['model_id']);
        if (model instanceof Response) return model;
        model.loaded = false;
        return reply(200, this.future({ model_id: model.id, type: 'unload_model' }));
      }
      case '/forward':
      case '/forward_backward': {
        let request: Record<string, unknown>;
        let forwardOnly = path === '/forward';
        if (bytes) {
          const decoded = decodeForwardBackwardRequest(bytes);
          request = decoded.request as unknown as Record<string, unknown>;
          forwardOnly = decoded.forwardOnly;
        } else request = { ...body, forward_backward_input: body['forward_backward_input'] ?? body['forward_input'] };
        const model = this.model(request['model_id']);
        if (model instanceof Response) return model;
        const input = request['forward_backward_input'] as ForwardBackwardRequestWire['forward_backward_input'];
        return this.dedupe(model, request['seq_id'], JSON.stringify(input) + String(forwardOnly), () => {
          model.requests++;
          const outcome = this.work(model, () => this.lossOutput(input));
          return this.future(outcome.result, outcome.error);
        });
      }
      case '/optim_step': {
        const model = this.model(body['model_id']);
        if (model instanceof Response) return model;
        return this.dedupe(model, body['seq_id'], JSON.stringify(body['adam_params']), () => {
          model.requests++;
          const outcome = this.work(model, () => {
            this.steps++;
            const metrics = this.options.metrics === 'skyrl-fsdp' || this.options.metrics === 'skyrl-jax' ? { 'skyrl.ai/grad_norm': 0.75 } : {};
            return { metrics, type: 'optim_step' };
          });
          return this.future(outcome.result, outcome.error);
        });
      }
      case '/save_weights': {
        const model = this.model(body['model_id']);
        if (model instanceof Response) return model;
        const key = `${model.id}/${String(body['path'])}`;
        // SkyRL: a taken name is 409 at submission (create_checkpoint); hosted honours overwrite.
        if (this.checkpoints.has(key) && (skyrl || body['overwrite'] !== true)) return reply(409, { detail: `Checkpoint '${String(body['path'])}' already exists for model '${model.id}'` });
        this.checkpoints.add(key);
        model.requests++;
        const outcome = this.work(model, () => ({ path: `tinker://${model.id}/weights/${String(body['path'])}`, type: 'save_weights' }));
        return reply(200, this.future(outcome.result, outcome.error));
      }
      case '/save_weights_for_sampler': {
        const model = this.model(body['model_id']);
        if (model instanceof Response) return model;
        model.requests++;
        const temporary = body['path'] === undefined || body['path'] === null;
        const name = temporary ? `ss${String(body['sampling_session_seq_id'])}_seq${String(body['seq_id'])}` : String(body['path']);
        if (!temporary) this.checkpoints.add(`${model.id}/sampler/${name}`);
        const outcome = this.work(model, () => (temporary ? { path: null, sampling_session_id: this.id('sampling_'), type: 'save_weights_for_sampler' } : { path: `tinker://${model.id}/sampler_weights/${name}`, type: 'save_weights_for_sampler' }));
        return reply(200, this.future(outcome.result, outcome.error));
      }
      case '/load_weights': {
        const model = this.model(body['model_id']);
        if (model instanceof Response) return model;
        if (model.requests > 0) return reply(400, { detail: `LoadWeights is not permitted with seq_id ${String(body['seq_id'])}` });
        model.requests++;
        const outcome = this.work(model, () => ({ path: body['path'], model_id: model.id, type: 'load_weights' }));
        return reply(200, this.future(outcome.result, outcome.error));
      }
      case '/create_sampling_session':
        return reply(200, { type: 'create_sampling_session', sampling_session_id: this.id('sampling_') });
      case '/asample': {
        const prompt = modelInputTokens(body['prompt'], 'prompt');
        const params = body['sampling_params'] as { max_tokens: number };
        const count = (body['num_samples'] as number | undefined) ?? 1;
        const sequences = Array.from({ length: count }, (_, i) => {
          const tokens = Array.from({ length: params.max_tokens }, (_, t) => (prompt.length + t + i) % 50);
          return { stop_reason: 'length' as const, tokens, logprobs: tokens.map((token) => fakeLogprob(token, this.steps)) };
        });
        const result: SampleResponseWire = { type: 'sample', sequences, prompt_logprobs: null, topk_prompt_logprobs: null };
        return reply(200, this.future(result));
      }
      case '/retrieve_future':
        return this.retrieve(String(body['request_id']), (headers['accept'] ?? '').includes(PROTOBUF_CONTENT_TYPE));
      default:
        return reply(404, { detail: 'Not Found' });
    }
  }

  private lossOutput(input: ForwardBackwardRequestWire['forward_backward_input']): ForwardBackwardOutputWire {
    const decoded = input.data.map((datum, i) => decodeDatum(datum, `data[${i}]`));
    const logprobs = decoded.map(({ datum }) => Float32Array.from(datum.tokens.slice(1), (token) => fakeLogprob(token, this.steps)));
    const loss = tinkerLoss(input.loss_fn as TinkerLossName, decoded.map((d) => d.inputs), input.loss_fn_config ?? {})(logprobs).loss;
    const metrics: Record<string, number> =
      this.options.metrics === 'skyrl-jax' ? {} : this.options.metrics === 'skyrl-fsdp' ? { 'total_loss:sum': loss, 'pg_loss:sum': loss } : { 'loss:sum': loss };
    return { loss_fn_output_type: 'ArrayRecord', loss_fn_outputs: logprobs.map((row) => ({ logprobs: { data: Array.from(row), dtype: 'float32', shape: [row.length] } })), metrics };
  }

  private retrieve(requestId: string, protobuf: boolean): Response {
    const future = this.futures.get(requestId);
    if (!future) return reply(404, { detail: 'Future not found' });
    if (future.polls++ < future.pollsBeforeDone) {
      return this.options.flavour === 'skyrl' ? reply(408, { detail: 'Timeout waiting for result' }) : reply(200, { type: 'try_again', request_id: requestId, queue_state: 'active' });
    }
    if (future.error !== undefined) {
      // SkyRL: 400 {detail}; hosted: 200 {error, category} (api_future_impl.py @ d595dc2).
      return this.options.flavour === 'skyrl' ? reply(400, { detail: future.error }) : reply(200, { error: future.error, category: 'user' });
    }
    const result = future.result as Record<string, unknown>;
    if (protobuf && Array.isArray(result['loss_fn_outputs'])) return protoReply(encodeForwardBackwardOutput(result as unknown as ForwardBackwardOutputWire));
    if (protobuf && Array.isArray(result['sequences'])) return protoReply(encodeSampleResponse(result as unknown as SampleResponseWire));
    return reply(200, result);
  }
}

function reply(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function protoReply(bytes: Uint8Array): Response {
  return new Response(bytes, { status: 200, headers: { 'content-type': PROTOBUF_CONTENT_TYPE } });
}
