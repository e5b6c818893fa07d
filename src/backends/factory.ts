/**
 * The one place that turns an engine or sandbox name into a running object: SamplingEngines for
 * `solve`, `eval` and the benches, PolicyBackends for `train` and `serve`, CodeExecutors for all of
 * them. Commands parse flags and call these; none wires a backend of its own.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InputError, UnsupportedError } from '../core/errors.js';
import type { CodeExecutor } from '../core/execution.js';
import type { PolicyBackend } from '../core/policy.js';
import type { SamplingEngine } from '../core/sampling.js';
import type { Tokenizer } from '../core/tokenizer.js';
import { LlamaCppServerEngine } from '../engines/llamacpp-server.js';
import { OllamaEngine } from '../engines/ollama.js';
import { OpenAICompatibleEngine } from '../engines/openai-compatible.js';
import { createTinkerPolicy } from '../engines/tinker-policy.js';
import { createSandboxExecutor, SandboxFusionExecutor } from '../interpreter/index.js';
import { createEmbeddedPolicy, createEmbeddedPolicyForTokenizer, DEFAULT_CHECKPOINT_PATH, loadEmbeddedPolicy } from '../model/index.js';
import { HfTokenizer, loadHfTokenizer, loadHfTokenizerFromHub } from '../tokenizers/index.js';
import { EngineRequestError } from '../engines/http-retry.js';
import { fetchServedModel, type ServedModel } from '../engines/served-model.js';
import { openLlamaCppEngine } from './llamacpp-in-process.js';
import { formatEngineSpec, type EngineSpec, type SandboxSpec } from './spec.js';

type Environment = Readonly<Record<string, string | undefined>>;

export interface EngineOptions {
  /** Served model name (OpenAI-compatible, Ollama) or base model (Tinker). */
  model?: string;
  /** Tokenizer folder or Hub id (default: `model`); server engines need one, the embedded model has its own. */
  tokenizer?: string;
  /** `tokens` (default): exact ids; `text`: decoded text, re-encoded (not token-exact). */
  wire?: 'tokens' | 'text';
  /** The user asked for `wire` (rather than taking the default): an engine that cannot honour it refuses. */
  wireExplicit?: boolean;
  /** The server's prompt + completion limit in tokens, when it cannot be asked. */
  contextWindow?: number;
  /** Tinker: LoRA rank of the trained model (default 32). */
  loraRank?: number;
  /** Tinker: `reference` for a frozen second model (a KL term), so a refusal says what it was for. */
  role?: 'policy' | 'reference';
  /** Embedded / in-process engines: matmul threads. */
  threads?: 1 | 2;
  /** Embedded: where `save` writes checkpoints. */
  checkpointDir?: string;
  /** Embedded policy for `serve`: fresh random weights instead of a checkpoint. */
  randomInit?: boolean;
  /** Embedded with `randomInit`: the context window (default the embedded model's 384). */
  contextLength?: number;
  /** Embedded: the checkpoint's weights only, with fresh optimizer moments (the start of an RL run). */
  freshOptimizer?: boolean;
  /** API keys (OPENAI_API_KEY, TINKER_API_KEY) and Hub settings (HF_ENDPOINT, HF_TOKEN); default process.env. */
  env?: Environment;
  /** Ask a server engine once, before any rollout, whether it can do what its mode needs (default true). */
  verify?: boolean;
  /** Progress while a model loads (in-process engines), as a fraction in [0, 1]. */
  onLoadProgress?: (fraction: number) => void;
}

export interface OpenedEngine {
  spec: EngineSpec;
  engine: SamplingEngine;
  tokenizer: Tokenizer;
  /** The Hugging Face tokenizer behind `tokenizer`, when there is one (chat templates). */
  chatTokenizer: HfTokenizer | null;
  /**
   * The prompt format the model was trained on, when it has one: `tasks` is the generated tasks' compact
   * prompt of the embedded model. Null: the caller picks (chat template or raw text).
   */
  trainedPromptFormat: 'tasks' | null;
  /** What a run records about the engine (JSON). */
  description: Record<string, unknown>;
  close(): Promise<void>;
}

export interface OpenedPolicy {
  spec: EngineSpec;
  backend: PolicyBackend;
  tokenizer: Tokenizer;
  description: Record<string, unknown>;
  close(): Promise<void>;
}

/** A tokenizer folder (tokenizer.json + tokenizer_config.json) or a Hub id (`owner/name`, cached). */
export async function resolveTokenizer(spec: string, env: Environment = process.env): Promise<HfTokenizer> {
  if (existsSync(spec)) return loadHfTokenizer(spec);
  if (/^[\w.-]+\/[\w.-]+$/.test(spec)) {
    return loadHfTokenizerFromHub(spec, {
      cacheDir: join(homedir(), '.cache', 'cir', 'tokenizers'),
      ...(env['HF_ENDPOINT'] ? { endpoint: env['HF_ENDPOINT'] } : {}),
      ...(env['HF_TOKEN'] ? { token: env['HF_TOKEN'] } : {}),
    });
  }
  throw new InputError('not a folder and not a Hub id (owner/name)', spec);
}

function requireModel(spec: EngineSpec, options: EngineOptions, flag = '--model'): string {
  if (!options.model) throw new InputError(`${formatEngineSpec(spec)} needs the served model's name`, flag);
  return options.model;
}

/**
 * The server model's tokenizer: `--tokenizer` (or the model name as a Hub id), else what a `cir serve`
 * states about its model (GET /cir/v1/model_info), which also gives its context window and prompt format.
 */
async function serverTokenizer(spec: EngineSpec, options: EngineOptions): Promise<{ tokenizer: HfTokenizer; served: ServedModel | null }> {
  if (options.tokenizer === undefined) {
    const url = spec.kind === 'openai' ? spec.endpoints[0] : spec.kind === 'tinker' || spec.kind === 'llamacpp-server' ? spec.url : undefined;
    const env = options.env ?? process.env;
    const apiKey = spec.kind === 'tinker' ? env['TINKER_API_KEY'] : env['OPENAI_API_KEY'];
    // An unreachable server states nothing here; the engine's own requests report it.
    const served = url !== undefined ? await fetchServedModel(url, apiKey ? { apiKey } : {}).catch((error: unknown) => (error instanceof EngineRequestError && error.kind === 'connection' ? null : Promise.reject(error))) : null;
    if (served) return { tokenizer: served.tokenizer, served };
    if (options.model === undefined && spec.kind === 'openai') requireModel(spec, options);
  }
  const source = options.tokenizer ?? options.model;
  if (!source) throw new InputError(`${formatEngineSpec(spec)} needs the model's tokenizer (a folder or Hub id)`, '--tokenizer');
  return { tokenizer: await resolveTokenizer(source, options.env ?? process.env), served: null };
}

/** The embedded model; `options.tokenizer` is then its vocabulary (a Hugging Face tokenizer), not a server's. */
async function embeddedPolicy(checkpoint: string | null, options: EngineOptions) {
  const vocabulary = options.tokenizer !== undefined ? await resolveTokenizer(options.tokenizer, options.env ?? process.env) : undefined;
  const policyOptions = {
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    ...(options.checkpointDir !== undefined ? { checkpointDir: options.checkpointDir } : {}),
    ...(vocabulary ? { tokenizer: vocabulary } : {}),
  };
  const shape = options.contextLength !== undefined ? { contextLength: options.contextLength } : {};
  if (options.randomInit) return vocabulary ? createEmbeddedPolicyForTokenizer(vocabulary, shape, policyOptions) : createEmbeddedPolicy(shape, policyOptions);
  const path = checkpoint ?? DEFAULT_CHECKPOINT_PATH;
  if (!existsSync(path)) throw new InputError('checkpoint folder not found (train one with `cir pretrain` or `cir train`)', path);
  const policy = await loadEmbeddedPolicy(path, policyOptions);
  if (options.freshOptimizer) policy.resetOptimizer();
  return policy;
}

async function tinkerPolicy(spec: Extract<EngineSpec, { kind: 'tinker' }>, options: EngineOptions, modelFlag: string) {
  const baseModel = requireModel(spec, options, modelFlag);
  const { tokenizer, served } = await serverTokenizer(spec, options);
  const apiKey = (options.env ?? process.env)['TINKER_API_KEY'];
  const contextWindow = options.contextWindow ?? served?.contextWindow;
  const policy = await createTinkerPolicy({
    baseUrl: spec.url,
    baseModel,
    tokenizer,
    ...(apiKey ? { apiKey } : {}),
    ...(contextWindow !== undefined ? { contextWindow } : {}),
    ...(options.loraRank !== undefined ? { loraRank: options.loraRank } : {}),
    ...(options.role !== undefined ? { role: options.role } : {}),
  });
  return { policy, tokenizer, baseModel };
}

/** Opens the engine `spec` names for sampling (solve, eval, benches). */
export async function openSamplingEngine(spec: EngineSpec, options: EngineOptions = {}): Promise<OpenedEngine> {
  const env = options.env ?? process.env;
  switch (spec.kind) {
    case 'embedded': {
      const policy = await embeddedPolicy(spec.checkpoint, options);
      return {
        spec,
        engine: policy,
        tokenizer: policy.tokenizer,
        // Over a Hugging Face vocabulary the model has that tokenizer's chat template and no trained format.
        chatTokenizer: policy.tokenizer instanceof HfTokenizer ? policy.tokenizer : null,
        trainedPromptFormat: policy.tokenizer instanceof HfTokenizer ? null : 'tasks',
        description: { engine: formatEngineSpec(spec), name: policy.name, checkpoint: spec.checkpoint ?? 'warm-start', tokenizer: policy.tokenizer.name, wire: 'tokens' },
        close: () => policy.close(),
      };
    }
    case 'openai': {
      const { tokenizer, served } = await serverTokenizer(spec, options);
      const model = options.model ?? served?.model ?? requireModel(spec, options);
      const wire = options.wire ?? 'tokens';
      // A cir server states its context window: requests are bounded to it without --context-window.
      const contextWindow = options.contextWindow ?? served?.contextWindow;
      const engine = new OpenAICompatibleEngine({
        endpoints: spec.endpoints,
        model,
        mode: wire,
        tokenizer,
        ...(contextWindow !== undefined ? { contextWindow } : {}),
        ...(env['OPENAI_API_KEY'] ? { apiKey: env['OPENAI_API_KEY'] } : {}),
      });
      if (options.verify !== false) await engine.verifyTokenIds();
      return {
        spec,
        engine,
        tokenizer,
        chatTokenizer: served?.promptFormat === 'tasks' ? null : tokenizer,
        trainedPromptFormat: served?.promptFormat === 'tasks' ? 'tasks' : null,
        description: { engine: formatEngineSpec(spec), name: engine.name, endpoints: spec.endpoints, model, tokenizer: tokenizer.name, wire, ...(served ? { tokenizerFrom: 'server' } : {}) },
        close: () => Promise.resolve(),
      };
    }
    case 'llamacpp-server': {
      const { tokenizer } = await serverTokenizer(spec, options);
      const engine = new LlamaCppServerEngine({ url: spec.url, ...(options.contextWindow !== undefined ? { contextWindow: options.contextWindow } : {}) });
      if (options.verify !== false) await engine.verify(tokenizer.eosTokenId);
      return {
        spec,
        engine,
        tokenizer,
        chatTokenizer: tokenizer,
        trainedPromptFormat: null,
        description: { engine: formatEngineSpec(spec), name: engine.name, tokenizer: tokenizer.name, wire: 'tokens', contextWindow: engine.contextWindow },
        close: () => Promise.resolve(),
      };
    }
    case 'ollama': {
      const model = requireModel(spec, options);
      const { tokenizer } = await serverTokenizer(spec, options);
      if (options.wire === 'tokens' && options.wireExplicit) {
        throw new UnsupportedError(`--engine ${formatEngineSpec(spec)} is text mode only: Ollama takes no token ids and returns none (use llamacpp-server: or an OpenAI-compatible server for exact tokens)`);
      }
      const engine = new OllamaEngine({ url: spec.url, model, tokenizer, ...(options.contextWindow !== undefined ? { contextWindow: options.contextWindow } : {}) });
      if (options.verify !== false) await engine.verify();
      return {
        spec,
        engine,
        tokenizer,
        chatTokenizer: tokenizer,
        trainedPromptFormat: null,
        description: { engine: formatEngineSpec(spec), name: engine.name, model, tokenizer: tokenizer.name, wire: 'text' },
        close: () => Promise.resolve(),
      };
    }
    case 'llamacpp':
      return openLlamaCppEngine(spec.file, options);
    case 'tinker': {
      const { policy, tokenizer, baseModel } = await tinkerPolicy(spec, options, '--model');
      return {
        spec,
        engine: policy,
        tokenizer,
        chatTokenizer: tokenizer,
        trainedPromptFormat: null,
        description: { engine: formatEngineSpec(spec), name: policy.name, model: baseModel, tokenizer: tokenizer.name, wire: 'tokens' },
        close: () => policy.close(),
      };
    }
  }
}

/** Opens a trainable policy (train, serve): the embedded model or a Tinker server. */
export async function openPolicyBackend(spec: EngineSpec, options: EngineOptions & { modelFlag?: string } = {}): Promise<OpenedPolicy> {
  switch (spec.kind) {
    case 'embedded': {
      const policy = await embeddedPolicy(spec.checkpoint, options);
      return {
        spec,
        backend: policy,
        tokenizer: policy.tokenizer,
        description: { engine: formatEngineSpec(spec), name: policy.name, checkpoint: options.randomInit ? 'random-init' : (spec.checkpoint ?? 'warm-start'), kernels: policy.kernelName },
        close: () => policy.close(),
      };
    }
    case 'tinker': {
      const { policy, tokenizer, baseModel } = await tinkerPolicy(spec, options, options.modelFlag ?? '--model');
      return { spec, backend: policy, tokenizer, description: { engine: formatEngineSpec(spec), name: policy.name, model: baseModel }, close: () => policy.close() };
    }
    default:
      throw new UnsupportedError(`--engine ${formatEngineSpec(spec)} can sample but not train: training needs embedded[:CHECKPOINT] or tinker:URL`);
  }
}

export interface ExecutorOptions {
  /** Snippets run at once (local sandbox processes, or requests in flight to SandboxFusion). */
  concurrency?: number;
}

/** Opens the interpreter `spec` names. */
export async function openExecutor(spec: SandboxSpec, options: ExecutorOptions = {}): Promise<CodeExecutor> {
  const concurrency = options.concurrency !== undefined ? { concurrency: options.concurrency } : {};
  if (spec.kind === 'local') return createSandboxExecutor(concurrency);
  return new SandboxFusionExecutor({ url: spec.url, ...concurrency });
}
